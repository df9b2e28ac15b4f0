"""Values cross the boundary as wasmtime-py's do (property test against wasmtime-py)."""

import math

import pytest
from hypothesis import given, settings, strategies as st

import pywinch as wasm

wasmtime = pytest.importorskip("wasmtime")

WAT = """(module
  (func (export "i32") (param i32) (result i32) local.get 0)
  (func (export "i64") (param i64) (result i64) local.get 0)
  (func (export "f32") (param f32) (result f32) local.get 0)
  (func (export "f64") (param f64) (result f64) local.get 0)
  (func (export "all") (param i32 i64 f32 f64) (result f64 f32 i64 i32)
    local.get 3 local.get 2 local.get 1 local.get 0))"""


def exports(api):
    store = api.Store(api.Engine())
    return store, api.Instance(store, api.Module(store.engine, WAT), []).exports(store)


OURS = exports(wasm)
THEIRS = exports(wasmtime)

ints32 = st.integers(-(1 << 31), (1 << 32) - 1)
ints64 = st.integers(-(1 << 63), (1 << 64) - 1)
floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([0.0, -0.0, 5e-324, 1e-45, 3.4e38, 1e39])


def same(a, b):
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


def call(side, name, *args):
    store, ex = side
    try:
        return ("ok", ex[name](store, *args))
    except (TypeError, wasmtime.WasmtimeError, wasm.WasmError, OverflowError, ValueError) as e:
        return ("error", None)


@settings(max_examples=300, deadline=None)
@given(i=ints32, j=ints64, x=floats, y=floats)
def test_values_round_trip_like_wasmtime(i, j, x, y):
    for name, arg in (("i32", i), ("i64", j), ("f32", x), ("f64", y)):
        a, b = call(OURS, name, arg), call(THEIRS, name, arg)
        assert a[0] == b[0] and (a[0] == "error" or same(a[1], b[1])), (name, arg, a, b)
    a, b = call(OURS, "all", i, j, x, y), call(THEIRS, "all", i, j, x, y)
    assert a[0] == b[0], (a, b)
    if a[0] == "ok":
        assert all(same(p, q) for p, q in zip(a[1], b[1])), (a, b)


@pytest.mark.parametrize("bad", ["1", None, 1.5])
def test_bad_i64_refused_like_wasmtime(bad):
    assert call(OURS, "i64", bad)[0] == call(THEIRS, "i64", bad)[0] == "error"


@pytest.mark.parametrize("bad", [1 << 64, -(1 << 63) - 1])
def test_out_of_range_ints_refused(bad):
    # wasmtime-py silently wraps these; pywinch refuses them (a clear TypeCheckError).
    store, ex = OURS
    with pytest.raises(wasm.TypeCheckError, match="out of range"):
        ex["i64"](store, bad)
