"""memory.grow and table.grow to the limit and beyond; call_indirect past the end of
the table, through null entries and with the wrong type; table and bulk-memory
instructions out of bounds; data and element segments out of bounds at instantiation.
Each traps (or fails as the spec says) and the store stays usable."""

from __future__ import annotations

import pytest

import pywinch
from pywinch import TrapCode

from .conftest import instantiate, trap_code

PAGE = 65536


def test_memory_grow_to_max_and_beyond(store):
    ex = instantiate(store, '(module (memory (export "m") 1 3) (func (export "grow") (param i32) (result i32) '
                            '(memory.grow (local.get 0))) (func (export "st") (param i32) '
                            '(i32.store8 (local.get 0) (i32.const 7))) (func (export "size") (result i32) memory.size))')
    grow, st, m = ex["grow"], ex["st"], ex["m"]
    st(store, PAGE - 1)
    assert grow(store, 1) == 1
    st(store, 2 * PAGE - 1)
    assert grow(store, 2) == -1          # 2 + 2 > 3
    assert grow(store, 1) == 2
    assert grow(store, 1) == -1
    assert grow(store, 0) == 3
    for delta in (0x10000, 0x7FFFFFFF, -1, -0x80000000):
        assert grow(store, delta) == -1
    assert ex["size"](store) == 3 and m.data_len(store) == 3 * PAGE
    assert trap_code(st, store, 3 * PAGE) == TrapCode.HEAP_OUT_OF_BOUNDS
    st(store, 3 * PAGE - 1)
    data = m.read(store, 0, 3 * PAGE)
    assert data[PAGE - 1] == 7 and data[2 * PAGE - 1] == 7 and data[3 * PAGE - 1] == 7
    assert data.count(0) == 3 * PAGE - 3     # grown pages are zero


def test_memory_without_max_grows_to_4gib_only(store):
    ex = instantiate(store, '(module (memory 1) (func (export "grow") (param i32) (result i32) '
                            '(memory.grow (local.get 0))) (func (export "ld") (param i32) (result i32) '
                            '(i32.load (local.get 0))) (func (export "st") (param i32 i32) '
                            '(i32.store (local.get 0) (local.get 1))))')
    assert ex["grow"](store, 0x10000) == -1          # 65537 pages > 4 GiB
    assert ex["grow"](store, 0xFFFF) == 1            # exactly 4 GiB
    ex["st"](store, -4, 0x12345678)                  # the very last word
    assert ex["ld"](store, -4) == 0x12345678
    assert trap_code(ex["ld"], store, -3) == TrapCode.HEAP_OUT_OF_BOUNDS
    assert ex["grow"](store, 1) == -1 and ex["grow"](store, 0) == 0x10000


def test_store_memory_limit_makes_grow_fail(engine):
    store = pywinch.Store(engine)
    store.set_limits(memory_size=2 * PAGE)
    ex = instantiate(store, '(module (memory 1) (func (export "grow") (param i32) (result i32) '
                            '(memory.grow (local.get 0))))')
    assert ex["grow"](store, 2) == -1
    assert ex["grow"](store, 1) == 1
    assert ex["grow"](store, 1) == -1
    with pytest.raises(pywinch.WasmError):
        instantiate(store, '(module (memory 3))')


TABLE = """(module
  (type $ii (func (param i32) (result i32)))
  (type $ii2 (func (param i32) (result i32)))          ;; structurally the same as $ii
  (type $ll (func (param i64) (result i64)))
  (type $v (func))
  (table $t (export "t") 4 6 funcref)
  (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
  (func $wide (type $ll) (i64.add (local.get 0) (i64.const 1)))
  (func $nop (type $v))
  (elem (i32.const 0) $inc $wide $nop)                  ;; slot 3 stays null
  (func (export "call_ii") (param i32 i32) (result i32)
    (call_indirect (type $ii) (local.get 1) (local.get 0)))
  (func (export "call_ii2") (param i32 i32) (result i32)
    (call_indirect (type $ii2) (local.get 1) (local.get 0)))
  (func (export "call_v") (param i32) (call_indirect (type $v) (local.get 0)))
  (func (export "get") (param i32) (result funcref) (table.get $t (local.get 0)))
  (func (export "set") (param i32) (table.set $t (local.get 0) (ref.null func)))
  (func (export "grow") (param i32) (result i32) (table.grow $t (ref.null func) (local.get 0)))
  (func (export "fill") (param i32 i32) (table.fill $t (local.get 0) (ref.func $nop) (local.get 1)))
  (func (export "copy") (param i32 i32 i32) (table.copy (local.get 0) (local.get 1) (local.get 2)))
  (elem $passive func $inc $nop)
  (func (export "init") (param i32 i32 i32) (table.init $passive (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop") (elem.drop $passive))
)"""


