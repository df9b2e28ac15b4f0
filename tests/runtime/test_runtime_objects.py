"""Runtime pieces that need no compiled code: memories, tables, globals,
builtins called through their native addresses, instantiation of plans."""

import ctypes

import pytest

from pywinch import vmoffsets as vo
from pywinch.errors import LinkError, Trap, TrapCode, TypeCheckError, WasmError
from pywinch.runtime import builtins, sysmem
from pywinch.runtime import values as rv
from pywinch.runtime.globals import RuntimeGlobal
from pywinch.runtime.instance import (ACTIVE, DECLARATIVE, FUNC, GLOBAL, MEMORY, PASSIVE, TABLE,
                                      ConstExpr, ModulePlan, instantiate)
from pywinch.runtime.memory import LinearMemory, WASM_PAGE
from pywinch.runtime.store import EngineState, StoreState, intern_sig
from pywinch.runtime.table import RuntimeTable


def i32c(v):
    return ConstExpr([(0x41, v, 0)])


def plan(**kw):
    base = dict(types=[], imports=[], funcs=[], tables=[], memories=[], globals=[], exports=[],
                start=None, elems=[], datas=[], func_addrs=[], array_calls=[], native_calls=[])
    base.update(kw)
    base["array_calls"] = base["array_calls"] or [0] * len(base["types"])
    base["native_calls"] = base["native_calls"] or [0] * len(base["types"])
    return ModulePlan(**base)


def new_state(**kw):
    return StoreState(EngineState(**kw))


# --- linear memory -------------------------------------------------------------
def test_memory_grow_commits_and_base_never_moves():
    m = LinearMemory(1, None)
    base = m.base
    assert sysmem.read_u64(m.def_addr + vo.MEMORY_BASE) == base
    assert sysmem.read_u64(m.def_addr + vo.MEMORY_LENGTH) == WASM_PAGE
    m.write(WASM_PAGE - 4, b"abcd")
    assert m.grow(3) == 1
    assert m.base == base
    assert sysmem.read_u64(m.def_addr + vo.MEMORY_LENGTH) == 4 * WASM_PAGE
    assert m.read(WASM_PAGE - 4, 4) == b"abcd"
    assert m.read(3 * WASM_PAGE, 8) == bytes(8)      # new pages arrive zeroed
    m.write(4 * WASM_PAGE - 1, b"z")
    with pytest.raises(WasmError):
        m.read(4 * WASM_PAGE - 1, 2)


def test_memory_max_and_limits():
    m = LinearMemory(0, 2)
    assert m.length == 0
    assert m.grow(2) == 0
    assert m.grow(1) == -1
    assert m.grow(0) == 2
    assert LinearMemory(0, None).grow(0x10001) == -1       # beyond 4 GiB for a 32-bit memory
    with pytest.raises(WasmError):
        LinearMemory(0x10001, None)


def test_memory_store_limit():
    st = new_state()
    st.limiter.memory_size = 3 * WASM_PAGE
    m = LinearMemory(1, None, limiter=st.limiter)
    assert m.grow(2) == 1
    assert m.grow(1) == -1
    with pytest.raises(WasmError):
        LinearMemory(4, None, limiter=st.limiter)


def test_memory_view_is_zero_copy():
    m = LinearMemory(1, 1)
    v = m.view()
    v[100:103] = b"xyz"
    assert m.read(100, 3) == b"xyz"
    assert ctypes.string_at(m.base + 100, 3) == b"xyz"


# --- tables --------------------------------------------------------------------
def test_table_grow_moves_base_and_updates_definition():
    t = RuntimeTable(rv.FUNCREF, 2, None, init=7)
    assert [t.get(0), t.get(1)] == [7, 7]
    assert t.grow(100, 9) == 2
    assert t.size == 102
    assert sysmem.read_u64(t.def_addr + vo.TABLE_LENGTH) == 102
    assert sysmem.read_u64(t.def_addr + vo.TABLE_BASE) == t.buf.addr
    assert t.get(0) == 7 and t.get(101) == 9
    assert t.grow(1, 0) == 102
    with pytest.raises(WasmError):
        t.get(103)


def test_table_max_fill_copy_init():
    t = RuntimeTable(rv.EXTERNREF, 4, 5)
    assert t.grow(2, 0) == -1
    assert t.fill(1, 5, 3)
    assert not t.fill(2, 5, 3)
    assert [t.get(i) for i in range(4)] == [0, 5, 5, 5]
    u = RuntimeTable(rv.EXTERNREF, 4, None)
    assert u.init_from([1, 2, 3], 1, 0, 3)
    assert not u.init_from([1, 2, 3], 2, 1, 3)
    assert t.copy_from(u, 0, 1, 3)
    assert [t.get(i) for i in range(4)] == [1, 2, 3, 5]
    assert t.copy_from(t, 1, 0, 3)                        # overlapping copy is a memmove
    assert [t.get(i) for i in range(4)] == [1, 1, 2, 3]


