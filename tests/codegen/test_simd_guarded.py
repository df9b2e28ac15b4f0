"""SIMD loads and stores on guarded memories: unchecked, trapping through the
fault handler at the instruction that touches memory.

Every v128 memory operator is run in and out of bounds, side by side with
Wasmtime on the same module: results, memory after stores, trap codes and
backtrace frames (function index, Wasm offset) must match, with the VEX forms
and with AVX masked, and the explicitly checked code must agree too.
"""

import re

import pytest

import pywinch as wasm
from pywinch.errors import TrapCode
from pywinch.isa.x64 import cpu
from pywinch.isa.x64.disasm import disassemble
from pywinch import vmoffsets as vo
from pywinch.runtime import memory

wasmtime = pytest.importorskip("wasmtime")

pytestmark = [
    pytest.mark.skipif(not memory.GUARDED, reason="guarded memories need Linux x86-64"),
    pytest.mark.skipif(not (cpu.has(cpu.SSSE3) and cpu.has(cpu.SSE41)), reason="SIMD needs SSE4.1"),
]

GIB = 1 << 30
PAGE = 65536

# (operator, bytes read or written, kind): kind "load" takes an address,
# "lane" an address and a vector (load_lane), "store" an address and a vector,
# "store_lane" likewise with a lane.
OPS = [
    ("v128.load", 16, "load"),
    ("v128.load8x8_s", 8, "load"), ("v128.load8x8_u", 8, "load"),
    ("v128.load16x4_s", 8, "load"), ("v128.load16x4_u", 8, "load"),
    ("v128.load32x2_s", 8, "load"), ("v128.load32x2_u", 8, "load"),
    ("v128.load8_splat", 1, "load"), ("v128.load16_splat", 2, "load"),
    ("v128.load32_splat", 4, "load"), ("v128.load64_splat", 8, "load"),
    ("v128.load32_zero", 4, "load"), ("v128.load64_zero", 8, "load"),
    ("v128.load8_lane 13", 1, "lane"), ("v128.load16_lane 5", 2, "lane"),
    ("v128.load32_lane 3", 4, "lane"), ("v128.load64_lane 1", 8, "lane"),
    ("v128.load8_lane 0", 1, "lane"), ("v128.load64_lane 0", 8, "lane"),
    ("v128.store", 16, "store"),
    ("v128.store8_lane 15", 1, "store"), ("v128.store16_lane 6", 2, "store"),
    ("v128.store32_lane 2", 4, "store"), ("v128.store64_lane 1", 8, "store"),
    ("v128.store8_lane 0", 1, "store"), ("v128.store32_lane 0", 4, "store"),
]

VEC = "(v128.const i8x16 0xa0 0xa1 0xa2 0xa3 0xa4 0xa5 0xa6 0xa7 0xa8 0xa9 0xaa 0xab 0xac 0xad 0xae 0xaf)"


def _split(op):
    """``v128.load8_lane 13`` -> (``v128.load8_lane``, `` 13``)."""
    name, _, lane = op.partition(" ")
    return name, (" " + lane if lane else "")


def _wat(offset, const=None):
    """One export per operator, each calling an inner function that does the
    access (so the backtrace has two frames).  Loads return the vector as two
    i64.  ``const``: the address is that constant instead of the parameter."""
    pattern = "".join(f"\\{(i * 37 + 11) & 0xFF:02x}" for i in range(64))
    addr = f"(i32.const {const})" if const is not None else "(local.get 0)"
    funcs = []
    for k, (op, _size, kind) in enumerate(OPS):
        name, lane = _split(op)
        memop = f"{name} offset={offset}{lane}"
        if kind == "load":
            body = f"(local.set 1 ({memop} {addr}))"
        elif kind == "lane":
            body = f"(local.set 1 ({memop} {addr} {VEC}))"
        else:
            body = f"({memop} {addr} {VEC})"
        if kind == "store":
            funcs.append(f"(func $in{k} (param i32) (local v128) {body})")
            funcs.append(f'(func (export "f{k}") (param i32) (nop) (call $in{k} (local.get 0)))')
        else:
            funcs.append(f"(func $in{k} (param i32) (result i64 i64) (local v128) {body}"
                         " (i64x2.extract_lane 0 (local.get 1)) (i64x2.extract_lane 1 (local.get 1)))")
            funcs.append(f'(func (export "f{k}") (param i32) (result i64 i64) (nop) (call $in{k} (local.get 0)))')
    return (f'(module (memory (export "mem") 1 2)'
            f' (data (i32.const 0) "{pattern}") (data (i32.const {PAGE - 64}) "{pattern}")'
            f' {" ".join(funcs)})')


