"""Traps and host exceptions across every boundary; nested calls; stack overflow."""

import threading
import time

import pytest

import pywinch as wasm
from pywinch import TrapCode

TRAPS = """(module
  (type $v (func))
  (table $t 2 funcref)
  (memory 1)
  (elem (i32.const 0) $ok)
  (func $ok)
  (func (export "unreachable") unreachable)
  (func (export "div0") (result i32) (i32.div_s (i32.const 1) (i32.const 0)))
  (func (export "overflow") (result i32) (i32.div_s (i32.const 0x80000000) (i32.const -1)))
  (func (export "conversion") (result i32) (i32.trunc_f32_s (f32.const nan)))
  (func (export "oob") (result i32) (i32.load (i32.const 65534)))
  (func (export "table_oob") (result funcref) (table.get $t (i32.const 5)))
  (func (export "undefined") (call_indirect (type $v) (i32.const 7)))
  (func (export "uninitialized") (call_indirect (type $v) (i32.const 1)))
  (func (export "mismatch") (result i32) (call_indirect (result i32) (i32.const 0)))
  (func $recurse (export "recurse") (param i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "fine") (result i32) i32.const 42))"""

CASES = [
    ("unreachable", TrapCode.UNREACHABLE, "unreachable"),
    ("div0", TrapCode.INTEGER_DIVISION_BY_ZERO, "integer divide by zero"),
    ("overflow", TrapCode.INTEGER_OVERFLOW, "integer overflow"),
    ("conversion", TrapCode.BAD_CONVERSION_TO_INTEGER, "invalid conversion to integer"),
    ("oob", TrapCode.HEAP_OUT_OF_BOUNDS, "out of bounds memory access"),
    ("table_oob", TrapCode.TABLE_OUT_OF_BOUNDS, "out of bounds table access"),
    ("undefined", TrapCode.UNDEFINED_ELEMENT, "undefined element"),
    ("uninitialized", TrapCode.INDIRECT_CALL_TO_NULL, "uninitialized element"),
    ("mismatch", TrapCode.BAD_SIGNATURE, "indirect call type mismatch"),
]


@pytest.fixture
def traps(compiled, engine, store):
    return wasm.Instance(store, compiled(engine, TRAPS), []).exports(store)


@pytest.mark.parametrize("name,code,message", CASES)
def test_each_trap(traps, store, name, code, message):
    with pytest.raises(wasm.Trap) as e:
        traps[name](store)
    assert e.value.code == code
    assert e.value.message == message
    assert e.value.frames, "a trap has at least the trapping frame"
    assert traps["fine"](store) == 42


def test_stack_overflow_is_a_trap(traps, store):
    for _ in range(3):
        with pytest.raises(wasm.Trap) as e:
            traps["recurse"](store, 0)
        assert e.value.code == TrapCode.STACK_OVERFLOW
        assert traps["fine"](store) == 42


def test_backtrace_names_and_offsets(compiled, engine, store):
    m = compiled(engine, """(module $mod
      (func $inner (export "inner") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
      (func $middle (param i32) (result i32) (call $inner (local.get 0)))
      (func (export "outer") (param i32) (result i32) (call $middle (local.get 0))))""")
    ex = wasm.Instance(store, m, []).exports(store)
    with pytest.raises(wasm.Trap) as e:
        ex["outer"](store, 0)
    frames = e.value.frames
    assert [f.func_name for f in frames] == ["inner", "middle", None]
    assert [f.func_index for f in frames] == [0, 1, 2]
    assert all(f.module_name == "mod" for f in frames)
    assert all(isinstance(f.module_offset, int) and f.module_offset > 0 for f in frames)
    assert frames[0].module_offset < frames[1].module_offset < frames[2].module_offset
    assert "wasm backtrace" in str(e.value) and "mod!inner" in str(e.value)


