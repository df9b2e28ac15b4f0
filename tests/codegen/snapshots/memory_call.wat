(module
  (memory 1)
  (func $load (export "load") (param i32) (result i32)
    (i32.load offset=16 (local.get 0)))
  (func (export "store_const_addr") (param i64)
    (i64.store (i32.const 64) (local.get 0)))
  (func (export "call") (param i32) (result i32)
    (i32.add (call $load (local.get 0)) (i32.const 1))))
