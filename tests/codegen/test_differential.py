"""Differential tests against Wasmtime: random expression functions (every
scalar operator, locals, select, if/else and block results, br_if, calls
with several results) run on both with the same arguments; results and traps
must agree bit for bit (NaNs compared by bits after canonicalizing quiet NaN
payloads, as both produce arithmetic NaNs)."""

import math
import random
import struct

import pytest

wasmtime = pytest.importorskip("wasmtime")

import pywinch as pw
from pywinch.wasm.text.wat import wat2wasm

I32, I64, F32, F64 = "i32", "i64", "f32", "f64"
TYPES = (I32, I64, F32, F64)

UNOPS = {
    I32: ["i32.clz", "i32.ctz", "i32.popcnt", "i32.extend8_s", "i32.extend16_s"],
    I64: ["i64.clz", "i64.ctz", "i64.popcnt", "i64.extend8_s", "i64.extend16_s", "i64.extend32_s"],
    F32: ["f32.abs", "f32.neg", "f32.ceil", "f32.floor", "f32.trunc", "f32.nearest", "f32.sqrt"],
    F64: ["f64.abs", "f64.neg", "f64.ceil", "f64.floor", "f64.trunc", "f64.nearest", "f64.sqrt"],
}
BINOPS = {
    t: [f"{t}.{o}" for o in ("add", "sub", "mul", "div_s", "div_u", "rem_s", "rem_u", "and", "or", "xor",
                             "shl", "shr_s", "shr_u", "rotl", "rotr")] for t in (I32, I64)
}
for t in (F32, F64):
    BINOPS[t] = [f"{t}.{o}" for o in ("add", "sub", "mul", "div", "min", "max", "copysign")]
CMPS = {t: [f"{t}.{o}" for o in ("eq", "ne", "lt_s", "lt_u", "gt_s", "gt_u", "le_s", "le_u", "ge_s", "ge_u")]
        for t in (I32, I64)}
for t in (F32, F64):
    CMPS[t] = [f"{t}.{o}" for o in ("eq", "ne", "lt", "gt", "le", "ge")]
CONV = {  # result type -> (op, operand type)
    I32: [("i32.wrap_i64", I64), ("i32.trunc_f32_s", F32), ("i32.trunc_f32_u", F32), ("i32.trunc_f64_s", F64),
          ("i32.trunc_f64_u", F64), ("i32.trunc_sat_f32_s", F32), ("i32.trunc_sat_f32_u", F32),
          ("i32.trunc_sat_f64_s", F64), ("i32.trunc_sat_f64_u", F64), ("i32.reinterpret_f32", F32),
          ("i64.eqz", I64), ("i32.eqz", I32)],
    I64: [("i64.extend_i32_s", I32), ("i64.extend_i32_u", I32), ("i64.trunc_f32_s", F32), ("i64.trunc_f32_u", F32),
          ("i64.trunc_f64_s", F64), ("i64.trunc_f64_u", F64), ("i64.trunc_sat_f32_s", F32),
          ("i64.trunc_sat_f32_u", F32), ("i64.trunc_sat_f64_s", F64), ("i64.trunc_sat_f64_u", F64),
          ("i64.reinterpret_f64", F64)],
    F32: [("f32.convert_i32_s", I32), ("f32.convert_i32_u", I32), ("f32.convert_i64_s", I64),
          ("f32.convert_i64_u", I64), ("f32.demote_f64", F64), ("f32.reinterpret_i32", I32)],
    F64: [("f64.convert_i32_s", I32), ("f64.convert_i32_u", I32), ("f64.convert_i64_s", I64),
          ("f64.convert_i64_u", I64), ("f64.promote_f32", F32), ("f64.reinterpret_i64", I64)],
}
INTERESTING = {
    I32: [0, 1, -1, 2, 31, 32, 0x7FFFFFFF, -0x80000000, 0x12345678, -7, 255, 65536],
    I64: [0, 1, -1, 63, 64, 0x7FFFFFFFFFFFFFFF, -0x8000000000000000, 0x123456789ABCDEF, -7, 1 << 32, 1 << 63 - 1],
    F32: [0.0, -0.0, 1.5, -2.5, 3e9, -3e9, 1e20, float("inf"), float("-inf"), float("nan"), 0.49999997, 2.5, 4294967040.0],
    F64: [0.0, -0.0, 1.5, -2.5, 3e9, -3e9, 1e20, 1.8446744073709552e19, float("inf"), float("-inf"), float("nan"),
          -2147483648.9, 9.2233720368547758e18],
}


