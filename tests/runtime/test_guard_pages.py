"""Guarded memories: unchecked accesses, the native fault handler, its chaining.

Each 32-bit memory reserves 8 GiB (runtime/memory.py); compiled code for an
engine with Config.signals_based_traps has no bounds checks and an
out-of-bounds access faults; runtime/faults.py turns the fault into a
HEAP_OUT_OF_BOUNDS trap, and passes any other fault to the previous handler.
"""

import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

import pywinch as wasm
from pywinch.errors import TrapCode
from pywinch.runtime import faults, memory

pytestmark = pytest.mark.skipif(not memory.GUARDED, reason="guarded memories need Linux x86-64")

GIB = 1 << 30

# (wat type, load op, store op, access size)
ACCESSES = [
    ("i32", "i32.load", "i32.store", 4), ("i64", "i64.load", "i64.store", 8),
    ("f32", "f32.load", "f32.store", 4), ("f64", "f64.load", "f64.store", 8),
    ("i32", "i32.load8_u", "i32.store8", 1), ("i32", "i32.load8_s", None, 1),
    ("i32", "i32.load16_u", "i32.store16", 2), ("i32", "i32.load16_s", None, 2),
    ("i64", "i64.load8_u", "i64.store8", 1), ("i64", "i64.load16_s", "i64.store16", 2),
    ("i64", "i64.load32_u", "i64.store32", 4), ("i64", "i64.load32_s", None, 4),
]


def _module_wat(offset=0):
    funcs = []
    for k, (t, ld, st, _size) in enumerate(ACCESSES):
        funcs.append(f'(func (export "ld{k}") (param i32) (result {t}) ({ld} offset={offset} (local.get 0)))')
        if st:
            funcs.append(f'(func (export "st{k}") (param i32) ({st} offset={offset} (local.get 0) ({t}.const 0)))')
    return f'(module (memory (export "mem") 1 4) {" ".join(funcs)}' \
        ' (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))'


@pytest.fixture(scope="module")
def engine():
    return wasm.Engine()


def _trap(fn, *args):
    with pytest.raises(wasm.Trap) as e:
        fn(*args)
    return e.value


def _no_checks(module):
    """The compiled code compares nothing with a memory's length (``cmp reg, [r14 + len]``;
    the stack and epoch checks compare through r11)."""
    import re
    from pywinch.isa.x64.disasm import disassemble
    return not any(re.match(r"cmp \w+, \[r14\+0x[0-9a-f]+\]", t) for _, _, t in disassemble(module.compiled.code))


def test_memories_are_guarded_and_the_handler_installed(engine):
    store = wasm.Store(engine)
    mem = wasm.Memory(store, wasm.MemoryType(wasm.Limits(1, 2)))
    lm = mem._mem
    assert lm.guarded and lm.reserved == 4 * GIB + memory.HEAP_GUARD
    assert faults.installed()
    assert mem.grow(store, 1) == 1
    with pytest.raises(wasm.WasmError):
        mem.grow(store, 1)                        # the declared maximum still holds


def test_code_for_guarded_memories_has_no_bounds_checks(engine):
    guarded = wasm.Module(engine, _module_wat())
    assert guarded.compiled.features  # compiled
    assert _no_checks(guarded)
    cfg = wasm.Config()
    cfg.signals_based_traps = False
    checked = wasm.Module(wasm.Engine(cfg), _module_wat())
    assert not _no_checks(checked)
    assert len(guarded.compiled.code) < len(checked.compiled.code)


