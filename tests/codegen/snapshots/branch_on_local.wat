(module
  (func (export "sel") (param i32 i32) (result i32)
    (if (result i32) (local.get 0) (then (i32.xor (local.get 1) (i32.const -1))) (else (local.get 1))))
  (func (export "skip") (param i32) (result i32)
    (block $b (br_if $b (local.get 0)) (return (i32.const 7)))
    (i32.const 9)))
