"""Every trampoline kind end to end: Python -> Wasm (native-to-wasm fast path and
array-to-wasm generic path), Wasm -> Python (wasm-to-native), with 0..20
parameters of mixed types and 0..5 results."""

import math
import random
import struct

import pytest

import pywinch as wasm


NUM = ["i32", "i64", "f32", "f64"]
SAMPLES = {
    "i32": [0, 1, -1, 0x7FFFFFFF, -0x80000000, 123456789],
    "i64": [0, -1, 1 << 62, -(1 << 63), 0x7FFFFFFFFFFFFFFF, 987654321987],
    "f32": [0.0, 1.5, -2.25, 3.0e38, float("inf"), -0.0],
    "f64": [0.0, math.pi, -1e300, 2.0 ** -1074, float("-inf"), 1.0 / 3],
}


def signature(rng, n, k, kinds=NUM):
    params = [rng.choice(kinds) for _ in range(n)]
    results, picks = [], []
    for _ in range(k):
        if params:
            i = rng.randrange(n)
            picks.append(i)
            results.append(params[i])
        else:
            picks.append(None)
            results.append(rng.choice(kinds))
    return params, results, picks


def const(t, v):
    if t.endswith("ref"):
        return f"(ref.null {t[:-3]})"
    if t.startswith("f"):
        return f"({t}.const {float(v).hex() if math.isfinite(v) else ('inf' if v > 0 else '-inf')})"
    return f"({t}.const {v})"


CONST_RESULT = {"i32": 7, "i64": -7, "f32": 0.5, "f64": -0.25, "externref": None, "funcref": None}


class Token:
    """An externref payload compared by identity."""


def build(cases):
    """One module: for each case an exported Wasm function returning the picked
    params, and an exported function forwarding its params to an imported host
    function with the same signature."""
    imports, funcs = [], []
    for ci, (params, results, picks) in enumerate(cases):
        p = " ".join(params)
        r = " ".join(results)
        ps = f"(param {p})" if params else ""
        rs = f"(result {r})" if results else ""
        body = " ".join(f"(local.get {i})" if i is not None else const(results[j], CONST_RESULT[results[j]])
                        for j, i in enumerate(picks))
        funcs.append(f'(func (export "pick{ci}") {ps} {rs} {body})')
        imports.append(f'(import "host" "h{ci}" (func $h{ci} {ps} {rs}))')
        fwd = " ".join(f"(local.get {i})" for i in range(len(params)))
        funcs.append(f'(func (export "fwd{ci}") {ps} {rs} (call $h{ci} {fwd}))')
    return "(module\n" + "\n".join(imports + funcs) + ")"


def f32(v):
    return struct.unpack("<f", struct.pack("<f", v))[0]


def same(a, b):
    if a is None or b is None or isinstance(a, (wasm.Func, Token)):
        return a is b
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return a == b


@pytest.fixture(scope="module")
def cases():
    rng = random.Random(6)
    out = []
    for n in range(0, 21):
        for k in range(0, 6):
            if (n + k) % 2 == 0 or n in (0, 1, 2, 20) or k in (0, 1):
                out.append(signature(rng, n, k))
    return out


def expected(params, results, picks, args):
    out = []
    for j, i in enumerate(picks):
        out.append(args[i] if i is not None else CONST_RESULT[results[j]])
    out = [f32(v) if t == "f32" else v for v, t in zip(out, results)]
    return out


def run_cases(compiled, engine, cases, seed, store=None, samples=SAMPLES):
    store = store or wasm.Store(engine)
    module = compiled(engine, build(cases))
    linker = wasm.Linker(engine)
    received = {}
    for ci, (params, results, picks) in enumerate(cases):
        ty = wasm.FuncType([wasm.ValType(_code(t)) for t in params],
                           [wasm.ValType(_code(t)) for t in results])

        def host(*args, ci=ci, params=params, results=results, picks=picks):
            received[ci] = args
            out = expected(params, results, picks, args)
            return None if not out else out[0] if len(out) == 1 else out

        linker.define_func("host", f"h{ci}", ty, host)
    ex = linker.instantiate(store, module).exports(store)
    rng = random.Random(seed)
    for ci, (params, results, picks) in enumerate(cases):
        args = [rng.choice(samples[t]) for t in params]
        want = expected(params, results, picks, args)
        for name in (f"pick{ci}", f"fwd{ci}"):
            got = ex[name](store, *args)
            got = [] if not results else got if len(results) > 1 else [got]
            assert len(got) == len(want), (name, params, results)
            assert all(same(g, w) for g, w in zip(got, want)), (name, params, results, args, got, want)
        assert all(same(a, b) for a, b in zip(received[ci], [f32(a) if t == "f32" else a for a, t in zip(args, params)]))


def _code(t):
    return {"i32": 0x7F, "i64": 0x7E, "f32": 0x7D, "f64": 0x7C, "externref": 0x6F, "funcref": 0x70}[t]


def test_signature_matrix(compiled, engine, cases):
    run_cases(compiled, engine, cases, 1)


def test_generic_path_matches_fast_path(compiled, engine):
    store = wasm.Store(engine)
    m = compiled(engine, '(module (func (export "f") (param i32 i64 f32 f64) (result f64)'
                         ' local.get 0 f64.convert_i32_s local.get 1 f64.convert_i64_s f64.add'
                         ' local.get 2 f64.promote_f32 f64.add local.get 3 f64.add))')
    f = wasm.Instance(store, m, []).exports(store)["f"]
    args = (-5, 1 << 40, 0.5, 0.25)
    assert f(store, *args) == f._call(store, args) == -5 + (1 << 40) + 0.75
    assert f(store, wasm.Val.i32(-5), wasm.Val.i64(1 << 40), wasm.Val.f32(0.5), wasm.Val.f64(0.25)) == f(store, *args)