def test_call_indirect_bounds_null_and_type_confusion(store):
    ex = instantiate(store, TABLE)
    assert ex["call_ii"](store, 0, 41) == 42
    assert ex["call_ii2"](store, 0, 41) == 42           # same structure: same type
    ex["call_v"](store, 2)
    for idx in (1, 2):
        assert trap_code(ex["call_ii"], store, idx, 1) == TrapCode.BAD_SIGNATURE
    assert trap_code(ex["call_v"], store, 0) == TrapCode.BAD_SIGNATURE
    assert trap_code(ex["call_ii"], store, 3, 1) == TrapCode.INDIRECT_CALL_TO_NULL
    for idx in (4, 5, 0x7FFFFFFF, -0x80000000, -1):
        with pytest.raises(pywinch.Trap, match="undefined element|out of bounds table access"):
            ex["call_ii"](store, idx, 1)
    # After growing, the new slots are null, and the old bound no longer stops the call.
    assert ex["grow"](store, 2) == 4
    assert trap_code(ex["call_ii"], store, 5, 1) == TrapCode.INDIRECT_CALL_TO_NULL
    assert trap_code(ex["call_ii"], store, 6, 1) in (TrapCode.UNDEFINED_ELEMENT, TrapCode.TABLE_OUT_OF_BOUNDS)
    assert ex["grow"](store, 1) == -1 and ex["grow"](store, -1) == -1
    assert ex["call_ii"](store, 0, 1) == 2


def test_table_instructions_out_of_bounds(store):
    ex = instantiate(store, TABLE)
    oob = TrapCode.TABLE_OUT_OF_BOUNDS
    assert trap_code(ex["get"], store, 4) == oob and trap_code(ex["get"], store, -1) == oob
    assert trap_code(ex["set"], store, 4) == oob
    assert trap_code(ex["fill"], store, 3, 2) == oob
    assert trap_code(ex["fill"], store, -1, 1) == oob
    ex["fill"](store, 4, 0)                      # zero length at the end: allowed
    assert trap_code(ex["fill"], store, 5, 0) == oob
    assert ex["get"](store, 3) is None           # the trapping fill wrote nothing
    assert trap_code(ex["copy"], store, 0, 3, 2) == oob
    assert trap_code(ex["copy"], store, 3, 0, 2) == oob
    assert trap_code(ex["copy"], store, 0, -1, 1) == oob
    assert trap_code(ex["init"], store, 3, 0, 2) == oob
    assert trap_code(ex["init"], store, 0, 1, 2) == oob
    assert trap_code(ex["init"], store, 0, -1, 1) == oob
    ex["init"](store, 2, 0, 2)
    ex["drop"](store)
    assert trap_code(ex["init"], store, 0, 0, 1) == oob
    ex["init"](store, 0, 0, 0)                   # zero length of a dropped segment: allowed
    assert ex["call_ii"](store, 2, 9) == 10


BULK = """(module (memory (export "m") 1 1)
  (data $d "abcdef")
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i32 i32 i32) (memory.init $d (local.get 0) (local.get 1) (local.get 2)))
  (func (export "drop") (data.drop $d)))"""