@pytest.mark.parametrize("signals", [True, False])
def test_out_of_bounds_at_every_width(signals):
    cfg = wasm.Config()
    cfg.signals_based_traps = signals
    engine = wasm.Engine(cfg)
    store = wasm.Store(engine)
    inst = wasm.Instance(store, wasm.Module(engine, _module_wat()), [])
    x = inst.exports(store)
    length = 65536
    for k, (_t, _ld, st, size) in enumerate(ACCESSES):
        names = [f"ld{k}"] + ([f"st{k}"] if st else [])
        for name in names:
            f = x[name]
            f(store, length - size)                     # the last in-bounds address
            for bad in (length - size + 1, length, 0xFFFFFFFF, 0x80000000, 4 * GIB - size):
                assert _trap(f, store, bad).code == TrapCode.HEAP_OUT_OF_BOUNDS, (name, bad)
    # Past the memory, newly accessible after a grow, out of bounds again just past it.
    assert x["grow"](store, 1) == 1
    for k, (_t, _ld, st, size) in enumerate(ACCESSES):
        x[f"ld{k}"](store, 2 * length - size)
        assert _trap(x[f"ld{k}"], store, 2 * length - size + 1).code == TrapCode.HEAP_OUT_OF_BOUNDS


@pytest.mark.parametrize("offset", [0x7FFFFFF0, 0x80000000, 0xFFFFFFF0, 0xFFFFFFFF])
def test_offsets_near_4_gib(engine, offset):
    """Up to a disp32 the access is unchecked, beyond it explicitly checked."""
    store = wasm.Store(engine)
    inst = wasm.Instance(store, wasm.Module(engine, _module_wat(offset)), [])
    x = inst.exports(store)
    for k in range(len(ACCESSES)):
        for idx in (0, 1, 0xFFFFFFFF):
            assert _trap(x[f"ld{k}"], store, idx).code == TrapCode.HEAP_OUT_OF_BOUNDS


def test_constant_addresses(engine):
    wat = """(module (memory 1)
      (func (export "a") (result i32) (i32.load (i32.const 65532)))
      (func (export "b") (result i32) (i32.load (i32.const 65533)))
      (func (export "c") (result i32) (i32.load offset=0x7fff0000 (i32.const 0xffff)))
      (func (export "d") (result i32) (i32.load (i32.const -1)))
      (func (export "e") (i64.store (i32.const 65529) (i64.const 0x123456789abcdef)))
      (func (export "f") (i64.store (i32.const 65528) (i64.const 0x123456789abcdef))))"""
    store = wasm.Store(engine)
    x = wasm.Instance(store, wasm.Module(engine, wat), []).exports(store)
    assert x["a"](store) == 0
    x["f"](store)
    for name in "bcde":
        assert _trap(x[name], store).code == TrapCode.HEAP_OUT_OF_BOUNDS


def test_trap_frames_match_wasmtime(engine):
    """The backtrace names the faulting operator, as Wasmtime does."""
    import wasmtime
    wat = """(module (memory 1)
      (func $inner (param i32) (result i32) (i32.add (i32.const 1) (i32.load offset=8 (local.get 0))))
      (func (export "outer") (param i32) (result i32) (i32.mul (call $inner (local.get 0)) (i32.const 3))))"""
    store = wasm.Store(engine)
    f = wasm.Instance(store, wasm.Module(engine, wat), []).exports(store)["outer"]
    mine = _trap(f, store, 70000)
    ws = wasmtime.Store()
    wf = wasmtime.Instance(ws, wasmtime.Module(ws.engine, wat), []).exports(ws)["outer"]
    with pytest.raises(wasmtime.Trap) as e:
        wf(ws, 70000)
    theirs = e.value.frames
    assert [(fr.func_index, fr.module_offset) for fr in mine.frames] == \
        [(fr.func_index, fr.module_offset) for fr in theirs]


def test_imported_and_second_memories(engine):
    wat = """(module (import "env" "m" (memory 1))
      (func (export "ld") (param i32) (result i32) (i32.load (local.get 0)))
      (func (export "st") (param i32 i32) (i32.store (local.get 0) (local.get 1))))"""
    store = wasm.Store(engine)
    mem = wasm.Memory(store, wasm.MemoryType(wasm.Limits(1, 3)))
    x = wasm.Instance(store, wasm.Module(engine, wat), [mem]).exports(store)
    x["st"](store, 100, 7)
    assert x["ld"](store, 100) == 7
    assert _trap(x["ld"], store, 65533).code == TrapCode.HEAP_OUT_OF_BOUNDS
    mem.grow(store, 1)
    assert x["ld"](store, 65536) == 0
    assert _trap(x["st"], store, 0x20000, 1).code == TrapCode.HEAP_OUT_OF_BOUNDS


