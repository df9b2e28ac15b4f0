"""The unrolled LEB128 readers (read_u32, read_s32) against the generic
byte loop: same values, same positions, same errors at the same offsets,
including encodings cut short by ``end`` and the five-byte padded forms."""

from __future__ import annotations

import random

import pytest

from pywinch.errors import MalformedError
from pywinch.wasm import leb128


def reference(data, pos, end, bits, signed):
    """The specification's rule, byte by byte."""
    result = shift = 0
    limit = (bits - 1) // 7 * 7
    while True:
        if pos >= end:
            raise MalformedError(leb128.EOF_MESSAGE, pos)
        b = data[pos]
        pos += 1
        if shift == limit:
            if b & 0x80:
                raise MalformedError("integer representation too long", pos - 1)
            used = bits - shift
            top = b >> (used - 1) if signed else b >> used
            if signed and top not in (0, 0x7F >> (used - 1)) or not signed and top:
                raise MalformedError("integer too large", pos - 1)
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            if signed and b & 0x40:
                result -= 1 << shift
            return result, pos


def outcome(fn, *args):
    try:
        return fn(*args)
    except MalformedError as e:
        return e.message, e.offset


EDGES = [0x00, 0x01, 0x07, 0x08, 0x0F, 0x10, 0x3F, 0x40, 0x41, 0x70, 0x77, 0x78, 0x7E, 0x7F,
         0x80, 0x81, 0xBF, 0xC0, 0xFF]


@pytest.mark.parametrize("name, signed", [("read_u32", False), ("read_s32", True)])
def test_unrolled_reader_matches_the_rule(name, signed):
    fn = getattr(leb128, name)
    rng = random.Random(7)
    for _ in range(40000):
        n = rng.randint(1, 7)
        body = bytes(rng.choice(EDGES) if rng.random() < 0.8 else rng.randrange(256) for _ in range(n))
        pre = rng.randint(0, 2)
        data = bytes(pre) + body
        end = rng.randint(pre, len(data))
        assert outcome(fn, data, pre, end) == outcome(reference, data, pre, end, 32, signed), \
            (data.hex(), pre, end)


def test_padded_forms():
    assert leb128.read_u32(b"\x85\x80\x80\x80\x00", 0, 5) == (5, 5)
    assert leb128.read_s32(b"\xff\xff\xff\xff\x7f", 0, 5) == (-1, 5)
    assert leb128.read_s32(b"\x80\x80\x80\x80\x78", 0, 5) == (-(1 << 31), 5)
    assert outcome(leb128.read_s32, b"\x80\x80\x80\x80\x70", 0, 5) == ("integer too large", 4)
    assert outcome(leb128.read_u32, b"\x80\x80\x80\x80\x10", 0, 5) == ("integer too large", 4)
    assert outcome(leb128.read_u32, b"\x80\x80\x80\x80\x80\x00", 0, 6) == ("integer representation too long", 4)
    assert outcome(leb128.read_u32, b"\x80\x80\x80\x80\x00", 0, 4) == (leb128.EOF_MESSAGE, 4)
