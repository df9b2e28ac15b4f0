"""The API object model without compiled code: types, values, externs, config."""

import ctypes
import pickle

import pytest

import pywinch as wasm


def test_valtypes_and_functypes():
    assert wasm.ValType.i32() == wasm.ValType.i32()
    assert wasm.ValType.i32() != wasm.ValType.i64()
    assert str(wasm.ValType.externref()) == "externref"
    ft = wasm.FuncType([wasm.ValType.i32(), wasm.ValType.f64()], [wasm.ValType.i64()])
    assert ft.params == [wasm.ValType.i32(), wasm.ValType.f64()]
    assert ft.results == [wasm.ValType.i64()]
    assert ft == wasm.FuncType([wasm.ValType.i32(), wasm.ValType.f64()], [wasm.ValType.i64()])
    assert pickle.loads(pickle.dumps(ft)) == ft
    with pytest.raises(TypeError):
        wasm.FuncType([1.5], [])


def test_val():
    assert wasm.Val.i32(0xFFFFFFFF).value == -1
    assert wasm.Val.i64(-1).as_i64() == -1
    assert wasm.Val.f32(0.1).value == ctypes.c_float(0.1).value
    assert wasm.Val.i32(3) == 3
    assert wasm.Val.i32(3).as_i64() is None
    assert wasm.Val.ref_null(wasm.ValType.funcref()).value is None
    with pytest.raises(TypeError):
        wasm.Val.i32(1.0)
    with pytest.raises(wasm.TypeCheckError):
        wasm.Val.i32(1 << 32)
    with pytest.raises(wasm.WasmError):
        wasm.Val.ref_null(wasm.ValType.i32())


def test_memory_api(store):
    m = wasm.Memory(store, wasm.MemoryType(wasm.Limits(1, 2)))
    assert m.type(store) == wasm.MemoryType(wasm.Limits(1, 2))
    assert m.write(store, b"abc", -3) == 3
    assert m.read(store, -3) == bytearray(b"abc")
    with pytest.raises(IndexError):           # wasmtime-py's type ...
        m.write(store, b"abcd", 65533)
    with pytest.raises(wasm.MemoryBoundsError):   # ... and pywinch's, so one `except WasmError` catches it
        m.write(store, b"abcd", 65533)
    with pytest.raises(wasm.WasmError):
        m.get_buffer_ptr(store, 8, 65532)
    assert m.read(store, 10, 5) == bytearray()
    buf = m.get_buffer_ptr(store, 4, 65532)
    assert bytes(buf) == b"\0abc"
    assert m.data_ptr(store)[65535] == ord("c")
    assert m.grow(store, 1) == 1
    with pytest.raises(wasm.WasmError):
        m.grow(store, 1)
    other = wasm.Store(store.engine)
    with pytest.raises(wasm.WasmError):
        m.size(other)


def test_memory_type_validation():
    with pytest.raises(wasm.WasmError):
        wasm.MemoryType(wasm.Limits(0x10001, None))
    with pytest.raises(wasm.WasmError):
        wasm.MemoryType(wasm.Limits(2, 1))
    with pytest.raises(TypeError):
        wasm.MemoryType((1, 2))


def test_table_api(store):
    t = wasm.Table(store, wasm.TableType(wasm.ValType.externref(), wasm.Limits(1, 3)), "init")
    assert t.size(store) == 1 and t.get(store, 0) == "init"
    assert t.get(store, 5) is None
    assert t.grow(store, 2, None) == 1
    with pytest.raises(wasm.WasmError):
        t.grow(store, 1, None)
    obj = {"k": 1}
    t.set(store, 2, obj)
    assert t.get(store, 2) is obj
    with pytest.raises(wasm.WasmError):
        t.set(store, 3, None)
    ft = wasm.Table(store, wasm.TableType(wasm.ValType.funcref(), wasm.Limits(1, None)), None)
    assert ft.get(store, 0) is None
    with pytest.raises(wasm.TypeCheckError):
        ft.set(store, 0, "not a func")


def test_global_api(store):
    g = wasm.Global(store, wasm.GlobalType(wasm.ValType.f32(), True), 1.5)
    assert g.value(store) == 1.5
    g.set_value(store, wasm.Val.f32(2.0))
    assert g.value(store) == 2.0
    c = wasm.Global(store, wasm.GlobalType(wasm.ValType.i64(), False), 2**64 - 1)
    assert c.value(store) == -1
    with pytest.raises(wasm.WasmError):
        c.set_value(store, 1)
    with pytest.raises(wasm.TypeCheckError):
        wasm.Global(store, wasm.GlobalType(wasm.ValType.i32(), False), "x")
    assert c.type(store) == wasm.GlobalType(wasm.ValType.i64(), False)


def test_config_and_store_settings():
    c = wasm.Config()
    c.wasm_simd = False
    c.consume_fuel = True
    with pytest.raises(AttributeError):
        c.no_such_setting = 1
    e = wasm.Engine(c)
    with pytest.raises(wasm.WasmError):
        c.wasm_simd = True          # frozen once an engine uses it
    s = wasm.Store(e, data={"x": 1})
    assert s.data == {"x": 1}
    assert s.get_fuel() == 0
    s.set_fuel(123)
    assert s.get_fuel() == 123
    with pytest.raises(wasm.WasmError):
        wasm.Store(wasm.Engine()).set_fuel(1)
    e.increment_epoch()
    s.set_epoch_deadline(1)
    assert wasm.WasmtimeError is wasm.WasmError


def test_linker_definitions(engine, store):
    linker = wasm.Linker(engine)
    g = wasm.Global(store, wasm.GlobalType(wasm.ValType.i32(), False), 1)
    linker.define(store, "m", "g", g)
    with pytest.raises(wasm.WasmError):
        linker.define(store, "m", "g", g)
    linker.allow_shadowing = True
    linker.define(store, "m", "g", g)
    assert linker.get(store, "m", "g") is g
    with pytest.raises(TypeError):
        linker.define(store, "m", "x", 42)
