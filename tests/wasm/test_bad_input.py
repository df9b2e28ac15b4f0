"""Hostile and broken input: each case is a clear pywinch error, never a stray
Python exception, a recursion error or a large allocation."""

from __future__ import annotations

import tracemalloc

import pytest

from pywinch.errors import InvalidError, MalformedError
from pywinch.wasm import decode_module, validate_bytes
from pywinch.wasm.types import I32, I64

from .wasmbuild import HEADER, body, functype, module, name, one_func, section, u, vec


def test_valid_baseline():
    m = validate_bytes(one_func(b"\x20\x00\x20\x01\x6a\x0b", params=(I32, I32), results=(I32,)))
    assert m.func_type(0).params == (I32, I32)


def test_every_truncation_is_malformed():
    data = module(
        section(1, vec([functype((I32,), (I32,)), functype()])),
        section(2, vec([name("env") + name("f") + b"\x00" + u(1)])),
        section(3, vec([u(0)])),
        section(5, vec([b"\x01\x01\x02"])),
        section(6, vec([b"\x7f\x01\x41\x05\x0b"])),
        section(7, vec([name("run") + b"\x00" + u(1)])),
        section(10, vec([body(b"\x20\x00\x23\x00\x6a\x0b", [(2, I64)])])),
        section(11, vec([b"\x00\x41\x00\x0b" + name(b"hello")])),
        section(0, name("name") + b"\x01" + u(6) + vec([u(1) + name("run")])),
    )
    m = validate_bytes(data)
    assert m.names.functions == {1: "run"}
    boundaries = {8}
    pos = 8
    while pos < len(data):     # section boundaries: truncating there leaves a well-formed prefix
        length, after = __import__("pywinch.wasm.leb128", fromlist=["x"]).read_u32(data, pos + 1, len(data))
        pos = after + length
        boundaries.add(pos)
    for cut in range(len(data)):
        if cut in boundaries:
            continue
        with pytest.raises(MalformedError):
            validate_bytes(data[:cut])


def test_section_cut_short_inside_file():
    # The type section claims two types but holds one and its size says so.
    data = module(section(1, u(2) + functype()))
    with pytest.raises(MalformedError, match="unexpected end"):
        decode_module(data)


