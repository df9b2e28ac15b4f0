"""Every module under regressions/ (minimized fuzz findings and hand-written edge
cases) runs in both engines, in a worker process, with the fuzzer's comparison."""

from __future__ import annotations

import pathlib
import struct

import pytest

from . import difffuzz

wasmtime = pytest.importorskip("wasmtime")

REGRESSIONS = pathlib.Path(__file__).parent / "regressions"
FILES = sorted(p for p in REGRESSIONS.iterdir() if p.suffix in (".wat", ".wasm"))


@pytest.fixture(scope="module")
def replies():
    reqs = [{"kind": "file", "path": str(p), "canon": True, "arg_seed": seed}
            for p in FILES for seed in (1, 2, 3)]
    return {(r["path"], r["arg_seed"]): reply for r, reply in difffuzz.run_requests(reqs, jobs=2)}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_regression_module_agrees(replies, path):
    for seed in (1, 2, 3):
        reply = replies[(str(path), seed)]
        assert reply["verdict"] == "agree", f"{path.name} arg seed {seed}: {reply}"


NAN32 = [0x7FC00000, 0xFFC00000, 0x7F800001, 0x7FA00000, 0xFF800001, 0x7FFFFFFF, 0xFFFFFFFF, 0x7FC00001]
NAN64 = [0x7FF8000000000000, 0xFFF8000000000000, 0x7FF0000000000001, 0x7FF4000000000000,
         0xFFFFFFFFFFFFFFFF, 0x7FF8000000000001]


def s32(x):
    return x - (1 << 32) if x >= 1 << 31 else x


def s64(x):
    return x - (1 << 64) if x >= 1 << 63 else x


def test_nan_bits_survive_moves():
    """The calls of nan_bits_kept_by_moves.wat with NaN patterns, bit for bit in both engines."""
    import pywinch
    text = (REGRESSIONS / "nan_bits_kept_by_moves.wat").read_text()
    seen = {}
    for lib in (pywinch, wasmtime):
        store = lib.Store(lib.Engine())
        ex = lib.Instance(store, lib.Module(store.engine, text), []).exports(store)
        out = []
        for b in NAN32:
            out += [ex["f32bits"](store, s32(b)), ex["neg"](store, s32(b)),
                    ex["copysign"](store, s32(b), s32(0x80000000)),
                    struct.pack("<d", ex["ret"](store, s32(b)))]
        for b in NAN64:
            out += [ex["f64bits"](store, s64(b)), ex["abs"](store, s64(b))]
        seen[lib.__name__] = out
    assert seen["pywinch"] == seen["wasmtime"]
    # And against the specification: these operations keep or only flip the sign bit.
    ours = seen["pywinch"]
    for i, b in enumerate(NAN32):
        assert ours[4 * i] == s32(b) and ours[4 * i + 1] == s32(b ^ 0x80000000)
        assert ours[4 * i + 2] == s32(b | 0x80000000)
