"""Instantiate-and-drop cycles and traps keep resident memory flat.

CI runs PYWINCH_RSS_CYCLES (default 20,000) of each; the full figure is
``PYWINCH_RSS_CYCLES=100000 python -m pytest tests/sandbox/test_rss.py -s``,
which prints the resident set before and after."""

from __future__ import annotations

import gc
import os
import resource

import pywinch

CYCLES = int(os.environ.get("PYWINCH_RSS_CYCLES", "20000"))
WARMUP = 2000
SLACK = 4 << 20          # bytes of growth tolerated (allocator noise, interned caches)

MODULE = """(module
  (import "env" "host" (func $host (param i32) (result i32)))
  (memory (export "mem") 2 16) (table 8 funcref) (global $g (mut i64) (i64.const 5))
  (data (i32.const 100) "resident memory must stay flat")
  (func $f (export "f") (param i32) (result i32) (call $host (i32.add (local.get 0) (i32.const 1))))
  (elem (i32.const 0) $f $f)
  (func (export "touch") (i32.store (i32.const 70000) (i32.const 1)) (drop (memory.grow (i32.const 1))))
  (func (export "unreachable") unreachable)
  (func (export "oob") (drop (i32.load (i32.const 0x7fffffff))))
  (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (func (export "null") (call_indirect (param i32) (result i32) (i32.const 0) (i32.const 5)) drop)
  (func $rec (export "rec") (call $rec))
  (func (export "raise") (drop (call $host (i32.const -1)))))"""


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def host(x):
    if x == -1:
        raise ValueError("host refuses")
    return x * 2


def measure(step, n: int) -> tuple[int, int]:
    for _ in range(WARMUP):
        step()
    gc.collect()
    before = rss()
    for _ in range(n):
        step()
    gc.collect()
    after = rss()
    return before, after


def test_instantiate_and_drop_keeps_rss_flat():
    engine = pywinch.Engine()
    module = pywinch.Module(engine, MODULE)
    ty = pywinch.FuncType([pywinch.ValType.i32()], [pywinch.ValType.i32()])

    def step():
        store = pywinch.Store(engine)
        inst = pywinch.Instance(store, module, [pywinch.Func(store, ty, host)])
        ex = inst.exports(store)
        assert ex["f"](store, 1) == 4
        ex["touch"](store)      # dirty a page and grow: committed memory must be returned

    before, after = measure(step, CYCLES)
    print(f"\n{CYCLES} instantiate-and-drop cycles: RSS {before >> 10} KiB -> {after >> 10} KiB")
    assert after - before < SLACK, (before, after)


def test_traps_keep_rss_flat():
    engine = pywinch.Engine()
    store = pywinch.Store(engine)
    ty = pywinch.FuncType([pywinch.ValType.i32()], [pywinch.ValType.i32()])
    ex = pywinch.Instance(store, pywinch.Module(engine, MODULE), [pywinch.Func(store, ty, host)]).exports(store)
    calls = [(ex["unreachable"], (), pywinch.Trap), (ex["oob"], (), pywinch.Trap),
             (ex["div"], (0,), pywinch.Trap), (ex["null"], (), pywinch.Trap),
             (ex["raise"], (), ValueError)]
    counter = [0]

    def step():
        i = counter[0]
        counter[0] += 1
        fn, args, exc = calls[i % len(calls)] if i % 100 else (ex["rec"], (), pywinch.Trap)
        try:
            fn(store, *args)
        except exc:
            pass
        else:
            raise AssertionError("no trap")

    before, after = measure(step, CYCLES)
    print(f"\n{CYCLES} traps: RSS {before >> 10} KiB -> {after >> 10} KiB")
    assert after - before < SLACK, (before, after)
    assert ex["f"](store, 2) == 6
