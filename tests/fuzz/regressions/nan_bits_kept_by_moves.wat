;; NaN payloads: arithmetic may pick any (fuzzing met f32.min and f64.max of two NaNs
;; choosing differently in pywinch and Wasmtime, which the spec allows), but loads,
;; stores, copies, reinterpret, abs/neg/copysign, select and globals must keep the
;; exact bits.  Compared bit for bit with Wasmtime.
(module
  (memory (export "m") 1)
  (global $g (export "g") (mut f64) (f64.const 0))
  (func (export "f32bits") (param i32) (result i32)
    (f32.store (i32.const 8) (f32.reinterpret_i32 (local.get 0)))
    (i32.reinterpret_f32 (f32.load (i32.const 8))))
  (func (export "f64bits") (param i64) (result i64)
    (global.set $g (f64.reinterpret_i64 (local.get 0)))
    (i64.reinterpret_f64 (select (global.get $g) (f64.const 1) (i32.const 1))))
  (func (export "neg") (param i32) (result i32) (i32.reinterpret_f32 (f32.neg (f32.reinterpret_i32 (local.get 0)))))
  (func (export "abs") (param i64) (result i64) (i64.reinterpret_f64 (f64.abs (f64.reinterpret_i64 (local.get 0)))))
  (func (export "copysign") (param i32 i32) (result i32)
    (i32.reinterpret_f32 (f32.copysign (f32.reinterpret_i32 (local.get 0)) (f32.reinterpret_i32 (local.get 1)))))
  (func (export "ret") (param i32) (result f32) (f32.reinterpret_i32 (local.get 0))))
