"""Deep recursion traps with "call stack exhausted" and never crashes: plain, with large
frames, through call_indirect, through a host function (Wasm -> host -> Wasm ping-pong),
at instantiation (start function), and on threads with a roomy stack.  The store is
usable afterwards and the limit is the same on the next call (no leaked stack state)."""

from __future__ import annotations

import threading

import pytest

import pywinch
from pywinch import TrapCode

LOCALS = " ".join(["i64"] * 200)
REC = f"""(module
  (import "" "host" (func $host (param i32) (result i32)))
  (global $depth (export "depth") (mut i32) (i32.const 0))
  (type $t (func (param i32) (result i32)))
  (table 1 funcref) (elem (i32.const 0) $plain)
  (func $count (global.set $depth (i32.add (global.get $depth) (i32.const 1))))
  (func $plain (export "plain") (param i32) (result i32)
    (call $count) (i32.add (call $plain (local.get 0)) (i32.const 1)))
  (func $big (export "big") (param i32) (result i32) (local {LOCALS})
    (call $count) (local.set 3 (i64.const 7)) (i32.add (call $big (local.get 0)) (i32.wrap_i64 (local.get 3))))
  (func $multi (export "multi") (param i32) (result i32 i64 f64 f32 i32 i64)
    (call $count) (call $multi (local.get 0)))
  (func $ind (export "indirect") (param i32) (result i32)
    (call $count) (call_indirect (type $t) (local.get 0) (i32.const 0)))
  (func (export "pingpong") (param i32) (result i32)
    (call $count) (i32.add (call $host (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "reset") (global.set $depth (i32.const 0)))
  (func (export "one") (result i32) (i32.const 1)))"""


def setup(store):
    holder = {}

    def host(n):
        return holder["pingpong"](store, n)

    f = pywinch.Func(store, pywinch.FuncType([pywinch.ValType.i32()], [pywinch.ValType.i32()]), host)
    ex = pywinch.Instance(store, pywinch.Module(store.engine, REC), [f]).exports(store)
    holder["pingpong"] = ex["pingpong"]
    return ex


def depth_of(store, ex, name) -> int:
    ex["reset"](store)
    with pytest.raises(pywinch.Trap) as e:
        ex[name](store, 0)
    assert e.value.code == TrapCode.STACK_OVERFLOW, e.value
    return ex["depth"].value(store)


@pytest.mark.parametrize("name", ["plain", "big", "multi", "indirect", "pingpong"])
def test_recursion_traps_and_the_store_lives_on(store, name):
    ex = setup(store)
    first = depth_of(store, ex, name)
    assert first > 10
    assert ex["one"](store) == 1
    # The same depth again: the stack limit and entry state were restored by the trap.
    assert depth_of(store, ex, name) == first


def test_ping_pong_is_bounded_by_the_wasm_stack(store):
    """Host frames in between count against the same 512 KiB budget, so Python's own
    recursion limit is not what stops it."""
    ex = setup(store)
    n = depth_of(store, ex, "pingpong")
    assert 20 < n < 1000


def test_start_function_recursion(store):
    module = pywinch.Module(store.engine, "(module (func $f (call $f)) (start $f))")
    for _ in range(3):
        with pytest.raises(pywinch.Trap, match="call stack exhausted"):
            pywinch.Instance(store, module, [])


def test_max_wasm_stack_is_honoured():
    depths = []
    for size in (64 * 1024, 256 * 1024, 1024 * 1024):
        cfg = pywinch.Config()
        cfg.max_wasm_stack = size
        store = pywinch.Store(pywinch.Engine(cfg))
        ex = setup(store)
        depths.append(depth_of(store, ex, "plain"))
    assert 3.5 < depths[1] / depths[0] < 4.5 and 3.5 < depths[2] / depths[1] < 4.5, depths


def test_recursion_on_threads():
    """Each thread gets its own limit from its own entry: two threads at once, own stores."""
    threading.stack_size(8 << 20)
    results = {}

    def work(i):
        store = pywinch.Store(pywinch.Engine())
        ex = setup(store)
        results[i] = [depth_of(store, ex, "plain") for _ in range(3)]

    try:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        threading.stack_size(0)
    assert len(results) == 2
    assert all(len(set(v)) == 1 for v in results.values()), results
