"""Hand-made hostile modules that random mutation rarely reaches: deep nesting, huge
counts in few bytes, enormous declared sizes.  Each must end in a pywinch exception
(or be accepted and behave), quickly, without RecursionError, MemoryError or a crash."""

from __future__ import annotations

import time

import pytest

import pywinch


def uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def section(sid: int, body: bytes) -> bytes:
    return bytes([sid]) + uleb(len(body)) + body


def module(*sections: bytes) -> bytes:
    return b"\0asm\1\0\0\0" + b"".join(sections)


def func_module(body: bytes, locals_: bytes = b"\0", results: bytes = b"\0") -> bytes:
    code = locals_ + body
    return module(section(1, b"\1\x60\0" + results), section(3, b"\1\0"),
                  section(10, b"\1" + uleb(len(code)) + code))


DEPTH = 100_000
CASES = {
    "100k nested blocks": func_module(b"\x02\x40" * DEPTH + b"\x0b" * DEPTH + b"\x0b"),
    "100k nested blocks, unclosed": func_module(b"\x02\x40" * DEPTH + b"\x0b"),
    "100k nested loops with br 0": func_module(b"\x03\x40" * DEPTH + b"\x0c\x00" + b"\x0b" * DEPTH + b"\x0b"),
    "100k nested ifs": func_module(b"\x41\x00\x04\x40" * DEPTH + b"\x0b" * DEPTH + b"\x0b"),
    "br_table with 2^32-1 targets": func_module(b"\x41\x00\x0e" + uleb(0xFFFFFFFF) + b"\x00\x0b"),
    "2^32-1 locals": func_module(b"\x0b", locals_=b"\1" + uleb(0xFFFFFFFF) + b"\x7f"),
    "locals summing past 2^32": func_module(b"\x0b", locals_=b"\2" + uleb(0xFFFFFFFF) + b"\x7f" + uleb(5) + b"\x7e"),
    "50k locals in 50k groups": func_module(b"\x0b", locals_=uleb(50_000) + b"\1\x7f" * 50_000),
    "type count 2^32-1": module(section(1, uleb(0xFFFFFFFF) + b"\x60\0\0")),
    "function count 2^32-1": module(section(1, b"\1\x60\0\0"), section(3, uleb(0xFFFFFFFF) + b"\0")),
    "1M params": module(section(1, b"\1\x60" + uleb(1_000_000) + b"\x7f" * 1_000_000 + b"\0")),
    "memory min 65536 pages": module(section(5, b"\1\0" + uleb(65536))),
    "memory min 65537 pages": module(section(5, b"\1\0" + uleb(65537))),
    "table min 2^32-1": module(section(4, b"\1\x70\0" + uleb(0xFFFFFFFF))),
    "data segment 2^32-1 bytes long": module(section(5, b"\1\0\1"),
                                             section(11, b"\1\0\x41\0\x0b" + uleb(0xFFFFFFFF) + b"x")),
    "data count 2^32-1": module(section(12, uleb(0xFFFFFFFF))),
    "name section bombs": module(section(0, b"\4name" + b"\1" + uleb(10) + uleb(0xFFFFFFFF) + b"\0\1a")),
    "100k-deep operand stack": func_module(b"\x41\x00" * DEPTH + b"\x1a" * DEPTH + b"\x0b"),
    "section size past the end": b"\0asm\1\0\0\0\1" + uleb(0xFFFFFFF0) + b"\0",
    "custom section name past the end": module(b"\0\5" + uleb(200) + b"abcd"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_shape(name):
    data = CASES[name]
    engine = pywinch.Engine()
    t0 = time.monotonic()
    try:
        m = pywinch.Module(engine, data)
    except pywinch.WasmError:
        pass
    else:
        store = pywinch.Store(engine)
        try:
            inst = pywinch.Instance(store, m, [])
        except pywinch.WasmError:
            pass
        else:
            for ext in inst.exports(store).values():
                assert ext is not None
    assert time.monotonic() - t0 < 30


TEXT_DEPTH = 50_000
TEXTS = {
    "50k nested parens": "(" * TEXT_DEPTH + ")" * TEXT_DEPTH,
    "50k nested folded blocks": "(module (func " + "(block " * TEXT_DEPTH + ")" * TEXT_DEPTH + "))",
    "50k nested folded i32.add": "(module (func (result i32) " + "(i32.add (i32.const 1) " * TEXT_DEPTH
                                 + "(i32.const 1)" + ")" * TEXT_DEPTH + "))",
    "unterminated string": '(module (data "' + "a" * 100_000,
    "unterminated block comment": "(module (; " * 10_000,
    "nested block comments": "(;" * TEXT_DEPTH + ";)" * TEXT_DEPTH + "(module)",
    "huge integer literal": "(module (func (result i32) (i32.const " + "9" * 100_000 + ")))",
    "huge float literal": "(module (func (result f64) (f64.const 0x" + "f" * 100_000 + "p+99999999999)))",
}


@pytest.mark.parametrize("name", list(TEXTS))
def test_hostile_text(name):
    t0 = time.monotonic()
    try:
        pywinch.Module(pywinch.Engine(), TEXTS[name])
    except pywinch.WasmError:
        pass
    assert time.monotonic() - t0 < 30