def test_bulk_memory_out_of_bounds_writes_nothing(store):
    ex = instantiate(store, BULK)
    m = ex["m"]
    oob = TrapCode.HEAP_OUT_OF_BOUNDS
    assert trap_code(ex["fill"], store, PAGE - 2, 0x41, 3) == oob
    assert trap_code(ex["fill"], store, 1, 0x41, -1) == oob
    assert trap_code(ex["fill"], store, -1, 0x41, 2) == oob      # address wraps past 2^32
    ex["fill"](store, PAGE, 0x41, 0)
    assert trap_code(ex["fill"], store, PAGE + 1, 0x41, 0) == oob
    assert trap_code(ex["copy"], store, PAGE - 2, 0, 3) == oob
    assert trap_code(ex["copy"], store, 0, PAGE - 2, 3) == oob
    assert trap_code(ex["copy"], store, 0, -2, 4) == oob
    assert trap_code(ex["init"], store, PAGE - 2, 0, 3) == oob
    assert trap_code(ex["init"], store, 0, 4, 3) == oob
    assert trap_code(ex["init"], store, 0, -1, 1) == oob
    assert bytes(m.read(store, 0, PAGE)) == bytes(PAGE)          # no partial writes
    ex["init"](store, PAGE - 6, 0, 6)
    assert bytes(m.read(store, PAGE - 6, PAGE)) == b"abcdef"
    ex["drop"](store)
    assert trap_code(ex["init"], store, 0, 0, 1) == oob
    ex["copy"](store, 0, PAGE - 6, 6)
    assert bytes(m.read(store, 0, 6)) == b"abcdef"


@pytest.mark.parametrize("wat, message", [
    ('(module (memory 1) (data (i32.const 65535) "ab"))', "out of bounds memory access"),
    ('(module (memory 1) (data (i32.const -1) "a"))', "out of bounds memory access"),
    ('(module (memory 1) (data (i32.const 65537) ""))', "out of bounds memory access"),
    ('(module (memory 0) (data (i32.const 0) "a"))', "out of bounds memory access"),
    ('(module (table 1 funcref) (func) (elem (i32.const 1) 0))', "out of bounds table access"),
    ('(module (table 1 funcref) (func) (elem (i32.const -1) 0))', "out of bounds table access"),
    ('(module (table 1 funcref) (elem (i32.const 2)))', "out of bounds table access"),
    ('(module (table 0 funcref) (func) (elem (i32.const 0) 0))', "out of bounds table access"),
])
def test_segments_out_of_bounds_at_instantiation(store, wat, message):
    with pytest.raises(pywinch.WasmError, match=message):
        instantiate(store, wat)
    # Segments that exactly fit are fine, and the store is still usable.
    ex = instantiate(store, '(module (memory (export "m") 1) (data (i32.const 65534) "ab") (data (i32.const 65536) "")'
                            ' (table 1 funcref) (func) (elem (i32.const 1)) (elem (i32.const 0) 0))')
    assert bytes(ex["m"].read(store, 65534, 65536)) == b"ab"


def test_segment_offset_from_an_imported_global(store):
    g = pywinch.Global(store, pywinch.GlobalType(pywinch.ValType.i32(), False), 65535)
    module = pywinch.Module(store.engine, '(module (import "" "g" (global i32)) (memory 1)'
                                          ' (data (global.get 0) "xy"))')
    with pytest.raises(pywinch.WasmError, match="out of bounds memory access"):
        pywinch.Instance(store, module, [g])


def test_earlier_segments_stay_written_when_a_later_one_traps(store):
    """Wasm 2.0: segments apply in order; those before the failing one have taken effect
    (visible through an imported memory)."""
    mem = pywinch.Memory(store, pywinch.MemoryType(pywinch.Limits(1, None)))
    module = pywinch.Module(store.engine, '(module (import "" "m" (memory 1)) (data (i32.const 0) "ok")'
                                          ' (data (i32.const 65535) "no"))')
    with pytest.raises(pywinch.WasmError, match="out of bounds memory access"):
        pywinch.Instance(store, module, [mem])
    assert bytes(mem.read(store, 0, 2)) == b"ok"
    assert bytes(mem.read(store, 65534, 65536)) == b"\0\0"
