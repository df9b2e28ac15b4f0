"""Bad and extreme inputs: the compiler fails with a pywinch error or compiles
in bounded time, never with a stray Python exception."""

import pytest

import pywinch as wasm
from pywinch.codegen import compile_module
from pywinch.errors import InvalidError, MalformedError, UnsupportedError
from pywinch.wasm.binary import decode_module
from pywinch.wasm.text.wat import wat2wasm


def run(wat, *args):
    engine = wasm.Engine()
    store = wasm.Store(engine)
    inst = wasm.Instance(store, wasm.Module(engine, wat2wasm(wat)), [])
    return inst.exports(store)["f"](store, *args)


def test_many_locals():
    wat = '(module (func (export "f") (result i64) (local ' + "i64 " * 50000 + \
          ") (local.set 49999 (i64.const -7)) (i64.add (local.get 49999) (local.get 1))))"
    assert run(wat) == -7


def test_long_body():
    body = "(local.set 0 (i32.add (local.get 0) (i32.const 3)))" * 30000
    assert run('(module (func (export "f") (result i32) (local i32) ' + body + " (local.get 0)))") == 90000


def test_deep_value_stack_spills_linearly():
    n = 5000
    wat = ('(module (memory 1) (data (i32.const 0) "\\01") (func (export "f") (result i32) '
           + "(i32.load8_u (i32.const 0))" * n + " i32.add" * (n - 1) + "))")
    assert run(wat) == n


def test_deep_nesting():
    n = 5000
    wat = '(module (func (export "f") (result i32) ' + "(block (result i32) " * n + "(i32.const 3)" + ")" * n + "))"
    assert run(wat) == 3


def test_simd_without_sse41_is_unsupported_not_a_crash():
    from pywinch.isa.x64 import cpu
    m = decode_module(wat2wasm('(module (func (result i32) (i32x4.extract_lane 0 (v128.const i32x4 1 2 3 4))))'))
    compile_module(m)
    with cpu.masked(cpu.SSE41), pytest.raises(UnsupportedError):
        compile_module(m)


@pytest.mark.parametrize("wat", [
    '(module (func (result i32) (i64.const 1)))',
    '(module (func (local.get 3)))',
    '(module (func (br 1)))',
])
def test_invalid_functions_raise_invalid_error(wat):
    m = decode_module(wat2wasm(wat))
    with pytest.raises(InvalidError):
        compile_module(m)


def test_truncated_body_is_malformed():
    data = bytearray(wat2wasm('(module (func (result i32) (i32.add (i32.const 1) (i32.const 2))))'))
    # Drop the final `end` of the body while keeping the section sizes consistent is
    # not possible by slicing; instead corrupt the end opcode into an illegal one.
    assert data[-1] == 0x0B
    data[-1] = 0xFF
    with pytest.raises((MalformedError, InvalidError)):
        compile_module(decode_module(bytes(data)))
