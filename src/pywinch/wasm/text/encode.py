"""Small binary writers shared by the text compiler (LEB128, vectors, names)."""

from __future__ import annotations


def uleb(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def sleb(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if (v == 0 and not b & 0x40) or (v == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


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
    payload = u32(count) + bytes(body)
    return bytes([sid]) + uleb(len(payload)) + payload