# --- globals and values ----------------------------------------------------------
def test_global_slots():
    g = RuntimeGlobal(rv.V128, True)
    g.set_raw((1 << 127) | 5)
    assert g.get_raw() == (1 << 127) | 5
    h = RuntimeGlobal(rv.I32, False)
    h.set_raw(rv.check_int(rv.I32, -1))
    assert rv.signed32(h.get_raw()) == -1


def test_value_conversions():
    assert rv.check_int(rv.I32, 0xFFFFFFFF) == 0xFFFFFFFF
    assert rv.check_int(rv.I32, -1) == 0xFFFFFFFF
    with pytest.raises(TypeCheckError):
        rv.check_int(rv.I32, 1 << 32)
    with pytest.raises(TypeCheckError):
        rv.check_int(rv.I64, -(1 << 63) - 1)
    with pytest.raises(TypeCheckError):
        rv.check_int(rv.I32, 1.5)
    with pytest.raises(TypeCheckError):
        rv.check_float(rv.F32, "x")
    assert rv.bits_f32(rv.f32_bits(1.5)) == 1.5
    assert rv.f32_bits(1e300) == 0x7F800000               # rounds to infinity like Wasm
    assert rv.raw_to_num(rv.I64, (1 << 64) - 2) == -2


def test_signature_ids_are_interned():
    a = intern_sig(((rv.I32,), (rv.I64,)))
    assert a == intern_sig(((rv.I32,), (rv.I64,)))
    assert a != intern_sig(((rv.I64,), (rv.I32,)))
    assert a != 0


# --- instantiation (no functions) ------------------------------------------------
def test_instantiate_segments_globals_exports():
    st = new_state()
    p = plan(
        memories=[(1, 2, False)],
        globals=[(rv.I32, False, i32c(40)),
                 (rv.I32, True, ConstExpr([(0x23, 0, 0), (0x41, 2, 0), (0x6A, None, 0)]))],
        datas=[(ACTIVE, 0, ConstExpr([(0x23, 1, 0)]), b"hi"), (PASSIVE, 0, None, b"passive")],
        exports=[("mem", MEMORY, 0), ("g", GLOBAL, 1)],
    )
    inst = instantiate(st, p, [], None)
    mem = inst.exports["mem"][1]
    assert mem.read(42, 2) == b"hi"
    assert inst.globals[1].get_raw() == 42
    assert inst.datas == [b"", b"passive"]
    # The defined memory's definition lives inside the VMContext.
    o = p.offsets
    assert sysmem.read_u64(inst.addr + o.memory_definition(0) + vo.MEMORY_BASE) == mem.base
    assert sysmem.read_u64(inst.addr + vo.VMCTX_LIMITS) == st.limits.addr
    assert sysmem.read_u64(inst.addr + vo.VMCTX_BUILTINS) == builtins.ADDR
    assert inst.vmctx.u32(vo.VMCTX_MAGIC) == vo.VMCTX_MAGIC_CORE


def test_imports_are_matched_with_limit_subtyping():
    st = new_state()
    p = plan(imports=[("m", "mem", MEMORY, (1, 4, False)), ("m", "g", GLOBAL, (rv.I64, True)),
                      ("m", "t", TABLE, (rv.FUNCREF, 2, None))])
    mem = LinearMemory(2, 3)
    g = RuntimeGlobal(rv.I64, True)
    t = RuntimeTable(rv.FUNCREF, 3, 10)
    inst = instantiate(st, p, [(MEMORY, mem), (GLOBAL, g), (TABLE, t)], None)
    o = p.offsets
    assert sysmem.read_u64(inst.addr + o.memory_import(0)) == mem.def_addr
    assert sysmem.read_u64(inst.addr + o.global_import(0)) == g.addr
    assert sysmem.read_u64(inst.addr + o.table_import(0)) == t.def_addr
    for bad in ([(MEMORY, LinearMemory(0, 3)), (GLOBAL, g), (TABLE, t)],          # min too small
                [(MEMORY, LinearMemory(1, None)), (GLOBAL, g), (TABLE, t)],       # no max
                [(MEMORY, LinearMemory(1, 5)), (GLOBAL, g), (TABLE, t)],          # max too big
                [(MEMORY, mem), (GLOBAL, RuntimeGlobal(rv.I64, False)), (TABLE, t)],
                [(MEMORY, mem), (GLOBAL, g), (TABLE, RuntimeTable(rv.EXTERNREF, 3, None))],
                [(GLOBAL, g), (MEMORY, mem), (TABLE, t)]):
        with pytest.raises(LinkError, match="incompatible import type"):
            instantiate(st, p, bad, None)


