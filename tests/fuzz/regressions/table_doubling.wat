;; Found by fuzzing (seed 2, case 295): a loop doubling a table with table.grow.
;; Wasmtime lets a table grow to 2^31 elements (and takes ~30 s), pywinch stops
;; at 10M; the harness now gives both stores the same table_elements limit
;; (2^20), under which both must stop at the same size.
(module
  (table (export "t") 1 funcref)
  (global $fuel (mut i32) (i32.const 100))
  (func (export "double") (result i32)
    (local $r i32)
    (loop $l
      (local.set $r (table.grow (ref.null func) (table.size)))
      (global.set $fuel (i32.sub (global.get $fuel) (i32.const 1)))
      (br_if $l (i32.and (i32.ne (local.get $r) (i32.const -1)) (i32.ne (global.get $fuel) (i32.const 0)))))
    (table.size)))
