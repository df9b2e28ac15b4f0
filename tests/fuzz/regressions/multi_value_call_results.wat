;; Found by fuzzing (seed 12, case 1776), then reduced by hand: a direct call to a
;; function with three or more results loses the results after the second (the
;; third comes back as a copy of the second, or as stack garbage).  Introduced by
;; 2725521 "codegen: cheaper calls"; see .agents/BUGS.md #4.
(module
  (func $g3 (result i32 i32 i64) (i32.const 7) (i32.const 8) (i64.const 511))
  (func $g5 (result f32 i64 i32 externref f32)
    (f32.const 1.5) (i64.const 511) (i32.const 1) (ref.null extern) (f32.const 1e13))
  (func $g4 (param i32) (result f64 i32 f32 i64)
    (f64.const 2.5) (local.get 0) (f32.const -0.5) (i64.extend_i32_s (local.get 0)))
  (func (export "three") (result i32 i32 i64) (call $g3))
  (func (export "five") (result f32 i64 i32 externref f32) (call $g5))
  (func (export "four") (param i32) (result f64 i32 f32 i64) (call $g4 (local.get 0)))
  (func (export "trunc_last") (result i32) (call $g5) (i32.trunc_f32_s) (return))
  (func (export "sum_three") (result i64) (local i64)
    (call $g3) (local.set 0) (i32.add) (i64.extend_i32_u) (local.get 0) (i64.add)))