def test_refs_at_the_boundary(compiled, engine):
    store = wasm.Store(engine)
    m = compiled(engine, """(module
      (table $t 2 funcref)
      (func $seven (result i32) i32.const 7)
      (elem declare func $seven)
      (func (export "id") (param externref) (result externref) local.get 0)
      (func (export "get7") (result funcref) ref.func $seven)
      (func (export "is_null") (param funcref) (result i32) local.get 0 ref.is_null)
      (func (export "two") (param externref funcref) (result funcref externref) local.get 1 local.get 0))""")
    ex = wasm.Instance(store, m, []).exports(store)
    obj = object()
    assert ex["id"](store, obj) is obj
    assert ex["id"](store, None) is None
    seven = ex["get7"](store)
    assert isinstance(seven, wasm.Func) and seven(store) == 7
    assert ex["is_null"](store, None) == 1
    assert ex["is_null"](store, seven) == 0
    f, o = ex["two"](store, obj, seven)
    assert o is obj and f(store) == 7
    with pytest.raises(wasm.TypeCheckError):
        ex["is_null"](store, obj)


def test_arity_and_type_errors_leave_store_usable(compiled, engine):
    store = wasm.Store(engine)
    m = compiled(engine, '(module (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))')
    add = wasm.Instance(store, m, []).exports(store)["add"]
    for bad in [(), (1,), (1, 2, 3), (1.5, 2), ("1", 2), (None, 1), (1 << 32, 0), (-(1 << 31) - 1, 0)]:
        with pytest.raises(wasm.TypeCheckError):
            add(store, *bad)
    assert add(store, 0xFFFFFFFF, 2) == 1
    assert add(store, True, 1) == 2
    with pytest.raises(wasm.WasmError, match="another store"):
        add(wasm.Store(engine), 1, 2)


def test_host_function_bad_results(compiled, engine):
    store = wasm.Store(engine)
    i32 = wasm.ValType.i32()
    linker = wasm.Linker(engine)
    behaviour = {}
    linker.define_func("env", "h", wasm.FuncType([], [i32]), lambda: behaviour["ret"])
    linker.define_func("env", "two", wasm.FuncType([], [i32, i32]), lambda: behaviour["ret"])
    m = compiled(engine, """(module (import "env" "h" (func $h (result i32)))
        (import "env" "two" (func $two (result i32 i32)))
        (func (export "h") (result i32) call $h)
        (func (export "two") (result i32) call $two i32.add))""")
    ex = linker.instantiate(store, m).exports(store)
    for bad in ["str", 1.5, None, 1 << 40]:
        behaviour["ret"] = bad
        with pytest.raises(wasm.WasmError):
            ex["h"](store)
    for bad in [1, [1], [1, 2, 3], ["a", 1]]:
        behaviour["ret"] = bad
        with pytest.raises(wasm.WasmError):
            ex["two"](store)
    behaviour["ret"] = 0xFFFFFFFF
    assert ex["h"](store) == -1
    behaviour["ret"] = (20, 22)
    assert ex["two"](store) == 42


def test_v128_through_the_array_path(compiled, engine):
    store = wasm.Store(engine)
    m = compiled(engine, """(module
      (func (export "add") (param v128 v128) (result v128) local.get 0 local.get 1 i32x4.add)
      (func (export "splat") (param i32) (result v128 i32) local.get 0 i32x4.splat local.get 0))""")
    ex = wasm.Instance(store, m, []).exports(store)
    a = (1 << 96) | (2 << 64) | (3 << 32) | 4
    assert ex["add"](store, a, a) == 2 * a
    assert ex["splat"](store, 1) == [(1 << 96) | (1 << 64) | (1 << 32) | 1, 1]


def test_signature_matrix_with_references(compiled, engine):
    store = wasm.Store(engine)
    funcs = [wasm.Func(store, wasm.FuncType([], [wasm.ValType.i32()]), lambda k=k: k) for k in range(3)]
    samples = dict(SAMPLES, externref=[None, Token(), Token(), "text", 42], funcref=[None] + funcs)
    rng = random.Random(7)
    kinds = NUM + ["externref", "funcref"]
    cases = [signature(rng, n, k, kinds) for n in (0, 1, 2, 3, 7, 12, 20) for k in (0, 1, 2, 5)]
    run_cases(compiled, engine, cases, 2, store=store, samples=samples)
    assert funcs[1](store) == 1


def test_v128_host_functions(compiled, engine):
    store = wasm.Store(engine)
    v128 = wasm.ValType.v128()
    f = wasm.Func(store, wasm.FuncType([v128, wasm.ValType.i32()], [v128, wasm.ValType.i32()]),
                  lambda a, b: [a ^ ((1 << 128) - 1), b + 1])
    m = compiled(engine, """(module (import "" "f" (func $f (param v128 i32) (result v128 i32)))
      (func (export "g") (param v128) (result v128 i32) (call $f (local.get 0) (i32.const 5))))""")
    g = wasm.Instance(store, m, [f]).exports(store)["g"]
    x = (1 << 127) | 12345
    assert g(store, x) == [x ^ ((1 << 128) - 1), 6]
    with pytest.raises(wasm.TypeCheckError):
        g(store, 1 << 128)
