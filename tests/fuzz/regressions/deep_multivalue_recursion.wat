;; Found by fuzzing (seed 6, case 5536): self-recursion of a function with eight
;; results and eight locals, bounded by a smith-style fuel global at 1000 calls.
;; pywinch's frames (~530 bytes) exhausted the 512 KiB stack near depth 990 where
;; Cranelift's did not; how deep Wasm may recurse is implementation-defined, so
;; the harness now refills 250 per call and sets stack-only differences apart.
(module
  (global $fuel (mut i32) (i32.const 250))
  (global (export "calls") (mut i32) (i32.const 0))
  (func $r (export "r") (result f64 i64 f64 i64 f64 i64 i32 f64)
    (local f32 f64 f64 f64 i64 i64 f32 f64)
    (if (i32.eqz (global.get $fuel)) (then unreachable))
    (global.set $fuel (i32.sub (global.get $fuel) (i32.const 1)))
    (global.set 1 (i32.add (global.get 1) (i32.const 1)))
    (call $r)))
