"""externref handles are collected when no table or global holds them."""

import pywinch as wasm


def test_externref_handles_are_collected(compiled, engine, store):
    m = compiled(engine, """(module
      (table $t (export "t") 4 externref)
      (global $g (export "g") (mut externref) (ref.null extern))
      (func (export "id") (param externref) (result externref) local.get 0)
      (func (export "keep") (param i32 externref) (table.set $t (local.get 0) (local.get 1)))
      (func (export "keep_g") (param externref) (global.set $g (local.get 0)))
      (func (export "get") (param i32) (result externref) (table.get $t (local.get 0))))""")
    ex = wasm.Instance(store, m, []).exports(store)
    kept = [object() for _ in range(3)]
    ex["keep"](store, 0, kept[0])
    ex["keep_g"](store, kept[1])
    host_table = wasm.Table(store, wasm.TableType(wasm.ValType.externref(), wasm.Limits(1, None)), kept[2])
    for i in range(50_000):
        obj = object()
        assert ex["id"](store, obj) is obj
    state = store._state
    assert len(state.externs) < 10_000, len(state.externs)
    assert ex["get"](store, 0) is kept[0]
    assert ex["g"].value(store) is kept[1]
    assert host_table.get(store, 0) is kept[2]
    # An object collected from the handle table comes back with a new handle.
    again = object()
    assert ex["id"](store, again) is again
