"""Integer and float literals of the text format, exactly as the spec reads them.

Every function takes the token text and returns an int, or raises
``ValueError`` with a message (the parser adds the position):

* integers come back as unsigned bit patterns of their width (``-1`` as i32
  is ``0xFFFFFFFF``), whether written signed or unsigned;
* results are memoized (the suite repeats the same literals many times);
* floats come back as raw IEEE bit patterns, so NaN payloads and ``-0.0``
  survive.  Decimal and hexadecimal literals round to nearest, ties to even,
  directly to the target width: f64 via CPython's correctly rounded
  ``float()``/``float.fromhex``, f32 the same way unless the f64 result is
  an exact f32 tie (double rounding could then go the wrong way), in which
  case the exact rational value is rounded with ``fractions.Fraction``.
"""

from __future__ import annotations

import math
import re
import struct
from fractions import Fraction
from functools import lru_cache

_DEC = r"[0-9](?:_?[0-9])*"
_HEX = r"[0-9a-fA-F](?:_?[0-9a-fA-F])*"
_INT_RE = re.compile(r"([+-]?)(?:0x(" + _HEX + r")|(" + _DEC + r"))")
_FLOAT_RE = re.compile(
    r"([+-]?)(?:"
    r"(" + _DEC + r"(?:\.(?:" + _DEC + r")?)?(?:[eE][+-]?" + _DEC + r")?)"
    r"|0x(" + _HEX + r"(?:\.(?:" + _HEX + r")?)?(?:[pP][+-]?" + _DEC + r")?)"
    r"|(inf)|nan(?::0x(" + _HEX + r"))?)"
)

_pack_f = struct.Struct("<f").pack
_unpack_I = struct.Struct("<I").unpack
_pack_d = struct.Struct("<d").pack
_unpack_Q = struct.Struct("<Q").unpack


@lru_cache(maxsize=1 << 16)
def parse_int(tok: str, bits: int) -> int:
    """An ``iN`` literal (signed or unsigned range) as an unsigned N-bit pattern."""
    m = _INT_RE.fullmatch(tok)
    if m is None:
        raise ValueError(f"expected an i{bits} literal, found {tok!r}")
    sign, hx, dec = m.groups()
    digits = hx if hx is not None else dec
    if len(digits) > bits:   # also keeps int() below its digit limit
        digits = digits.lstrip("0_") or "0"
        if len(digits) > bits:
            raise ValueError(f"i{bits} constant out of range: {tok}")
    v = int(digits, 16 if hx is not None else 10)
    if sign == "-":
        if v > 1 << (bits - 1):
            raise ValueError(f"i{bits} constant out of range: {tok}")
        return (-v) & ((1 << bits) - 1)
    if v >> bits:
        raise ValueError(f"i{bits} constant out of range: {tok}")
    if sign == "+" and v >> (bits - 1):
        # a signed literal must fit the signed range
        raise ValueError(f"i{bits} constant out of range: {tok}")
    return v


@lru_cache(maxsize=1 << 16)
def parse_uint(tok: str, bits: int = 32) -> int:
    """An unsigned literal (indices, offsets, limits): no sign allowed."""
    m = _INT_RE.fullmatch(tok)
    if m is None or m.group(1):
        raise ValueError(f"expected an unsigned integer, found {tok!r}")
    hx, dec = m.group(2), m.group(3)
    digits = (hx if hx is not None else dec).lstrip("0_") or "0"
    if len(digits) > bits:
        raise ValueError(f"integer constant out of range: {tok}")
    v = int(digits, 16 if hx is not None else 10)
    if v >> bits:
        raise ValueError(f"integer constant out of range: {tok}")
    return v


# (mantissa bits, exponent bias, exponent bits)
_F32 = (23, 127, 8)
_F64 = (52, 1023, 11)


@lru_cache(maxsize=1 << 16)
def parse_f32(tok: str) -> int:
    """An ``f32`` literal as its 32-bit pattern."""
    return _parse_float(tok, _F32)


@lru_cache(maxsize=1 << 16)
def parse_f64(tok: str) -> int:
    """An ``f64`` literal as its 64-bit pattern."""
    return _parse_float(tok, _F64)


def _parse_float(tok: str, fmt) -> int:
    m = _FLOAT_RE.fullmatch(tok)
    if m is None:
        raise ValueError(f"expected a float literal, found {tok!r}")
    mbits, bias, ebits = fmt
    sign_bit = 1 << (mbits + ebits) if m.group(1) == "-" else 0
    exp_all = ((1 << ebits) - 1) << mbits
    dec, hx, inf = m.group(2), m.group(3), m.group(4)
    if dec is not None or hx is not None:
        body = (dec if dec is not None else hx).replace("_", "")
        if dec is not None:
            x = float(body)
        else:
            x = _hex_to_f64(body)
        if math.isinf(x):
            raise ValueError(f"{'f64' if fmt is _F64 else 'f32'} constant out of range: {tok}")
        if fmt is _F64:
            return sign_bit | _unpack_Q(_pack_d(x))[0]
        if _is_f32_tie(x):
            return sign_bit | _round_exact_f32(_exact(body, dec is None))
        try:
            return sign_bit | _unpack_I(_pack_f(x))[0]
        except OverflowError:
            raise ValueError(f"f32 constant out of range: {tok}") from None
    if inf is not None:
        return sign_bit | exp_all
    payload_s = m.group(5)
    if payload_s is None:
        return sign_bit | exp_all | (1 << (mbits - 1))
    payload = int(payload_s.replace("_", ""), 16)
    if payload == 0 or payload >> mbits:
        raise ValueError(f"NaN payload out of range: {tok}")
    return sign_bit | exp_all | payload


def _hex_to_f64(body: str) -> float:
    # float.fromhex rounds correctly but overflows with an exception.
    try:
        return float.fromhex("0x" + body)
    except OverflowError:
        return math.inf


def _is_f32_tie(x: float) -> bool:
    """Whether the f64 ``x`` lies exactly halfway between two f32 neighbours."""
    if x == 0.0 or math.isinf(x):
        return False
    m, e = math.frexp(abs(x))            # x = m * 2**e, 0.5 <= m < 1
    # Bits of precision f32 keeps at this magnitude (fewer when subnormal).
    precision = 24 if e - 1 >= -126 else 24 - (-126 - (e - 1))
    if precision < 0:
        return False
    scaled = math.ldexp(m, precision + 1)  # exact: halfway iff an odd integer
    return scaled == int(scaled) and int(scaled) & 1 == 1


def _exact(body: str, is_hex: bool) -> Fraction:
    if not is_hex:
        return Fraction(body)
    mant, _, exp = body.lower().partition("p")
    whole, _, frac = mant.partition(".")
    value = Fraction(int(whole + frac, 16), 16 ** len(frac))
    e = int(exp) if exp else 0
    return value * (Fraction(2) ** e)


def _round_exact_f32(v: Fraction) -> int:
    """Round a non-negative rational to f32 bits, ties to even."""
    if v == 0:
        return 0
    e = v.numerator.bit_length() - v.denominator.bit_length()
    if Fraction(2) ** e > v:
        e -= 1                                  # now 2**e <= v < 2**(e+1)
    e = max(e, -126)
    q = v / (Fraction(2) ** (e - 23))           # the significand scaled to an integer
    n = q.numerator // q.denominator
    rem = q - n
    if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and n & 1):
        n += 1
    if n >= 1 << 24:
        n >>= 1
        e += 1
    if e > 127:
        raise ValueError("f32 constant out of range")
    if n < 1 << 23:                              # subnormal
        return n
    return ((e + 127) << 23) | (n - (1 << 23))