def test_wasm_on_threads_with_small_stacks(engine):
    module = wasm.Module(engine, _module_wat())
    results = []

    def run():
        try:
            store = wasm.Store(engine)
            x = wasm.Instance(store, module, []).exports(store)
            for _ in range(50):
                try:
                    x["ld0"](store, 70000)
                except wasm.Trap as e:
                    results.append(e.code)
        except BaseException as e:       # pragma: no cover - reported below
            results.append(e)

    old = threading.stack_size(256 * 1024)
    try:
        threads = [threading.Thread(target=run) for _ in range(4)]
    finally:
        threading.stack_size(old)
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [TrapCode.HEAP_OUT_OF_BOUNDS] * 200


def _vm_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def test_instantiations_keep_rss_and_address_space_flat(engine):
    module = wasm.Module(engine, _module_wat())
    n = int(os.environ.get("PYWINCH_INSTANTIATIONS", "100000"))

    def batch(k):
        for i in range(k):
            store = wasm.Store(engine)
            x = wasm.Instance(store, module, []).exports(store)
            if i % 1000 == 0:
                assert _trap(x["ld0"], store, 65536).code == TrapCode.HEAP_OUT_OF_BOUNDS

    batch(min(2000, n))
    gc.collect()
    rss, vm = _vm_kib("VmRSS"), _vm_kib("VmSize")
    batch(n)
    gc.collect()
    rss2, vm2 = _vm_kib("VmRSS"), _vm_kib("VmSize")
    assert rss2 - rss < 64 * 1024, (rss, rss2)
    assert vm2 - vm < 64 * 1024 * 1024, (vm, vm2)        # under 8 live memories' worth
    assert len(faults._tables[faults._D_MEM]) < 1000


# --- i32 values are zero-extended in registers ---------------------------------------

INVARIANT = r'''
import pywinch as wasm
from pywinch.errors import TrapCode
wat = """(module (import "env" "neg" (func $neg (result i32))) (memory 1)
  (global $g (mut i32) (i32.const -4))
  (func $w (result i32) (i32.const -4))
  (table 1 funcref) (elem (i32.const 0) $w)
  (type $t (func (result i32)))
  (func (export "host") (result i32) (i32.load (call $neg)))
  (func (export "wrap") (param i64) (result i32) (i32.load (i32.wrap_i64 (local.get 0))))
  (func (export "ext8") (param i32) (result i32) (i32.load (i32.extend8_s (local.get 0))))
  (func (export "ext16") (param i32) (result i32) (i32.load (i32.extend16_s (local.get 0))))
  (func (export "trunc") (param f64) (result i32) (i32.load (i32.trunc_f64_s (local.get 0))))
  (func (export "truncsat") (param f64) (result i32) (i32.load (i32.trunc_sat_f64_s (local.get 0))))
  (func (export "select") (param i32 i32) (result i32) (i32.load (select (local.get 0) (i32.const 0) (local.get 1))))
  (func (export "call") (result i32) (i32.load (call $w)))
  (func (export "indirect") (result i32) (i32.load (call_indirect (type $t) (i32.const 0))))
  (func (export "global") (result i32) (i32.load (global.get $g)))
  (func (export "grow") (result i32) (i32.load (memory.grow (i32.const 100000))))
  (func (export "sub") (param i32) (result i32) (i32.load (i32.sub (i32.const 0) (local.get 0))))
  (func (export "shl") (param i32) (result i32) (i32.load8_u (i32.shl (local.get 0) (i32.const 31))))
  (func (export "reinterp") (param f32) (result i32) (i32.load (i32.reinterpret_f32 (local.get 0))))
  (func (export "tee") (param i32) (result i32) (local i32)
    (local.set 1 (i32.sub (i32.const 0) (local.get 0)))
    (i32.store (local.tee 1 (i32.sub (i32.const 0) (local.get 0))) (local.get 1)) (i32.load (local.get 1)))
  (func (export "blockres") (param i32) (result i32)
    (i32.load (if (result i32) (local.get 0) (then (i32.const -4)) (else (i32.sub (i32.const -8) (local.get 0)))))))"""
engine = wasm.Engine()
store = wasm.Store(engine)
neg = wasm.Func(store, wasm.FuncType([], [wasm.ValType.i32()]), lambda: -4)
x = wasm.Instance(store, wasm.Module(engine, wat), [neg]).exports(store)
cases = [("host",), ("wrap", -4), ("ext8", 0xFC), ("ext16", 0xFFFC), ("trunc", -4.0), ("truncsat", -4.0),
         ("select", -4, 1), ("call",), ("indirect",), ("global",), ("grow",), ("sub", 4), ("shl", 1),
         ("reinterp", float("-nan")), ("tee", 4), ("blockres", 1), ("blockres", 0)]
for name, *args in cases:
    try:
        x[name](store, *args)
    except wasm.Trap as e:
        assert e.code == TrapCode.HEAP_OUT_OF_BOUNDS, (name, e)
    else:
        raise AssertionError(f"{name}{args}: no trap")
print("all trapped")
'''