def _nesting(compiled, engine, store):
    """Host 'down' calls Wasm 'descend' again until the depth runs out."""
    i32 = wasm.ValType.i32()
    linker = wasm.Linker(engine)
    state = {}

    def down(n):
        action = state.get("action")
        if n == 0:
            if action == "raise":
                raise ValueError("deep")
            return 0 if action != "trap" else state["ex"]["div"](store, 0)
        return state["ex"]["descend"](store, n - 1) + 1

    linker.define_func("env", "down", wasm.FuncType([i32], [i32]), down)
    m = compiled(engine, """(module (import "env" "down" (func $down (param i32) (result i32)))
      (func (export "descend") (param i32) (result i32) (i32.add (call $down (local.get 0)) (i32.const 1)))
      (func (export "div") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0))))""")
    ex = linker.instantiate(store, m).exports(store)
    state["ex"] = ex
    return ex, state


def test_nested_calls_depth_120(compiled, engine, store):
    ex, state = _nesting(compiled, engine, store)
    assert ex["descend"](store, 120) == 2 * 120 + 1
    assert ex["descend"](store, 3) == 7


def test_host_exception_crosses_nested_boundaries(compiled, engine, store):
    ex, state = _nesting(compiled, engine, store)
    state["action"] = "raise"
    with pytest.raises(ValueError, match="deep"):
        ex["descend"](store, 100)
    state["action"] = "trap"
    with pytest.raises(wasm.Trap) as e:
        ex["descend"](store, 100)
    assert e.value.code == TrapCode.INTEGER_DIVISION_BY_ZERO
    state["action"] = None
    assert ex["descend"](store, 10) == 21


def test_exceptions_keep_their_type_and_store_stays_usable(compiled, engine, store):
    class Custom(Exception):
        pass

    def boom():
        raise Custom("x")

    f = wasm.Func(store, wasm.FuncType([], []), boom)
    m = compiled(engine, '(module (import "" "f" (func $f)) (func (export "g") call $f) '
                         '(func (export "k") (result i32) i32.const 3))')
    ex = wasm.Instance(store, m, [f]).exports(store)
    for _ in range(5):
        with pytest.raises(Custom):
            ex["g"](store)
    with pytest.raises(Custom):
        f(store)                       # a host Func called from Python directly
    assert ex["k"](store) == 3


def test_keyboard_interrupt_from_host_propagates(compiled, engine, store):
    def stop():
        raise KeyboardInterrupt

    f = wasm.Func(store, wasm.FuncType([], []), stop)
    m = compiled(engine, '(module (import "" "f" (func $f)) (func (export "g") call $f))')
    g = wasm.Instance(store, m, [f]).exports(store)["g"]
    with pytest.raises(KeyboardInterrupt):
        g(store)


def test_start_function_trap(compiled, engine, store):
    m = compiled(engine, '(module (func $s unreachable) (start $s))')
    with pytest.raises(wasm.Trap) as e:
        wasm.Instance(store, m, [])
    assert e.value.code == TrapCode.UNREACHABLE
    ok = compiled(engine, '(module (global $g (export "g") (mut i32) (i32.const 0))'
                          ' (func $s (global.set $g (i32.const 5))) (start $s))')
    assert wasm.Instance(store, ok, []).exports(store)["g"].value(store) == 5


def test_link_errors(compiled, engine, store):
    m = compiled(engine, '(module (import "env" "f" (func (param i32))) (import "env" "m" (memory 2)))')
    linker = wasm.Linker(engine)
    with pytest.raises(wasm.LinkError, match="unknown import"):
        linker.instantiate(store, m)
    linker.define_func("env", "f", wasm.FuncType([wasm.ValType.i64()], []), lambda x: None)
    linker.define(store, "env", "m", wasm.Memory(store, wasm.MemoryType(wasm.Limits(2, None))))
    with pytest.raises(wasm.LinkError, match="incompatible import type"):
        linker.instantiate(store, m)
    linker.allow_shadowing = True
    linker.define_func("env", "f", wasm.FuncType([wasm.ValType.i32()], []), lambda x: None)
    linker.define(store, "env", "m", wasm.Memory(store, wasm.MemoryType(wasm.Limits(1, None))))
    with pytest.raises(wasm.LinkError, match="incompatible import type"):
        linker.instantiate(store, m)
    linker.define(store, "env", "m", wasm.Memory(store, wasm.MemoryType(wasm.Limits(3, 5))))
    linker.instantiate(store, m)
    with pytest.raises(wasm.TypeCheckError):
        wasm.Instance(store, m, [1, 2])
    with pytest.raises(wasm.LinkError):
        wasm.Instance(store, m, [])


