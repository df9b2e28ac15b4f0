(module
  ;; i8x16 shifts: 16-bit shift + byte mask; arithmetic via widening
  (func (export "shl8") (param v128 i32) (result v128) (i8x16.shl (local.get 0) (local.get 1)))
  (func (export "shl8c") (param v128) (result v128) (i8x16.shl (local.get 0) (i32.const 3)))
  (func (export "shr8s") (param v128 i32) (result v128) (i8x16.shr_s (local.get 0) (local.get 1)))
  (func (export "shr64s") (param v128 i32) (result v128) (i64x2.shr_s (local.get 0) (local.get 1)))
  (func (export "popcnt") (param v128) (result v128) (i8x16.popcnt (local.get 0)))
  (func (export "q15") (param v128 v128) (result v128) (i16x8.q15mulr_sat_s (local.get 0) (local.get 1)))
  (func (export "mul64") (param v128 v128) (result v128) (i64x2.mul (local.get 0) (local.get 1)))
  (func (export "ge_u") (param v128 v128) (result v128) (i32x4.ge_u (local.get 0) (local.get 1)))
  (func (export "extmul") (param v128 v128) (result v128) (i32x4.extmul_high_i16x8_u (local.get 0) (local.get 1)))
  (func (export "bitmask") (param v128) (result i32) (i16x8.bitmask (local.get 0))))
