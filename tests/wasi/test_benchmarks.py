"""The benchmark programs (benchmarks/c, built into benchmarks/wasm) at their
small sizes under each engine: each must print the checksum recorded in
benchmarks/wasm/manifest.json (Wasmtime's output, cross-checked there by
benchmarks/c/gen_manifest.py against the native gcc build, or against pywinch
for the SIMD program, which gcc cannot build)."""

from __future__ import annotations

import json
import pathlib

import pytest

from engines import Run

BENCH = pathlib.Path(__file__).resolve().parent.parent.parent / "benchmarks"
MANIFEST = json.loads((BENCH / "wasm" / "manifest.json").read_text())

REQUIRED = {"fib", "nbody", "spectral_norm", "fannkuch", "mandelbrot", "sieve", "matmul", "sha256",
            "quicksort", "binary_trees", "interp", "hashtable", "memops"}


def test_manifest_covers_every_program():
    sources = {p.stem for p in (BENCH / "c").glob("*.c")}
    assert REQUIRED <= sources
    assert sources <= set(MANIFEST)
    for name, entry in MANIFEST.items():
        wasm = BENCH / "wasm" / entry["wasm"]
        assert wasm.read_bytes()[:4] == b"\0asm", wasm
        assert entry["expected"] and entry["expected_small"]


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_benchmark_small(engine, name):
    entry = MANIFEST[name]
    r = engine.run(Run(name, entry["small_args"], path=BENCH / "wasm" / entry["wasm"]))
    assert (r.exit_code, r.stdout.decode(), r.stderr) == (0, entry["expected_small"], b"")


def test_sha256_known_answer():
    # The checksum of one program is checkable by hand: SHA-256("abc").
    assert MANIFEST["sha256"]["expected_small"].startswith(
        "abc: ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n")


_SQLITE = BENCH / "wasm" / "sqlite.wasm"
_sqlite_reference: dict = {}


@pytest.mark.skipif(not _SQLITE.exists(), reason="benchmarks/wasm/sqlite.wasm is not built")
def test_sqlite_same_output_as_wasmtime(engine):
    # SQLite (the module the decode benchmark compiles) is a large real WASI
    # program: every engine must print what Wasmtime prints.
    run = Run("sqlite", path=_SQLITE)
    if "out" not in _sqlite_reference:
        from engines import WasmtimeEngine
        _sqlite_reference["out"] = WasmtimeEngine().run(run)
    want = _sqlite_reference["out"]
    got = engine.run(run)
    assert want.exit_code == 0 and want.stdout
    assert (got.exit_code, got.stdout, got.stderr) == (want.exit_code, want.stdout, want.stderr)
