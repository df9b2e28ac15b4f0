"""Small binary writers shared by the text compiler: LEB128 (wasm/leb128.py's,
small values precomputed), names, sections."""

from __future__ import annotations

from ..leb128 import encode_s as sleb, encode_u32 as uleb


# Most indices and constants are small: their encodings are precomputed.
ULEB_SMALL = [uleb(i) for i in range(1024)]
SLEB_SMALL = {i: sleb(i) for i in range(-256, 1024)}


def u32(v: int) -> bytes:
    return ULEB_SMALL[v] if v < 1024 else uleb(v)


def s32_of_bits(bits: int) -> bytes:
    """The signed LEB128 of an i32 given as its unsigned bit pattern."""
    v = bits - (1 << 32) if bits & 0x80000000 else bits
    e = SLEB_SMALL.get(v)
    return e if e is not None else sleb(v)


def s64_of_bits(bits: int) -> bytes:
    v = bits - (1 << 64) if bits >> 63 else bits
    e = SLEB_SMALL.get(v)
    return e if e is not None else sleb(v)


def name(b: bytes) -> bytes:
    return u32(len(b)) + b


def section(sid: int, count: int, body: bytes | bytearray) -> bytes:
    """A section holding a vector of ``count`` items encoded in ``body``."""
    return raw_section(sid, u32(count) + bytes(body))


def raw_section(sid: int, payload: bytes) -> bytes:
    """A section around ``payload`` as it is (start, data count, custom)."""
    return bytes([sid]) + uleb(len(payload)) + payload
