(module
  (func (export "max") (param i32 i32) (result i32)
    (if (result i32) (i32.lt_s (local.get 0) (local.get 1))
      (then (local.get 1)) (else (local.get 0))))
  (func (export "select_lt_u") (param i64 i64) (result i64)
    (select (local.get 0) (local.get 1) (i64.lt_u (local.get 0) (local.get 1))))
  (func (export "count_down") (param i32) (result i32) (local i32)
    (loop $l
      (local.set 1 (i32.add (local.get 1) (i32.const 1)))
      (br_if $l (i32.ne (local.tee 0 (i32.sub (local.get 0) (i32.const 1))) (i32.const 0))))
    (local.get 1)))
