"""Deep recursion traps on threads whose stack is smaller than the Wasm stack budget,
and a store moving between threads gets the right limit on each."""

import subprocess
import sys
import textwrap

from pywinch.runtime import stack

SCRIPT = textwrap.dedent(r"""
    import threading, pywinch as w
    s = w.Store(w.Engine())
    ex = w.Instance(s, w.Module(s.engine, '(module (func $f (export "f") (call $f))'
                                          ' (func (export "k") (result i32) i32.const 5))'), []).exports(s)
    out = []
    def deep():
        try:
            ex["f"](s)
        except w.Trap as t:
            out.append(t.message)
        out.append(ex["k"](s))
    threading.stack_size(200 * 1024)
    for _ in range(2):
        t = threading.Thread(target=deep); t.start(); t.join()
        deep()                       # the same store back on the main thread
    print(out)
""")


def test_recursion_traps_on_small_and_main_stacks():
    r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-800:]
    assert r.stdout.strip() == str(["call stack exhausted", 5] * 4)


def test_main_thread_stack_bounds_cover_the_stack_mapping():
    st = stack.thread_stack()
    if st is None:
        return                       # not glibc: the trampolines' default applies
    low, size = st
    with open("/proc/self/maps") as f:
        for line in f:
            if line.rstrip().endswith("[stack]"):
                lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
                assert low <= lo and hi <= low + size + 65536, (hex(low), size, line)
                break


def test_max_wasm_stack_scales_the_recursion_depth():
    import pywinch as w
    wat = ('(module (global $d (export "d") (mut i32) (i32.const 0))'
           ' (func $f (export "f") (global.set $d (i32.add (global.get $d) (i32.const 1))) (call $f)))')
    depths = []
    for size in (64 * 1024, 512 * 1024, 2 * 1024 * 1024):
        cfg = w.Config()
        cfg.max_wasm_stack = size
        engine = w.Engine(cfg)
        store = w.Store(engine)
        ex = w.Instance(store, w.Module(engine, wat), []).exports(store)
        try:
            ex["f"](store)
        except w.Trap as t:
            assert t.code == w.TrapCode.STACK_OVERFLOW
        depths.append(ex["d"].value(store))
    assert depths[0] * 6 < depths[1] < depths[2] / 3, depths


def test_a_store_busy_in_another_thread_is_refused():
    import threading
    import pywinch as w
    engine = w.Engine()
    store = w.Store(engine)
    i32 = w.ValType.i32()
    started, release, seen = threading.Event(), threading.Event(), []

    def block():
        started.set()
        release.wait(10)

    linker = w.Linker(engine)
    linker.define_func("env", "block", w.FuncType([], []), block)
    ex = linker.instantiate(store, w.Module(engine, '(module (import "env" "block" (func $b))'
                                                    ' (func (export "run") call $b)'
                                                    ' (func (export "one") (result i32) i32.const 1))')).exports(store)
    t = threading.Thread(target=lambda: ex["run"](store))
    t.start()
    started.wait(10)
    try:
        ex["one"](store)
    except w.WasmError as e:
        seen.append(str(e))
    release.set()
    t.join()
    assert seen and "another thread" in seen[0]
    assert ex["one"](store) == 1
