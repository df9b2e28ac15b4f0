"""SIMD (v128) lowering checked against Wasmtime: every 0xFD operator of a
fixed shape (v:v, vv:v, vvv:v, v:i, vi:v) runs on both runtimes over the same
random and hand-picked vectors (read from and written to linear memory, so
no v128 crosses the Wasmtime boundary); the 16 result bytes must agree, NaN
lanes of float results compared as "both NaN" (both runtimes canonicalize).

Run twice: with AVX (VEX forms) and with AVX masked (SSE forms).
Also: the emulated i64x2 comparisons without SSE4.2, v128 across calls
(parameters, several results, spilled values, locals, globals, blocks) and
at the Python boundary.
"""

import random
import struct

import pytest

wasmtime = pytest.importorskip("wasmtime")

import pywinch as pw
from pywinch.isa.x64 import cpu
from pywinch.wasm import opcodes as op
from pywinch.wasm.text.wat import wat2wasm

pytestmark = pytest.mark.skipif(not (cpu.has(cpu.SSSE3) and cpu.has(cpu.SSE41)), reason="needs SSSE3 and SSE4.1")

SHAPES = ("v:v", "vv:v", "vvv:v", "v:i", "vi:v")
OPS = [(op.NAMES[c], op.SIGS[c]) for c in range(op.FD_BASE, op.NUM_CODES)
       if op.NAMES[c] and op.IMMEDIATES[c] == op.NONE and op.SIGS[c] in SHAPES]


def _body(name, sig):
    ld = "(v128.load (i32.const {}))"
    if sig == "v:v":
        args = ld.format(16)
    elif sig == "vv:v":
        args = ld.format(16) + ld.format(32)
    elif sig == "vvv:v":
        args = ld.format(16) + ld.format(32) + ld.format(48)
    elif sig == "vi:v":
        args = ld.format(16) + "(i32.load (i32.const 32))"
    else:
        return f"(i32.store (i32.const 0) ({name} {ld.format(16)}))"
    return f"(v128.store (i32.const 0) ({name} {args}))"


CONST_OPERAND = "(v128.const i32x4 0x80000001 0x7fc00000 0xffff0000 0x00ff7f80)"


def module_wat():
    funcs = [f'(func (export "{n}") {_body(n, s)})' for n, s in OPS]
    # Binary operators with a local ("L/") or a constant ("K/") as first operand and
    # a register as second (the commuted forms read the first from memory).
    for n, s in OPS:
        if s == "vv:v":
            funcs.append(f'(func (export "L/{n}") (local v128) (local.set 0 (v128.load (i32.const 16))) '
                         f'(v128.store (i32.const 0) ({n} (local.get 0) (v128.load (i32.const 32)))))')
            funcs.append(f'(func (export "K/{n}") '
                         f'(v128.store (i32.const 0) ({n} {CONST_OPERAND} (v128.load (i32.const 32)))))')
    return "(module (memory (export \"mem\") 1) " + " ".join(funcs) + ")"


def _f32(v):
    return struct.pack("<f", v)


def _f64(v):
    return struct.pack("<d", v)


SPECIAL_F32 = [0.0, -0.0, 1.5, -2.5, 0.5, -0.5, 2.5, 3.5, 2147483520.0, 2147483648.0, 4294967040.0, 4294967296.0,
               -2147483904.0, 1e20, -1e20, float("inf"), float("-inf"), float("nan"), 1e-45, -1e-45]
SPECIAL_F64 = [0.0, -0.0, 1.5, -2.5, 0.5, 2.5, 2147483647.0, 2147483647.5, 2147483648.0, -2147483648.5,
               -2147483649.0, 4294967295.0, 4294967295.9, 4294967296.0, 1e300, float("inf"), float("-inf"),
               float("nan"), 5e-324]
SPECIAL_INT = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]


