(module
  (func (export "add_imm") (param i32) (result i32)
    (i32.add (local.get 0) (i32.const 5)))
  (func (export "folded") (result i64)
    (i64.mul (i64.add (i64.const 2) (i64.const 3)) (i64.const 7)))
  (func (export "shift_mask") (param i64) (result i64)
    (i64.shl (i64.and (local.get 0) (i64.const 255)) (i64.const 67))))