def _norm(v):
    if v is None:
        return None
    return tuple(x & (2**64 - 1) for x in (v if isinstance(v, (list, tuple)) else [v]))


class Pair:
    """The same module instantiated in pywinch (an engine per mode) and Wasmtime."""

    def __init__(self, wat, signals=True, mask=()):
        cfg = wasm.Config()
        cfg.signals_based_traps = signals
        engine = wasm.Engine(cfg)
        with cpu.masked(*mask):
            self.module = wasm.Module(engine, wat)
        self.store = wasm.Store(engine)
        self.inst = wasm.Instance(self.store, self.module, [])
        self.x = self.inst.exports(self.store)
        self.ws = wasmtime.Store()
        self.wx = wasmtime.Instance(self.ws, wasmtime.Module(self.ws.engine, wat), []).exports(self.ws)

    def memories(self):
        mine = bytes(self.x["mem"].read(self.store, 0, self.x["mem"].data_len(self.store)))
        m = self.wx["mem"]
        theirs = bytes(m.read(self.ws, 0, m.data_len(self.ws)))
        return mine, theirs

    def call(self, k, arg):
        """``(result, trap)`` of export ``f<k>`` in both engines."""
        out = []
        try:
            out.append((_norm(self.x[f"f{k}"](self.store, arg)), None))
        except wasm.Trap as e:
            out.append((None, (e.code, [(f.func_index, f.module_offset) for f in e.frames])))
        try:
            out.append((_norm(self.wx[f"f{k}"](self.ws, arg)), None))
        except wasmtime.Trap as e:
            assert e.trap_code == wasmtime.TrapCode.MEMORY_OUT_OF_BOUNDS, (k, arg, e)
            out.append((None, (TrapCode.HEAP_OUT_OF_BOUNDS, [(f.func_index, f.module_offset) for f in e.frames])))
        return out


def _compares_length(p):
    """Whether the code reads memory 0's length (every explicit bounds check does)."""
    length = p.module._plan.offsets.memory_definition(0) + vo.MEMORY_LENGTH
    return any(t.startswith("cmp") and f"[r14+{length:#x}]" in t
               for _, _, t in disassemble(p.module.compiled.code))


def _addresses(size, offset):
    if offset:
        return (0, 1, PAGE - size, 0xFFFFFFFF)
    return (0, 7, PAGE - size, PAGE - size + 1, PAGE - 1, PAGE, 0x80000000, 4 * GIB - size, 0xFFFFFFFF)


ISAS = [pytest.param((), id="native"), pytest.param((cpu.AVX, cpu.AVX2), id="sse")]


@pytest.mark.parametrize("mask", ISAS)
@pytest.mark.parametrize("signals", [True, False], ids=["guarded", "checked"])
@pytest.mark.parametrize("offset", [0, 0x7FFFFFEF, 0x80000000], ids=["0", "disp32", "beyond"])
def test_every_simd_access_matches_wasmtime(offset, signals, mask):
    p = Pair(_wat(offset), signals, mask)
    # Guarded code compares no address with the length (up to a disp32 offset).
    assert _compares_length(p) == (not signals or offset > 0x7FFFFFFF)
    for k, (op, size, kind) in enumerate(OPS):
        for arg in _addresses(size, offset):
            mine, theirs = p.call(k, arg)
            assert mine == theirs, (op, offset, arg)
            expect_trap = arg + offset + size > PAGE
            assert (mine[1] is not None) == expect_trap, (op, offset, arg)
            if kind == "store":
                # Nothing written by a trapping store; the same bytes otherwise.
                a, b = p.memories()
                assert a == b, (op, offset, arg)
    # After a grow the next page is in bounds, the one after it not.
    assert p.x["mem"].grow(p.store, 1) == 1 and p.wx["mem"].grow(p.ws, 1) == 1
    if offset == 0:
        for k, (op, size, _kind) in enumerate(OPS):
            for arg in (2 * PAGE - size, 2 * PAGE - size + 1):
                mine, theirs = p.call(k, arg)
                assert mine == theirs, (op, arg)
                assert (mine[1] is not None) == (arg > 2 * PAGE - size), (op, arg)