def test_active_segment_out_of_bounds_traps_after_earlier_writes():
    st = new_state()
    mem = LinearMemory(1, None)
    p = plan(imports=[("m", "mem", MEMORY, (1, None, False))],
             datas=[(ACTIVE, 0, i32c(0), b"ok"), (ACTIVE, 0, i32c(WASM_PAGE - 1), b"xx")])
    with pytest.raises(Trap) as e:
        instantiate(st, p, [(MEMORY, mem)], None)
    assert e.value.code == TrapCode.HEAP_OUT_OF_BOUNDS
    assert mem.read(0, 2) == b"ok"
    t = RuntimeTable(rv.EXTERNREF, 1, None)
    p2 = plan(imports=[("m", "t", TABLE, (rv.EXTERNREF, 1, None))],
              elems=[(ACTIVE, 0, i32c(1), rv.EXTERNREF, [ConstExpr([(0xD0, rv.EXTERNREF, 0)])])])
    with pytest.raises(Trap) as e:
        instantiate(st, p2, [(TABLE, t)], None)
    assert e.value.code == TrapCode.TABLE_OUT_OF_BOUNDS


def test_declarative_and_passive_elements():
    st = new_state()
    null = ConstExpr([(0xD0, rv.FUNCREF, 0)])
    p = plan(tables=[(rv.FUNCREF, 1, None)],
             elems=[(PASSIVE, 0, None, rv.FUNCREF, [null, null]), (DECLARATIVE, 0, None, rv.FUNCREF, [null])])
    inst = instantiate(st, p, [], None)
    assert inst.elems == [[0, 0], []]


# --- builtins through their native addresses -------------------------------------------
def test_builtins_via_native_pointers():
    st = new_state()
    p = plan(memories=[(1, 3, False)], tables=[(rv.EXTERNREF, 2, None)],
             datas=[(PASSIVE, 0, None, b"segment")],
             elems=[(PASSIVE, 0, None, rv.EXTERNREF, [ConstExpr([(0xD0, rv.EXTERNREF, 0)])] * 3)])
    inst = instantiate(st, p, [], None)
    vm = inst.addr
    B = builtins.native
    mem = inst.memories[0]
    assert B(vo.BUILTIN_MEMORY_GROW)(vm, 0, 1) == 1
    assert B(vo.BUILTIN_MEMORY_GROW)(vm, 0, 5) == -1
    assert B(vo.BUILTIN_MEMORY_FILL)(vm, 0, 10, 0x41, 3) == 0
    assert mem.read(10, 3) == b"AAA"
    assert B(vo.BUILTIN_MEMORY_FILL)(vm, 0, 2 * WASM_PAGE - 1, 0, 2) == TrapCode.HEAP_OUT_OF_BOUNDS
    assert B(vo.BUILTIN_MEMORY_COPY)(vm, 0, 0, 11, 10, 3) == 0
    assert mem.read(10, 4) == b"AAAA"
    assert B(vo.BUILTIN_MEMORY_INIT)(vm, 0, 0, 100, 1, 6) == 0
    assert mem.read(100, 6) == b"egment"
    assert B(vo.BUILTIN_MEMORY_INIT)(vm, 0, 0, 100, 5, 3) == TrapCode.HEAP_OUT_OF_BOUNDS
    assert B(vo.BUILTIN_DATA_DROP)(vm, 0) == 0
    assert B(vo.BUILTIN_MEMORY_INIT)(vm, 0, 0, 100, 0, 1) == TrapCode.HEAP_OUT_OF_BOUNDS
    assert B(vo.BUILTIN_MEMORY_INIT)(vm, 0, 0, 100, 0, 0) == 0
    table = inst.tables[0]
    assert B(vo.BUILTIN_TABLE_GROW)(vm, 0, 77, 2) == 2
    assert table.get(3) == 77
    assert B(vo.BUILTIN_TABLE_FILL)(vm, 0, 0, 5, 2) == 0
    assert B(vo.BUILTIN_TABLE_FILL)(vm, 0, 3, 5, 2) == TrapCode.TABLE_OUT_OF_BOUNDS
    assert B(vo.BUILTIN_TABLE_COPY)(vm, 0, 0, 2, 0, 2) == 0
    assert [table.get(i) for i in range(4)] == [5, 5, 5, 5]
    assert B(vo.BUILTIN_TABLE_INIT)(vm, 0, 0, 1, 0, 3) == 0
    assert [table.get(i) for i in range(4)] == [5, 0, 0, 0]
    assert B(vo.BUILTIN_ELEM_DROP)(vm, 0) == 0
    assert B(vo.BUILTIN_TABLE_INIT)(vm, 0, 0, 0, 0, 1) == TrapCode.TABLE_OUT_OF_BOUNDS


def test_fuel_and_epoch_slots():
    eng = EngineState(epoch_interruption=True, consume_fuel=True)
    st = StoreState(eng)
    st.set_fuel(1000)
    assert st.get_fuel() == 1000
    assert ctypes.c_int64.from_address(st.addr + vo.LIMITS_FUEL_CONSUMED).value == -1000
    eng.increment_epoch()
    st.set_epoch_deadline(3)
    assert st.lq[vo.LIMITS_EPOCH_DEADLINE >> 3] == 4
    assert sysmem.read_u64(sysmem.read_u64(st.addr + vo.LIMITS_EPOCH_COUNTER_PTR)) == 1
