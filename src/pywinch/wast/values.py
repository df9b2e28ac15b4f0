"""Wasm values and expected-result patterns as the WAST runner sees them.

The runner never lets a float pass through Python arithmetic: every number is
carried as its *bit pattern* (an unsigned int), so NaN payloads and signs are
compared exactly, as the specification requires.

A value is a tuple ``(type, payload)``:

- ``("i32" | "i64" | "f32" | "f64", bits)``  unsigned bit pattern
- ``("v128", bits)``                        128-bit unsigned int, lane 0 lowest
- ``("funcref", None | func)`` / ``("externref", None | HostRef)``

A pattern (what ``assert_return`` expects) is one of:

- ``("i32" | "i64", bits)``
- ``("f32" | "f64", bits | "nan:canonical" | "nan:arithmetic")``
- ``("v128", lane_type, [lane pattern, ...])``  lane patterns as for scalars
- ``("ref.null", "func" | "extern" | None)``    a null reference (of that kind)
- ``("ref.extern", n | None)``                 the host reference n (None: any non-null)
- ``("ref.func", None)``                        any non-null function reference
- ``("either", [pattern, ...])``                one of the alternatives
"""

from __future__ import annotations

import struct

__all__ = [
    "HostRef", "LANES", "match", "format_value", "format_pattern", "v128_from_lanes",
    "lanes_of", "F32_CANON", "F64_CANON",
]

# (lane width in bits, number of lanes) per v128 shape
LANES = {"i8": (8, 16), "i16": (16, 8), "i32": (32, 4), "i64": (64, 2), "f32": (32, 4), "f64": (64, 2)}

# exponent all ones, quiet bit, sign bit
F32_EXP, F32_QUIET, F32_SIGN = 0x7F800000, 0x00400000, 0x80000000
F64_EXP, F64_QUIET, F64_SIGN = 0x7FF0000000000000, 0x0008000000000000, 0x8000000000000000
F32_CANON = F32_EXP | F32_QUIET
F64_CANON = F64_EXP | F64_QUIET
_NAN = {32: (F32_EXP, F32_QUIET, F32_SIGN), 64: (F64_EXP, F64_QUIET, F64_SIGN)}


class HostRef:
    """The host reference ``ref.extern n`` of a script: an opaque object with identity by ``n``."""

    __slots__ = ("n",)

    def __init__(self, n: int):
        self.n = n

    def __eq__(self, other):
        return isinstance(other, HostRef) and other.n == self.n

    def __hash__(self):
        return hash(("HostRef", self.n))

    def __repr__(self):
        return f"ref.extern {self.n}"


def v128_from_lanes(lane_type: str, lanes: list[int]) -> int:
    width, count = LANES[lane_type]
    if len(lanes) != count:
        raise ValueError(f"v128 {lane_type}x{count} needs {count} lanes, got {len(lanes)}")
    mask = (1 << width) - 1
    bits = 0
    for i, lane in enumerate(lanes):
        bits |= (lane & mask) << (i * width)
    return bits


def lanes_of(bits: int, lane_type: str) -> list[int]:
    width, count = LANES[lane_type]
    mask = (1 << width) - 1
    return [(bits >> (i * width)) & mask for i in range(count)]


def _match_float(width: int, expected, bits: int) -> bool:
    if isinstance(expected, int):
        return bits == expected
    exp, quiet, sign = _NAN[width]
    magnitude = bits & ~sign
    if expected == "nan:canonical":
        return magnitude == exp | quiet
    if expected == "nan:arithmetic":
        return magnitude & (exp | quiet) == exp | quiet
    raise ValueError(f"unknown float pattern {expected!r}")


def match(pattern: tuple, value: tuple) -> bool:
    """Whether ``value`` satisfies ``pattern`` (bit-exact for numbers)."""
    kind = pattern[0]
    vtype, payload = value
    if kind == "i32" or kind == "i64":
        return vtype == kind and payload == pattern[1]
    if kind == "f32":
        return vtype == "f32" and _match_float(32, pattern[1], payload)
    if kind == "f64":
        return vtype == "f64" and _match_float(64, pattern[1], payload)
    if kind == "v128":
        if vtype != "v128":
            return False
        lane_type, lanes = pattern[1], pattern[2]
        actual = lanes_of(payload, lane_type)
        if lane_type in ("f32", "f64"):
            width = LANES[lane_type][0]
            return all(_match_float(width, e, a) for e, a in zip(lanes, actual))
        mask = (1 << LANES[lane_type][0]) - 1
        return all((e & mask) == a for e, a in zip(lanes, actual))
    if kind == "ref.null":
        if payload is not None:
            return False
        want = pattern[1]
        return want is None or vtype == want + "ref"
    if kind == "ref.extern":
        if vtype != "externref" or payload is None:
            return False
        return pattern[1] is None or payload == HostRef(pattern[1])
    if kind == "ref.func":
        return vtype == "funcref" and payload is not None
    if kind == "either":
        return any(match(p, value) for p in pattern[1])
    raise ValueError(f"unknown pattern kind {kind!r}")


def _float_text(width: int, bits: int) -> str:
    exp, quiet, sign = _NAN[width]
    if bits & exp == exp and bits & ~(exp | sign):
        payload = bits & ~(exp | sign)
        return f"{'-' if bits & sign else ''}nan:{payload:#x}"
    f = struct.unpack("<f" if width == 32 else "<d", bits.to_bytes(width // 8, "little"))[0]
    return repr(f)


def _num_text(kind: str, p) -> str:
    if isinstance(p, str):
        return p
    if kind == "f32" or kind == "f64":
        width = 32 if kind == "f32" else 64
        return f"{_float_text(width, p)} ({p:#0{width // 4 + 2}x})"
    width = 32 if kind in ("i32",) else 64 if kind == "i64" else LANES[kind][0]
    signed = p - (1 << width) if p >> (width - 1) else p
    return str(signed) if signed == p else f"{signed} ({p:#x})"


def format_value(value: tuple) -> str:
    vtype, payload = value
    if vtype == "v128":
        return f"v128 i32x4 {' '.join(f'{l:#010x}' for l in lanes_of(payload, 'i32'))}"
    if vtype in ("funcref", "externref"):
        if payload is None:
            return f"ref.null {vtype[:-3]}"
        return repr(payload) if isinstance(payload, HostRef) else f"{vtype} (non-null)"
    return f"{vtype} {_num_text(vtype, payload)}"


def format_pattern(pattern: tuple) -> str:
    kind = pattern[0]
    if kind in ("i32", "i64", "f32", "f64"):
        return f"{kind} {_num_text(kind, pattern[1])}"
    if kind == "v128":
        lane_type, lanes = pattern[1], pattern[2]
        width = LANES[lane_type][0]
        text = " ".join(l if isinstance(l, str) else _float_text(width, l) if lane_type[0] == "f"
                        else str(l) for l in lanes)
        return f"v128 {lane_type}x{len(lanes)} {text}"
    if kind == "ref.null":
        return f"ref.null {pattern[1] or ''}".rstrip()
    if kind == "ref.extern":
        return "ref.extern" if pattern[1] is None else f"ref.extern {pattern[1]}"
    if kind == "ref.func":
        return "ref.func"
    if kind == "either":
        return "either(" + " | ".join(format_pattern(p) for p in pattern[1]) + ")"
    return repr(pattern)


def format_values(values) -> str:
    return "(" + ", ".join(format_value(v) for v in values) + ")"


def format_patterns(patterns) -> str:
    return "(" + ", ".join(format_pattern(p) for p in patterns) + ")"