class Gen:
    def __init__(self, rng, params, nlocals):
        self.rng = rng
        self.params = params
        self.locals = {t: [] for t in TYPES}
        for i, t in enumerate(params):
            self.locals[t].append(i)
        self.extra = []
        for _ in range(nlocals):
            t = rng.choice(TYPES)
            self.locals[t].append(len(params) + len(self.extra))
            self.extra.append(t)

    def const(self, t):
        v = self.rng.choice(INTERESTING[t])
        if t in (F32, F64):
            if math.isnan(v):
                return f"({t}.const nan)"
            if math.isinf(v):
                return f"({t}.const {'-' if v < 0 else ''}inf)"
            return f"({t}.const {v!r})"
        return f"({t}.const {v})"

    def expr(self, t, depth):
        r = self.rng
        if depth <= 0 or r.random() < 0.15:
            if self.locals[t] and r.random() < 0.7:
                return f"(local.get {r.choice(self.locals[t])})"
            return self.const(t)
        k = r.random()
        if k < 0.35:
            return f"({r.choice(BINOPS[t])} {self.expr(t, depth - 1)} {self.expr(t, depth - 1)})"
        if k < 0.45:
            return f"({r.choice(UNOPS[t])} {self.expr(t, depth - 1)})"
        if k < 0.55:
            op, src = r.choice(CONV[t])
            return f"({op} {self.expr(src, depth - 1)})"
        if k < 0.62 and t == I32:
            ct = r.choice(TYPES)
            return f"({r.choice(CMPS[ct])} {self.expr(ct, depth - 1)} {self.expr(ct, depth - 1)})"
        if k < 0.70:
            return f"(select {self.expr(t, depth - 1)} {self.expr(t, depth - 1)} {self.cond(depth - 1)})"
        if k < 0.78:
            return (f"(if (result {t}) {self.cond(depth - 1)} (then {self.expr(t, depth - 1)}) "
                    f"(else {self.expr(t, depth - 1)}))")
        if k < 0.84:
            return (f"(block (result {t}) (drop (br_if 0 {self.expr(t, depth - 1)} {self.cond(depth - 1)})) "
                    f"{self.expr(t, depth - 1)})")
        if k < 0.90 and self.locals[t]:
            return f"(local.tee {r.choice(self.locals[t])} {self.expr(t, depth - 1)})"
        if k < 0.95:
            return f"(call $pair_{t} {self.expr(t, depth - 1)} {self.expr(t, depth - 1)})"
        return self.const(t)

    def cond(self, depth):
        ct = self.rng.choice(TYPES)
        return f"({self.rng.choice(CMPS[ct])} {self.expr(ct, depth)} {self.expr(ct, depth)})"


def make_module(rng, nfuncs=6):
    funcs = []
    for t in TYPES:
        # A helper with two results: (a, b) -> (b - a... ) consumed by the caller as one value.
        sub = f"{t}.sub"
        funcs.append(f"(func $two_{t} (param {t} {t}) (result {t} {t}) (local.get 1) ({sub} (local.get 0) (local.get 1)))")
        funcs.append(f"(func $pair_{t} (param {t} {t}) (result {t}) (call $two_{t} (local.get 0) (local.get 1)) ({t}.add))")
    sigs = []
    for i in range(nfuncs):
        params = [rng.choice(TYPES) for _ in range(rng.randint(0, 4))]
        res = rng.choice(TYPES)
        g = Gen(rng, params, rng.randint(0, 3))
        body = g.expr(res, rng.randint(2, 6))
        # Some statement-level control flow around it.
        if rng.random() < 0.3 and g.locals[res]:
            loc = rng.choice(g.locals[res])
            body = (f"(block $b (loop $l (local.set {loc} {g.expr(res, 2)}) "
                    f"(br_if $l (i32.eqz (i32.const 1))) (br_if $b {g.cond(1)}))) {body}")
        decl = "".join(f" (local {t})" for t in g.extra)
        ps = "".join(f" (param {t})" for t in params)
        funcs.append(f'(func (export "f{i}"){ps} (result {res}){decl} {body})')
        sigs.append((params, res))
    return "(module\n" + "\n".join(funcs) + "\n)", sigs


def bits(t, v):
    if t == F32:
        b = struct.unpack("<I", struct.pack("<f", v))[0]
        return ("nan", 0) if (b & 0x7F800000) == 0x7F800000 and (b & 0x7FFFFF) else ("f", b)
    if t == F64:
        b = struct.unpack("<Q", struct.pack("<d", v))[0]
        return ("nan", 0) if (b >> 52 & 0x7FF) == 0x7FF and (b & ((1 << 52) - 1)) else ("f", b)
    return ("i", v)


def call_both(pw_f, pw_store, wt_f, wt_store, args):
    try:
        a = ("ok", pw_f(pw_store, *args))
    except pw.Trap as e:
        a = ("trap", e.message)
    try:
        b = ("ok", wt_f(wt_store, *args))
    except wasmtime.Trap as e:
        msg = str(e)
        b = ("trap", msg)
    return a, b


@pytest.mark.parametrize("seed", range(12))
def test_random_expressions_match_wasmtime(seed):
    rng = random.Random(seed)
    wat, sigs = make_module(rng)
    data = wat2wasm(wat)
    engine = pw.Engine()
    store = pw.Store(engine)
    inst = pw.Instance(store, pw.Module(engine, data), [])
    pex = inst.exports(store)
    wstore = wasmtime.Store()
    winst = wasmtime.Instance(wstore, wasmtime.Module(wstore.engine, data), [])
    wex = winst.exports(wstore)
    for i, (params, res) in enumerate(sigs):
        for _ in range(8):
            args = [rng.choice(INTERESTING[t]) for t in params]
            a, b = call_both(pex[f"f{i}"], store, wex[f"f{i}"], wstore, args)
            assert a[0] == b[0], (wat, i, args, a, b)
            if a[0] == "ok":
                assert bits(res, a[1]) == bits(res, b[1]), (wat, i, args, a, b)
            else:
                assert a[1] in b[1], (wat, i, args, a, b)