def vectors(rng, n):
    out = []
    for _ in range(n):
        kind = rng.randrange(5)
        if kind == 0:
            out.append(bytes(rng.randrange(256) for _ in range(16)))
        elif kind == 1:
            out.append(b"".join(_f32(rng.choice(SPECIAL_F32)) for _ in range(4)))
        elif kind == 2:
            out.append(b"".join(_f64(rng.choice(SPECIAL_F64)) for _ in range(2)))
        elif kind == 3:
            w = rng.choice((1, 2, 4, 8))
            out.append(b"".join((rng.choice(SPECIAL_INT) & ((1 << 8 * w) - 1)).to_bytes(w, "little")
                                for _ in range(16 // w)))
        else:
            out.append(bytes(rng.choice((0, 0x80, 0xFF, 0x7F, 1)) for _ in range(16)))
    return out


def _same(name, got, want):
    if got == want:
        return True
    lane = 4 if name.startswith("f32x4") else 8 if name.startswith("f64x2") else 0
    if not lane:
        return False
    fmt = "<f" if lane == 4 else "<d"
    for i in range(0, 16, lane):
        a = struct.unpack(fmt, got[i:i + lane])[0]
        b = struct.unpack(fmt, want[i:i + lane])[0]
        if a != a and b != b:
            continue
        if got[i:i + lane] != want[i:i + lane]:
            return False
    return True


class Runner:
    def __init__(self, wasm_bytes):
        self.ws = wasmtime.Store(wasmtime.Engine())
        wi = wasmtime.Instance(self.ws, wasmtime.Module(self.ws.engine, wasm_bytes), [])
        self.wx = wi.exports(self.ws)
        self.wmem = self.wx["mem"]
        self.ps = pw.Store(pw.Engine())
        pi = pw.Instance(self.ps, pw.Module(self.ps.engine, wasm_bytes), [])
        self.px = pi.exports(self.ps)
        self.pmem = self.px["mem"]

    def run(self, name, inputs, result_size):
        data = b"".join(inputs)
        self.wmem.write(self.ws, b"\0" * 16 + data, 0)
        self.pmem.write(self.ps, b"\0" * 16 + data, 0)
        self.wx[name](self.ws)
        self.px[name](self.ps)
        return (bytes(self.pmem.read(self.ps, 0, result_size)), bytes(self.wmem.read(self.ws, 0, result_size)))


@pytest.fixture(scope="module", params=["avx", "sse4.1"])
def runner(request):
    """The module compiled with the host's features, and once more without AVX
    (the SSE forms of the sequences that have VEX variants)."""
    if request.param == "avx":
        if not cpu.has(cpu.AVX):
            pytest.skip("the CPU has no AVX")
        return Runner(wat2wasm(module_wat()))
    with cpu.masked(cpu.AVX):
        return Runner(wat2wasm(module_wat()))


def test_every_simple_simd_operator_is_covered():
    assert len(OPS) > 170


@pytest.mark.parametrize("name,sig", OPS, ids=[n for n, _ in OPS])
def test_operator_matches_wasmtime(runner, name, sig):
    rng = random.Random(name)
    nvec = sig.count("v") - (1 if sig.endswith("v") else 0)
    for it in range(60):
        inputs = vectors(rng, nvec)
        if sig == "vi:v":
            n = rng.choice([0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, -1]) if it % 2 else rng.randrange(1 << 32)
            inputs.append((n & 0xFFFFFFFF).to_bytes(4, "little"))
        got, want = runner.run(name, inputs, 4 if sig == "v:i" else 16)
        assert _same(name, got, want), f"{name}{[x.hex() for x in inputs]}: pywinch {got.hex()}, wasmtime {want.hex()}"


BINARY = [n for n, s in OPS if s == "vv:v"]
UNARY = [n for n, s in OPS if s == "v:v"]


def test_operators_under_register_pressure_match_wasmtime():
    """Fifteen live v128 values below each operator: its temporaries come from spills."""
    live = "(v128.load (i32.const 48)) " * 15
    drops = "drop " * 15
    funcs = [f'(func (export "{n}") {live} {_body(n, s)} {drops})' for n, s in OPS if s in ("v:v", "vv:v", "vi:v")]
    r = Runner(wat2wasm("(module (memory (export \"mem\") 1) " + " ".join(funcs) + ")"))
    rng = random.Random(7)
    for n, s in OPS:
        if s not in ("v:v", "vv:v", "vi:v"):
            continue
        for _ in range(4):
            inputs = vectors(rng, 3 if s != "vi:v" else 1)
            if s == "vi:v":
                inputs += [rng.randrange(1 << 32).to_bytes(4, "little") + bytes(12), bytes(16)]
            got, want = r.run(n, inputs, 16)
            assert _same(n, got, want), (n, [x.hex() for x in inputs], got.hex(), want.hex())


@pytest.mark.parametrize("name", BINARY)
def test_memory_first_operand_matches_wasmtime(runner, name):
    rng = random.Random("LK" + name)
    for it in range(20):
        inputs = vectors(rng, 2)
        for variant in ("L/", "K/"):
            got, want = runner.run(variant + name, inputs, 16)
            assert _same(name, got, want), f"{variant}{name}{[x.hex() for x in inputs]}: {got.hex()} != {want.hex()}"


def test_i64x2_compares_without_sse42():
    names = ["i64x2.lt_s", "i64x2.gt_s", "i64x2.le_s", "i64x2.ge_s"]
    wat = "(module (memory (export \"mem\") 1) " + " ".join(
        f'(func (export "{n}") {_body(n, "vv:v")})' for n in names) + ")"
    with cpu.masked(cpu.SSE42):
        r = Runner(wat2wasm(wat))
    rng = random.Random(42)
    edge = [0, 1, -1, (1 << 63) - 1, -(1 << 63), 1 << 32, (1 << 32) - 1, -(1 << 32)]
    for _ in range(300):
        lanes = [rng.choice(edge + [rng.randrange(-(1 << 63), 1 << 63)]) for _ in range(4)]
        inputs = [b"".join(x.to_bytes(8, "little", signed=True) for x in lanes[k:k + 2]) for k in (0, 2)]
        for n in names:
            got, want = r.run(n, inputs, 16)
            assert got == want, (n, lanes)


def test_constant_operands_fold_or_use_the_pool():
    # Constant shift counts, lane extraction from constants, constant splats.
    wat = """(module
      (func (export "f") (param i32) (result i32)
        (i32x4.extract_lane 1 (i32x4.add (i32x4.splat (local.get 0)) (v128.const i32x4 1 2 3 4))))
      (func (export "g") (result i32) (i8x16.extract_lane_s 3 (v128.const i8x16 0 0 0 -5 0 0 0 0 0 0 0 0 0 0 0 0)))
      (func (export "h") (param i32) (result i32)
        (i8x16.extract_lane_u 0 (i8x16.shr_s (i8x16.splat (local.get 0)) (i32.const 9)))))"""
    s = pw.Store(pw.Engine())
    x = pw.Instance(s, pw.Module(s.engine, wat), []).exports(s)
    assert x["f"](s, 40) == 42
    assert x["g"](s) == -5
    assert x["h"](s, 0x80) == 0xC0


def test_v128_through_calls_locals_globals_and_blocks():
    wat = """(module
      (global $g (mut v128) (v128.const i64x2 7 8))
      (func $pair (param v128 i32 v128) (result v128 i32 v128)
        (local.get 2) (local.get 1) (local.get 0))
      (func (export "swap") (param v128 v128) (result v128 v128)
        (local v128 i32 v128)
        (call $pair (local.get 0) (i32.const 5) (local.get 1))
        (local.set 2) (local.set 3) (local.set 4)
        (local.get 4) (local.get 2))
      (func (export "glob") (param v128) (result v128)
        (global.get $g) (global.set $g (local.get 0)))
      (func (export "blocks") (param v128 i32) (result v128)
        (block (result v128)
          (if (result v128) (local.get 1)
            (then (i32x4.add (local.get 0) (v128.const i32x4 1 1 1 1)))
            (else (br 1 (local.get 0))))))
      (func (export "spill") (param v128) (result v128)
        (local.get 0) (local.get 0) (local.get 0) (local.get 0) (local.get 0) (local.get 0) (local.get 0)
        (local.get 0) (local.get 0) (local.get 0) (local.get 0) (local.get 0) (local.get 0) (local.get 0)
        (local.get 0) (local.get 0) (local.get 0) (local.get 0)
        i64x2.add i64x2.add i64x2.add i64x2.add i64x2.add i64x2.add i64x2.add i64x2.add i64x2.add
        i64x2.add i64x2.add i64x2.add i64x2.add i64x2.add i64x2.add i64x2.add i64x2.add))"""
    s = pw.Store(pw.Engine())
    x = pw.Instance(s, pw.Module(s.engine, wat), []).exports(s)
    a, b = (1 << 127) | 3, (5 << 64) | 9
    assert x["swap"](s, a, b) == [b, a]
    assert x["glob"](s, 11) == 7 | (8 << 64)
    assert x["glob"](s, 12) == 11
    assert x["blocks"](s, 1 | (2 << 32), 1) == 2 | (3 << 32) | (1 << 64) | (1 << 96)
    assert x["blocks"](s, 5, 0) == 5
    assert x["spill"](s, 1 | (1 << 64)) == 18 | (18 << 64)


def test_v128_host_function_roundtrip():
    wat = """(module (import "env" "h" (func $h (param v128 i32) (result v128 v128)))
      (func (export "f") (param v128) (result v128) (local v128)
        (call $h (local.get 0) (i32.const 3)) (local.set 1) (local.get 1) i32x4.add))"""
    s = pw.Store(pw.Engine())
    ft = pw.FuncType([pw.ValType.v128(), pw.ValType.i32()], [pw.ValType.v128(), pw.ValType.v128()])
    h = pw.Func(s, ft, lambda v, k: [v, k | (k << 96)])
    x = pw.Instance(s, pw.Module(s.engine, wat), [h]).exports(s)
    assert x["f"](s, 1 | (2 << 96)) == 4 | (5 << 96)


def test_v128_in_call_indirect_select_br_table_and_loop_params():
    wat = """(module
      (type $vv (func (param v128 v128) (result v128)))
      (table 2 funcref)
      (elem (i32.const 0) $add $sub)
      (func $add (type $vv) (i32x4.add (local.get 0) (local.get 1)))
      (func $sub (type $vv) (i32x4.sub (local.get 0) (local.get 1)))
      (func (export "ind") (param i32 v128 v128) (result v128)
        (call_indirect (type $vv) (local.get 1) (local.get 2) (local.get 0)))
      (func (export "sel") (param i32) (result v128)
        (select (v128.const i32x4 1 2 3 4) (v128.const i32x4 5 6 7 8) (local.get 0)))
      (func (export "sel2") (param v128 v128 i32) (result v128)
        (select (result v128) (local.get 0) (local.get 1) (v128.any_true (local.get 0))))
      (func (export "brt") (param i32) (result v128)
        (block (result v128)
          (block (result v128)
            (br_table 0 1 (v128.const i64x2 11 12) (local.get 0)))
          (i64x2.add (v128.const i64x2 100 100))))
      (func (export "loop") (param i32) (result v128)
        (v128.const i32x4 0 0 0 0)
        (loop (param v128) (result v128)
          (i32x4.add (v128.const i32x4 1 2 3 4))
          (local.tee 0 (i32.sub (local.get 0) (i32.const 1)))
          (br_if 0))))"""
    s = pw.Store(pw.Engine())
    x = pw.Instance(s, pw.Module(s.engine, wat), []).exports(s)

    def i32x4(*v):
        return sum((k & 0xFFFFFFFF) << (32 * i) for i, k in enumerate(v))
    a, b = i32x4(5, 7, 0, 0), i32x4(2, 3, 0, 0)
    assert x["ind"](s, 0, a, b) == i32x4(7, 10, 0, 0)
    assert x["ind"](s, 1, a, b) == i32x4(3, 4, 0, 0)
    assert x["sel"](s, 1) == i32x4(1, 2, 3, 4) and x["sel"](s, 0) == i32x4(5, 6, 7, 8)
    assert x["sel2"](s, 0, 9, 0) == 9 and x["sel2"](s, 4, 9, 0) == 4
    assert x["brt"](s, 0) == 111 | (112 << 64)
    assert x["brt"](s, 1) == x["brt"](s, 7) == 11 | (12 << 64)
    assert x["loop"](s, 3) == i32x4(3, 6, 9, 12)
    with pytest.raises(pw.Trap):
        x["ind"](s, 2, a, b)
