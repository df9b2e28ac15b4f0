"""LEB128 readers with the specification's exact rules.

Each reader takes ``(data, pos, end)`` and returns ``(value, new_pos)``; ``end``
bounds the read (a section or a function body), so running past it is
"unexpected end" even when the file holds more bytes.  An encoding longer than
the type allows is "integer representation too long"; unused bits of the last
byte that are not a zero (or sign) extension are "integer too large".

The hot decoders (operators.py) inline the one-byte case and call these only
for multi-byte encodings.
"""

from __future__ import annotations

from ..errors import MalformedError

EOF_MESSAGE = "unexpected end of section or function"


def eof(pos: int) -> MalformedError:
    return MalformedError(EOF_MESSAGE, pos)


def read_u32(data, pos: int, end: int):
    if pos + 5 <= end:
        # Unrolled: linkers pad relocatable immediates (call targets, global
        # indices, addresses) to five bytes.
        b = data[pos]
        if b < 0x80:
            return b, pos + 1
        result = b & 0x7F
        b = data[pos + 1]
        if b < 0x80:
            return result | b << 7, pos + 2
        result |= (b & 0x7F) << 7
        b = data[pos + 2]
        if b < 0x80:
            return result | b << 14, pos + 3
        result |= (b & 0x7F) << 14
        b = data[pos + 3]
        if b < 0x80:
            return result | b << 21, pos + 4
        result |= (b & 0x7F) << 21
        b = data[pos + 4]
        if b & 0x80:
            raise MalformedError("integer representation too long", pos + 4)
        if b & 0x70:
            raise MalformedError("integer too large", pos + 4)
        return result | b << 28, pos + 5
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise eof(pos)
        b = data[pos]
        pos += 1
        if shift == 28:
            if b & 0x80:
                raise MalformedError("integer representation too long", pos - 1)
            if b & 0x70:
                raise MalformedError("integer too large", pos - 1)
            return result | (b << 28), pos
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _read_signed(data, pos: int, end: int, bits: int):
    """Signed LEB128 of ``bits`` bits (32, 33 or 64)."""
    result = 0
    shift = 0
    last_shift = (bits - 1) // 7 * 7          # shift of the last allowed byte
    while True:
        if pos >= end:
            raise eof(pos)
        b = data[pos]
        pos += 1
        if shift == last_shift:
            if b & 0x80:
                raise MalformedError("integer representation too long", pos - 1)
            # The bits of the last byte above the value's width must all
            # equal its sign bit.
            used = bits - shift                 # value bits held by this byte
            rest = b >> (used - 1)              # sign bit and the unused bits above it
            if rest != 0 and rest != (0x7F >> (used - 1)):
                raise MalformedError("integer too large", pos - 1)
            result |= (b & 0x7F) << shift
            shift += 7
            if b & 0x40:
                result -= 1 << shift
            return result, pos
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            if b & 0x40:
                result -= 1 << shift
            return result, pos


def read_s32(data, pos: int, end: int):
    if pos + 5 <= end:
        # Unrolled, as read_u32.
        b = data[pos]
        if b < 0x80:
            return (b - 0x80 if b & 0x40 else b), pos + 1
        result = b & 0x7F
        b = data[pos + 1]
        if b < 0x80:
            result |= b << 7
            return (result - 0x4000 if b & 0x40 else result), pos + 2
        result |= (b & 0x7F) << 7
        b = data[pos + 2]
        if b < 0x80:
            result |= b << 14
            return (result - 0x200000 if b & 0x40 else result), pos + 3
        result |= (b & 0x7F) << 14
        b = data[pos + 3]
        if b < 0x80:
            result |= b << 21
            return (result - 0x10000000 if b & 0x40 else result), pos + 4
        result |= (b & 0x7F) << 21
        b = data[pos + 4]
        if b & 0x80:
            raise MalformedError("integer representation too long", pos + 4)
        if b & 0x78 != 0 and b & 0x78 != 0x78:     # the 4 unused bits must extend the sign
            raise MalformedError("integer too large", pos + 4)
        result |= (b & 0x7F) << 28
        return (result - 0x800000000 if b & 0x40 else result), pos + 5
    return _read_signed(data, pos, end, 32)


def read_s33(data, pos: int, end: int):
    return _read_signed(data, pos, end, 33)


def read_s64(data, pos: int, end: int):
    return _read_signed(data, pos, end, 64)


def encode_u32(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if value:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def encode_s(value: int) -> bytes:
    out = bytearray()
    while True:
        b = value & 0x7F
        value >>= 7
        if (value == 0 and not b & 0x40) or (value == -1 and b & 0x40):
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)
