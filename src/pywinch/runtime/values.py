"""Value types and the conversion of Python values to and from raw bits.

Value types are the binary format's bytes (0x7F i32 ... 0x6F externref), so
the decoder's types, the runtime's slots and the API agree without a table.
Raw values are unsigned integers of the slot's width (u64, or u128 for v128);
references are a ``VMFuncRef*`` address or an externref handle, 0 = null.
"""

from __future__ import annotations

import math
import operator
import struct

from ..errors import TypeCheckError
from ..wasm.types import BY_NAME, EXTERNREF, F32, F64, FUNCREF, I32, I64, V128

NAMES = {code: name for name, code in BY_NAME.items()}
REF_TYPES = (FUNCREF, EXTERNREF)
NUM_TYPES = (I32, I64, F32, F64, V128)

_f32 = struct.Struct("<f")
_u32 = struct.Struct("<I")
_f64 = struct.Struct("<d")
_u64 = struct.Struct("<Q")

M32 = 0xFFFFFFFF
M64 = 0xFFFFFFFFFFFFFFFF
M128 = (1 << 128) - 1


def type_name(t: int) -> str:
    return NAMES.get(t, f"<type {t:#x}>")


def f32_bits(x: float) -> int:
    try:
        return _u32.unpack(_f32.pack(x))[0]
    except OverflowError:
        # Python refuses to round a finite double beyond f32 range; Wasm rounds to infinity.
        return _u32.unpack(_f32.pack(math.copysign(math.inf, x)))[0]


def bits_f32(b: int) -> float:
    return _f32.unpack(_u32.pack(b & M32))[0]


def f64_bits(x: float) -> int:
    return _u64.unpack(_f64.pack(x))[0]


def bits_f64(b: int) -> float:
    return _f64.unpack(_u64.pack(b & M64))[0]


def signed32(b: int) -> int:
    b &= M32
    return b - (1 << 32) if b & 0x80000000 else b


def signed64(b: int) -> int:
    b &= M64
    return b - (1 << 64) if b >> 63 else b


def check_int(t: int, v) -> int:
    """Accept any in-range Python int (signed or unsigned spelling); return raw bits."""
    if type(v) is not int:
        # bool and other int-likes (numpy integers: __index__) are accepted; float, str... refused.
        try:
            v = operator.index(v)
        except TypeError:
            raise TypeCheckError(f"expected an int for {type_name(t)}, got {type(v).__name__}") from None
    if t == I32:
        if -0x80000000 <= v <= M32:
            return v & M32
    elif t == I64:
        if -0x8000000000000000 <= v <= M64:
            return v & M64
    elif -(1 << 127) <= v <= M128:
        return v & M128
    raise TypeCheckError(f"integer {v} out of range for {type_name(t)}")


def check_float(t: int, v) -> int:
    if isinstance(v, (bool, str, bytes)) or not (isinstance(v, (float, int)) or hasattr(v, "__float__")):
        raise TypeCheckError(f"expected a float for {type_name(t)}, got {type(v).__name__}")
    try:
        v = float(v)
    except OverflowError:
        raise TypeCheckError(f"integer {v} too large for {type_name(t)}") from None
    return f32_bits(v) if t == F32 else f64_bits(v)


def num_to_raw(t: int, v) -> int:
    if t == I32 or t == I64 or t == V128:
        return check_int(t, v)
    if t == F32 or t == F64:
        return check_float(t, v)
    raise TypeCheckError(f"{type_name(t)} is not a number type")


def raw_to_num(t: int, b: int):
    if t == I32:
        return signed32(b)
    if t == I64:
        return signed64(b)
    if t == F32:
        return bits_f32(b)
    if t == F64:
        return bits_f64(b)
    if t == V128:
        return b & M128
    raise TypeCheckError(f"{type_name(t)} is not a number type")