def _run(code, env=None, timeout=60):
    full = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                          timeout=timeout, env=full)


def test_i32_addresses_are_zero_extended():
    """An i32 whose register had its upper half set would address below or far
    beyond the memory (outside its reservation: a crash, not a trap).  In a
    subprocess, so such a bug fails the test instead of the test run."""
    r = _run(INVARIANT)
    assert r.returncode == 0 and "all trapped" in r.stdout, r.stderr[-3000:]


# --- other faults still reach the previous handler -------------------------------------

NULL_DEREF = """
import ctypes, faulthandler, sys
{before}
import pywinch as wasm
engine = wasm.Engine()
store = wasm.Store(engine)
inst = wasm.Instance(store, wasm.Module(engine, '(module (memory 1) (func (export "f") (param i32) (result i32) (i32.load (local.get 0))))'), [])
{after}
try:
    inst.exports(store)["f"](store, 1 << 20)
except wasm.Trap as e:
    print("trapped:", e.code, flush=True)
ctypes.string_at(8, 8)    # a NULL-page read outside Wasm code
print("survived", flush=True)
"""

_AFTER_REINSTALL = """
faulthandler.enable()
# A later memory or module reinstalls pywinch's handler on top of faulthandler.
wasm.Memory(store, wasm.MemoryType(wasm.Limits(1, None)))
"""


@pytest.mark.parametrize("before, after, dump", [
    ("", "", False),
    ("faulthandler.enable()", "", True),
    ("", _AFTER_REINSTALL, True),
], ids=["plain", "faulthandler-before", "faulthandler-after"])
def test_foreign_fault_reaches_the_previous_handler(before, after, dump):
    r = _run(NULL_DEREF.format(before=before, after=after))
    assert "trapped: 2" in r.stdout, (r.stdout, r.stderr[-3000:])
    assert "survived" not in r.stdout
    assert r.returncode == -signal.SIGSEGV, (r.returncode, r.stderr[-3000:])
    assert ("Fatal Python error: Segmentation fault" in r.stderr) == dump, r.stderr[-3000:]


def test_sent_sigsegv_kills_as_the_default_action():
    r = _run("""
        import os, signal, pywinch as wasm
        wasm.Memory(wasm.Store(wasm.Engine()), wasm.MemoryType(wasm.Limits(1, None)))
        os.kill(os.getpid(), signal.SIGSEGV)
        print("survived", flush=True)
    """)
    assert r.returncode == -signal.SIGSEGV and "survived" not in r.stdout, (r.returncode, r.stderr[-2000:])