@pytest.mark.parametrize("sid", [1, 2, 3, 4, 5, 6, 7, 9, 10, 11])
def test_huge_count_no_allocation(sid):
    data = module(section(sid, u(0xFFFFFFFF)))
    tracemalloc.start()
    try:
        with pytest.raises(MalformedError) as e:
            decode_module(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024
    assert "unexpected end" in e.value.message or "inconsistent" in e.value.message


def test_huge_br_table_count():
    code = b"\x02\x40\x41\x00\x0e" + u(0xFFFFFFF0) + b"\x00\x0b\x0b"
    tracemalloc.start()
    try:
        with pytest.raises(MalformedError, match="unexpected end"):
            validate_bytes(one_func(code))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024


def test_huge_byte_lengths():
    # A name and a data segment whose lengths exceed the file.
    with pytest.raises(MalformedError, match="length out of bounds"):
        decode_module(module(section(7, u(1) + u(0x7FFFFFFF) + b"ab")))
    with pytest.raises(MalformedError, match="length out of bounds"):
        decode_module(module(section(0, u(0xFFFFFFF0))))


@pytest.mark.parametrize("depth", [100_000])
def test_deeply_nested_blocks(depth):
    code = b"\x02\x40" * depth + b"\x0b" * depth + b"\x0b"
    validate_bytes(one_func(code))
    # The same with a type error at the innermost level: found, not a RecursionError.
    bad = b"\x02\x40" * depth + b"\x41\x00" + b"\x0b" * depth + b"\x0b"
    with pytest.raises(InvalidError, match="type mismatch"):
        validate_bytes(one_func(bad))
    # And with the closing ends missing: malformed.
    with pytest.raises(MalformedError):
        validate_bytes(one_func(b"\x02\x40" * depth + b"\x0b"))


def test_deeply_nested_if_results():
    depth = 100_000
    code = (b"\x41\x01\x04\x7f") * depth + b"\x41\x07" + (b"\x05\x41\x00\x0b") * depth + b"\x1a\x0b"
    validate_bytes(one_func(code))


def test_too_many_locals():
    with pytest.raises(MalformedError, match="too many locals"):
        decode_module(one_func(b"\x0b", locals_=[(50001, I32)]))
    with pytest.raises(MalformedError, match="too many locals"):
        decode_module(one_func(b"\x0b", locals_=[(0xFFFFFFFF, I32), (0xFFFFFFFF, I64)]))
    # 50,000 is still fine, and does not cost 50,000 entries until asked.
    m = validate_bytes(one_func(b"\x20\xcf\x86\x03\x1a\x0b", locals_=[(50000, I64)]))
    assert m.codes[0].num_locals == 50000


@pytest.mark.parametrize("bad", [b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"a\x80", b"\xe2\x82"])
def test_invalid_utf8(bad):
    with pytest.raises(MalformedError, match="malformed UTF-8 encoding"):
        decode_module(module(section(2, vec([name(bad) + name("f") + b"\x00" + u(0)]))))
    with pytest.raises(MalformedError, match="malformed UTF-8 encoding"):
        decode_module(module(section(0, name(bad))))
    with pytest.raises(MalformedError, match="malformed UTF-8 encoding"):
        decode_module(module(section(1, vec([functype()])), section(3, vec([u(0)])),
                             section(7, vec([name(bad) + b"\x00" + u(0)])), section(10, vec([body(b"\x0b")]))))


def test_broken_name_section_is_ignored():
    names = name("name") + b"\x01" + u(40) + vec([u(0) + name(b"\xff")])
    m = validate_bytes(one_func(b"\x0b") + section(0, names))
    assert m.names.functions == {}
    def sub(i, payload):
        return bytes([i]) + u(len(payload)) + payload
    good = name("name") + sub(0, name("mod")) + sub(1, vec([u(0) + name("f")])) \
        + sub(2, vec([u(0) + vec([u(0) + name("x")])]))
    m = validate_bytes(one_func(b"\x0b", params=(I32,)) + section(0, good))
    assert (m.names.module, m.names.functions, m.names.locals) == ("mod", {0: "f"}, {0: {0: "x"}})


@pytest.mark.parametrize("enc,msg", [
    (b"\x80\x80\x80\x80\x80\x00", "integer representation too long"),
    (b"\x80\x80\x80\x80\x70", "integer too large"),
    (b"\x80\x80\x80", "unexpected end"),
])
def test_leb128_u32_rules(enc, msg):
    with pytest.raises(MalformedError, match=msg):
        decode_module(module(section(1, enc)))


@pytest.mark.parametrize("enc,ok", [
    (b"\xff\xff\xff\xff\x07", True), (b"\x80\x80\x80\x80\x78", True),
    (b"\xff\xff\xff\xff\x0f", False), (b"\x80\x80\x80\x80\x70", False),
])
def test_leb128_s32_rules(enc, ok):
    data = one_func(b"\x41" + enc + b"\x1a\x0b")
    if ok:
        validate_bytes(data)
    else:
        with pytest.raises(MalformedError, match="integer too large"):
            validate_bytes(data)


def test_errors_carry_offsets():
    data = one_func(b"\x41\x00\x0b")     # leaves an i32 on the stack of a [] -> [] function
    with pytest.raises(InvalidError) as e:
        validate_bytes(data)
    assert e.value.message == "type mismatch"
    assert data[e.value.offset] == 0x0B
    with pytest.raises(MalformedError) as e:
        validate_bytes(HEADER + b"\x0d\x00")
    assert e.value.message == "malformed section id" and e.value.offset == 8


def test_garbage_never_escapes():
    import random
    rng = random.Random(5)
    for _ in range(3000):
        data = HEADER + rng.randbytes(rng.randrange(1, 40))
        try:
            validate_bytes(data)
        except (MalformedError, InvalidError):
            pass
