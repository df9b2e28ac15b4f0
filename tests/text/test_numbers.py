"""Literals: integer ranges, exact float rounding, NaN payloads."""

import random
import struct

import pytest

from pywinch.wasm.text.numbers import parse_f32, parse_f64, parse_int, parse_uint

from wasm_tools import HAVE_WASM_TOOLS, parse_many


def f32(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


@pytest.mark.parametrize("tok,bits,value", [
    ("0", 32, 0), ("-1", 32, 0xFFFFFFFF), ("4294967295", 32, 0xFFFFFFFF), ("-2147483648", 32, 0x80000000),
    ("0xffff_ffff", 32, 0xFFFFFFFF), ("+2147483647", 32, 0x7FFFFFFF), ("1_000_000", 32, 1000000),
    ("0x8000000000000000", 64, 1 << 63), ("-9223372036854775808", 64, 1 << 63), ("010", 32, 10),
    ("-0x1", 8, 0xFF), ("255", 8, 255),
])
def test_integers(tok, bits, value):
    assert parse_int(tok, bits) == value


@pytest.mark.parametrize("tok,bits", [
    ("4294967296", 32), ("-2147483649", 32), ("+2147483648", 32), ("0x1_0000_0000", 32), ("1__0", 32),
    ("_1", 32), ("1_", 32), ("0x", 32), ("0x_1", 32), ("--1", 32), ("-+1", 32), ("1.0", 32), ("0o7", 32),
    ("18446744073709551616", 64), ("9" * 5000, 64), ("256", 8),
])
def test_integers_out_of_range_or_malformed(tok, bits):
    with pytest.raises(ValueError):
        parse_int(tok, bits)


def test_unsigned_rejects_sign():
    assert parse_uint("0x10") == 16
    with pytest.raises(ValueError):
        parse_uint("+1")
    with pytest.raises(ValueError):
        parse_uint("4294967296")


@pytest.mark.parametrize("tok,bits", [
    ("0", 0), ("-0", 0x80000000), ("1", 0x3F800000), ("-0x1p-149", 0x80000001), ("0x1p-149", 1),
    ("0x1.fffffep127", 0x7F7FFFFF), ("inf", 0x7F800000), ("-inf", 0xFF800000),
    ("nan", 0x7FC00000), ("-nan", 0xFFC00000), ("nan:0x1", 0x7F800001), ("nan:0x7f_ffff", 0x7FFFFFFF),
    ("+nan:0x200000", 0x7FA00000),
    # ties round to even, directly from the literal (no double rounding through f64)
    ("0x1.000001p0", 0x3F800000), ("0x1.000003p0", 0x3F800002),
    ("0x1.00000100000000001p0", 0x3F800001),
    ("1.00000005960464477539062500000000000000001", 0x3F800001),
    ("1.000000059604644775390625", 0x3F800000),
    ("0x1.fffffefffffffffffp127", 0x7F7FFFFF),
    ("1e-46", 0), ("1.401298464324817e-45", 1), ("0.1", f32(0.1)), ("3.4028235e38", 0x7F7FFFFF),
    ("0x0.00000100000000001p-126", 1), ("0x1.8p-149", 2), ("0x1p-150", 0), ("0x1.0000000001p-150", 1),
])
def test_f32_literals(tok, bits):
    assert parse_f32(tok) == bits


@pytest.mark.parametrize("tok,bits", [
    ("-0.0", 1 << 63), ("0x1p-1074", 1), ("0x1.fffffffffffff8p1023", None), ("1.7976931348623157e308", 0x7FEFFFFFFFFFFFFF),
    ("nan:0xfffffffffffff", 0x7FFFFFFFFFFFFFFF), ("0x1.00000000000008p0", 0x3FF0000000000000),
    ("0x1.00000000000018p0", 0x3FF0000000000002), ("1_0.0_1e0_1", struct.unpack("<Q", struct.pack("<d", 100.1))[0]),
])
def test_f64_literals(tok, bits):
    if bits is None:
        with pytest.raises(ValueError):
            parse_f64(tok)
    else:
        assert parse_f64(tok) == bits


@pytest.mark.parametrize("tok", ["1e39", "0x1p128", "0x1.ffffffp127", "nan:0x0", "nan:0x800000", "1.", "1.e",
                                 ".5", "0x.1", "1e", "nan:0x", "infinity", "1__0.0", "0x1p", "1.0e+-1"])
def test_f32_rejects(tok):
    if tok == "1.":
        assert parse_f32(tok) == 0x3F800000   # a trailing dot is allowed
        return
    with pytest.raises(ValueError):
        parse_f32(tok)


def _random_literals(seed: int, n: int) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for _ in range(n):
        kind = rnd.randrange(3)
        sign = rnd.choice(["", "-", "+"])
        if kind == 0:
            s = str(rnd.getrandbits(rnd.randint(1, 100)))
            if rnd.random() < 0.7:
                s += "." + str(rnd.getrandbits(rnd.randint(1, 100)))
            if rnd.random() < 0.7:
                s += "e" + rnd.choice(["", "-", "+"]) + str(rnd.randint(0, 330))
        elif kind == 1:
            s = "0x" + format(rnd.getrandbits(rnd.randint(1, 80)), "x")
            if rnd.random() < 0.7:
                s += "." + format(rnd.getrandbits(rnd.randint(1, 80)), "x")
            if rnd.random() < 0.7:
                s += "p" + rnd.choice(["", "-", "+"]) + str(rnd.randint(0, 1100))
        else:
            # odd significands one bit wider than f32/f64 keep: exact ties
            width = rnd.choice([25, 54])
            s = "0x" + format(rnd.getrandbits(width) | 1 | (1 << (width - 1)), "x") + "p" + str(rnd.randint(-1200, 1000))
        out.append(sign + s)
    return out


@pytest.mark.skipif(not HAVE_WASM_TOOLS, reason="wasm-tools is not installed")
@pytest.mark.parametrize("ty,parse", [("f32", parse_f32), ("f64", parse_f64)])
def test_float_rounding_matches_wasm_tools(ty, parse):
    lits = _random_literals(7 if ty == "f32" else 8, 1500)
    accepted = []
    for t in lits:
        try:
            parse(t)
            accepted.append(t)
        except ValueError:
            pass
    assert len(accepted) > 800
    texts = ["(module (func " + "".join(f"({ty}.const {t}) drop " for t in accepted) + "))"]
    rejected = [t for t in lits if t not in accepted][:12]
    texts += [f"(module (func ({ty}.const {t}) drop))" for t in rejected]
    theirs = parse_many(texts)
    from pywinch.wasm.text import wat2wasm
    assert theirs[0] == wat2wasm(texts[0])
    assert all(b is None for b in theirs[1:]), "wasm-tools accepts a literal pywinch rejects"