def test_fuel(compiled):
    cfg = wasm.Config()
    cfg.consume_fuel = True
    engine = wasm.Engine(cfg)
    store = wasm.Store(engine)
    m = compiled(engine, '(module (func (export "spin") (loop (br 0))) (func (export "one") (result i32) i32.const 1))')
    ex = wasm.Instance(store, m, []).exports(store)
    store.set_fuel(100_000)
    with pytest.raises(wasm.Trap) as e:
        ex["spin"](store)
    assert e.value.code == TrapCode.OUT_OF_FUEL
    store.set_fuel(1000)
    assert ex["one"](store) == 1
    assert 0 < store.get_fuel() < 1000


def test_epoch_interrupt_from_another_thread(compiled):
    cfg = wasm.Config()
    cfg.epoch_interruption = True
    engine = wasm.Engine(cfg)
    store = wasm.Store(engine)
    m = compiled(engine, '(module (func (export "spin") (loop (br 0))))')
    spin = wasm.Instance(store, m, []).exports(store)["spin"]
    store.set_epoch_deadline(1)
    timer = threading.Timer(0.2, engine.increment_epoch)
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(wasm.Trap) as e:
        spin(store)
    assert e.value.code == TrapCode.INTERRUPT
    assert time.monotonic() - t0 < 10


CTRL_C = r"""
import os, signal, threading, time, pywinch as w
e = w.Engine(); s = w.Store(e)
ex = w.Instance(s, w.Module(e, '(module (func (export "spin") (loop (br 0)))'
                               ' (func (export "one") (result i32) i32.const 1))'), []).exports(s)
threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
try:
    ex["spin"](s)
    print("returned")
except KeyboardInterrupt:
    print("interrupted")
print(ex["one"](s))
time.sleep(0.2)
print("done")
"""


def test_ctrl_c_interrupts_a_running_call():
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", CTRL_C], capture_output=True, text=True, timeout=60)
    assert r.stdout.split() == ["interrupted", "1", "done"], r.stderr


def test_backtrace_matches_wasmtime(compiled, engine, store):
    wasmtime = pytest.importorskip("wasmtime")
    text = """(module
      (func $inner (param i32) (result i32) nop (i32.rem_s (i32.const 1) (local.get 0)))
      (func $middle (param i32) (result i32) (i32.add (i32.const 1) (call $inner (local.get 0))))
      (func (export "outer") (param i32) (result i32) (call $middle (local.get 0))))"""
    ours = wasm.Instance(store, compiled(engine, text), []).exports(store)["outer"]
    with pytest.raises(wasm.Trap) as e:
        ours(store, 0)
    ws = wasmtime.Store()
    theirs = wasmtime.Instance(ws, wasmtime.Module(ws.engine, text), []).exports(ws)["outer"]
    with pytest.raises(wasmtime.Trap) as t:
        theirs(ws, 0)
    key = lambda f: (f.func_index, f.module_offset, f.func_offset)
    assert [key(f) for f in e.value.frames] == [key(f) for f in t.value.frames]


