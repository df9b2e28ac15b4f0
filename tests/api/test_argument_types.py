"""A wrong argument type at the API is a pywinch error (one ``except WasmError``
catches it) and still the ``TypeError`` wasmtime-py raises."""

import pytest

import pywinch as wasm


def _store():
    return wasm.Store(wasm.Engine())


CASES = {
    "Store(engine=1)": lambda: wasm.Store(1),
    "Module(1, ...)": lambda: wasm.Module(1, b"\0asm\1\0\0\0"),
    "Module(engine, 3)": lambda: wasm.Module(wasm.Engine(), 3),
    "Linker(3)": lambda: wasm.Linker(3),
    "Memory(store, 3)": lambda: wasm.Memory(_store(), 3),
    "Table(store, 3, None)": lambda: wasm.Table(_store(), 3, None),
    "Global(store, 3, 0)": lambda: wasm.Global(_store(), 3, 0),
    "Func(store, 3, print)": lambda: wasm.Func(_store(), 3, print),
    "Engine(3)": lambda: wasm.Engine(3),
}


@pytest.mark.parametrize("name", CASES)
def test_wrong_argument_type_is_a_pywinch_type_error(name):
    with pytest.raises(wasm.TypeCheckError) as info:
        CASES[name]()
    assert isinstance(info.value, wasm.WasmError) and isinstance(info.value, TypeError)