@pytest.mark.parametrize("mask", ISAS)
@pytest.mark.parametrize("const", [0, PAGE - 16, PAGE - 8, PAGE - 1, 0xFFFFFFF0, 0xFFFFFFFF])
def test_constant_addresses(const, mask):
    """A constant address: unchecked when ``address + offset + size`` fits a disp32."""
    for offset in (0, 0x7FFFFF00):
        p = Pair(_wat(offset, const), True, mask)
        ea = const + offset
        assert _compares_length(p) == any(ea + size > 0x7FFFFFFF for _, size, _ in OPS)
        for k, (op, size, kind) in enumerate(OPS):
            mine, theirs = p.call(k, 0)
            assert mine == theirs, (op, const, offset)
            assert (mine[1] is not None) == (ea + size > PAGE), (op, const, offset)
            if kind == "store":
                a, b = p.memories()
                assert a == b, (op, const, offset)


def test_trap_sites_are_the_memory_instructions():
    """Each SIMD access on a guarded memory records exactly one trap site, at
    (the pc + 1 of) an instruction with a memory operand through the heap base."""
    import capstone
    p = Pair(_wat(0))
    cm = p.module.compiled
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    insns = {i.address: i for i in md.disasm(bytes(cm.code), 0)}
    heap_sites = [pc for pc, code, _off in cm.traps if code == TrapCode.HEAP_OUT_OF_BOUNDS]
    assert len(heap_sites) == len(OPS)
    for pc in heap_sites:
        i = insns[pc - 1]
        assert "[r15 + r" in i.op_str, (i.mnemonic, i.op_str)


def test_imported_memory():
    """An imported memory (its base read through the import) and a grow of it by the host."""
    wat = """(module (import "env" "m" (memory 1))
      (func (export "ld") (param i32) (result i64) (i64x2.extract_lane 1 (v128.load offset=4 (local.get 0))))
      (func (export "st") (param i32 i64) (v128.store32_lane 1 (local.get 0) (i64x2.splat (local.get 1))))
      (func (export "sp") (param i32) (result i32) (i32x4.extract_lane 3 (v128.load16_splat (local.get 0)))))"""
    engine = wasm.Engine()
    store = wasm.Store(engine)
    mem = wasm.Memory(store, wasm.MemoryType(wasm.Limits(1, 3)))
    module = wasm.Module(engine, wat)
    x = wasm.Instance(store, module, [mem]).exports(store)
    x["st"](store, PAGE - 4, 0x1122334455667788)
    assert x["sp"](store, PAGE - 2) == 0x11221122
    assert x["ld"](store, PAGE - 20) == 0x11223344 << 32
    for name, args in (("ld", (PAGE - 19,)), ("st", (PAGE - 3, 1)), ("sp", (PAGE - 1,)), ("ld", (0xFFFFFFFF,))):
        with pytest.raises(wasm.Trap) as e:
            x[name](store, *args)
        assert e.value.code == TrapCode.HEAP_OUT_OF_BOUNDS, name
        assert len(e.value.frames) == 1 and e.value.frames[0].module_offset is not None
    assert mem.grow(store, 1) == 1
    assert x["ld"](store, PAGE - 19) == 0x11223344 << 24
    x["st"](store, 2 * PAGE - 4, 7)
    with pytest.raises(wasm.Trap):
        x["st"](store, 2 * PAGE - 3, 7)
    assert not any(t.startswith("cmp") and "[r14+" in t and "0x1c]" not in t
                   for _, _, t in disassemble(module.compiled.code))