CTRL_C_WORKER = r"""
import os, signal, threading, time, pywinch as w
cfg = w.Config(); cfg.epoch_interruption = True
e = w.Engine(cfg); s = w.Store(e)
spin = w.Instance(s, w.Module(e, '(module (func (export "spin") (loop (br 0))))'), []).exports(s)["spin"]
out = []
def worker():
    s.set_epoch_deadline(1)
    try:
        spin(s)
    except BaseException as exc:
        out.append(type(exc).__name__)
t = threading.Thread(target=worker); t.start()
time.sleep(0.3)
try:
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(2)
    print("main not interrupted")
except KeyboardInterrupt:
    print("main interrupted")
e.increment_epoch()
t.join()
print(out[0])
"""


def test_ctrl_c_spares_wasm_in_worker_threads():
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", CTRL_C_WORKER], capture_output=True, text=True, timeout=60)
    assert r.stdout.split() == ["main", "interrupted", "Trap"], (r.stdout, r.stderr)


def test_exceptions_through_every_trampoline_kind(compiled, engine, store):
    """native-form and array-form host callbacks, called from Wasm entered by the
    native (i32) and the array (i64/f64/multi-value) paths."""
    i32, i64, f64 = wasm.ValType.i32(), wasm.ValType.i64(), wasm.ValType.f64()

    class Boom(Exception):
        pass

    def fail(*args):
        raise Boom(args)

    linker = wasm.Linker(engine)
    linker.define_func("h", "native", wasm.FuncType([i32], [i32]), fail)
    linker.define_func("h", "array", wasm.FuncType([i64, f64], [i32, i64]), fail)
    m = compiled(engine, """(module
      (import "h" "native" (func $n (param i32) (result i32)))
      (import "h" "array" (func $a (param i64 f64) (result i32 i64)))
      (func (export "n_from_native") (param i32) (result i32) (call $n (local.get 0)))
      (func (export "n_from_array") (param i64) (result i32) (call $n (i32.wrap_i64 (local.get 0))))
      (func (export "a_from_native") (param i32) (result i32) (call $a (i64.extend_i32_s (local.get 0)) (f64.const 1)) drop)
      (func (export "a_from_array") (param f64) (result i32 i64) (call $a (i64.const 3) (local.get 0)))
      (func (export "ok") (param i64) (result i64 i64) (local.get 0) (local.get 0)))""")
    ex = linker.instantiate(store, m).exports(store)
    for name, arg, want in [("n_from_native", 1, (1,)), ("n_from_array", 2, (2,)),
                            ("a_from_native", 3, (3, 1.0)), ("a_from_array", 4.0, (3, 4.0))]:
        with pytest.raises(Boom) as e:
            ex[name](store, arg)
        assert e.value.args == (want,)
        assert ex["ok"](store, 9) == [9, 9]


def test_traps_pickle_with_code_and_frames(compiled, engine, store):
    import pickle
    f = wasm.Instance(store, compiled(engine, '(module (func $boom (export "f") unreachable))'), []).exports(store)["f"]
    with pytest.raises(wasm.Trap) as e:
        f(store)
    again = pickle.loads(pickle.dumps(e.value))
    assert (again.code, again.message, str(again)) == (e.value.code, e.value.message, str(e.value))
    assert [fr.func_name for fr in again.frames] == ["boom"]
    assert pickle.loads(pickle.dumps(wasm.ExitTrap(3))).code == 3


FIRST_TRAP = r"""
import pywinch as w
e = w.Engine()
m = w.Module(e, '(module (func $boom unreachable) (func $mid call $boom) (func (export "_start") call $mid))')
for _ in range(3):
    s = w.Store(e)
    try:
        w.Instance(s, m, []).exports(s)["_start"](s)
    except w.Trap as t:
        print([f.func_index for f in t.frames])
"""


def test_first_trap_of_a_process_has_its_whole_backtrace():
    """The outer Wasm frames must not be overwritten by the C stack Python uses
    on the way back from the trampoline (runtime.entry's stack gap)."""
    import subprocess
    import sys
    r = subprocess.run([sys.executable, "-c", FIRST_TRAP], capture_output=True, text=True, timeout=60)
    assert r.stdout.split("\n")[:3] == ["[0, 1, 2]"] * 3, (r.stdout, r.stderr)