def test_faulthandler_in_this_process_stays_beneath(engine):
    """pytest enables faulthandler before pywinch installs its handler: Wasm
    faults are ours, and faulthandler's stays the previous handler."""
    import faulthandler
    assert faulthandler.is_enabled()
    wasm.Memory(wasm.Store(engine), wasm.MemoryType(wasm.Limits(1, None)))
    assert faulthandler is not None and faults.installed()


# --- what compiled code records ---------------------------------------------------------

def test_guarded_code_needs_guarded_memories(engine, tmp_path):
    data = wasm.Module(engine, _module_wat()).serialize()
    path = tmp_path / "m.bin"
    path.write_bytes(bytes(data))
    code = f"""
        import pywinch as wasm
        try:
            wasm.Module.deserialize_file(wasm.Engine(), {str(path)!r})
        except wasm.WasmError as e:
            print("refused:", e)
    """
    r = _run(code, env={"PYWINCH_GUARD_PAGES": "0"})
    assert "refused:" in r.stdout and "guarded" in r.stdout, (r.stdout, r.stderr[-2000:])
    r = _run(code)
    assert r.returncode == 0 and "refused" not in r.stdout, (r.stdout, r.stderr[-2000:])
    # Code with explicit checks runs anywhere.
    cfg = wasm.Config()
    cfg.signals_based_traps = False
    path.write_bytes(bytes(wasm.Module(wasm.Engine(cfg), _module_wat()).serialize()))
    r = _run(code, env={"PYWINCH_GUARD_PAGES": "0"})
    assert r.returncode == 0 and "refused" not in r.stdout, (r.stdout, r.stderr[-2000:])


def test_cache_key_records_the_guard():
    from pywinch import cache
    cfg = wasm.Config()
    cfg.signals_based_traps = False
    wat = b"\0asm\1\0\0\0"
    assert cache.cache_key(wasm.Engine(cfg), wat) != cache.cache_key(wasm.Engine(), wat)


def test_foreign_sigbus_keeps_its_default_action(tmp_path):
    """A SIGBUS outside Wasm (a mapped file truncated under it) still kills."""
    path = tmp_path / "f"
    path.write_bytes(b"x" * 4096)
    r = _run(f"""
        import mmap, os, pywinch as wasm
        wasm.Memory(wasm.Store(wasm.Engine()), wasm.MemoryType(wasm.Limits(1, None)))
        f = open({str(path)!r}, "r+b")
        m = mmap.mmap(f.fileno(), 4096)
        os.truncate({str(path)!r}, 0)
        print(m[100], flush=True)
        print("survived", flush=True)
    """)
    assert r.returncode == -signal.SIGBUS and "survived" not in r.stdout, (r.returncode, r.stderr[-2000:])


@pytest.mark.parametrize("order", ["wt(), pw(), wt(), pw(), wt()", "pw(), wt(), pw(), wt(), pw()"])
def test_wasmtime_handler_and_ours_chain_both_ways(order):
    """Wasmtime installs its own SIGSEGV handler; whichever comes last passes
    the other's faults on, so both engines keep trapping in one process."""
    r = _run("""
        import wasmtime, pywinch as wasm
        wat = '(module (memory 1) (func (export "f") (param i32) (result i32) (i32.load (local.get 0))))'
        def wt():
            s = wasmtime.Store()
            f = wasmtime.Instance(s, wasmtime.Module(s.engine, wat), []).exports(s)["f"]
            try:
                f(s, 1 << 20)
            except wasmtime.Trap:
                return "trap"
        def pw():
            e = wasm.Engine(); s = wasm.Store(e)
            f = wasm.Instance(s, wasm.Module(e, wat), []).exports(s)["f"]
            try:
                f(s, 1 << 20)
            except wasm.Trap as t:
                return "trap" if t.code == 2 else t
        print(ORDER, flush=True)
    """.replace("ORDER", order))
    assert r.stdout.split() == ["trap"] * 5, (r.returncode, r.stdout, r.stderr[-2000:])
