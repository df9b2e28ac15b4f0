"""The demo program: `make demo` runs, and the C program computes what wasmtime computes."""

import pathlib
import subprocess
import sys

import pytest

import pywinch as wasm

ROOT = pathlib.Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "demo.wasm"


def test_make_demo_runs():
    r = subprocess.run([sys.executable, "-m", "pywinch.demo"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "zlib says" in r.stdout and "trap: integer divide by zero" in r.stdout


def test_demo_matches_wasmtime():
    wasmtime = pytest.importorskip("wasmtime")
    text = bytes(range(256)) * 100

    def run(api):
        engine = api.Engine()
        store = api.Store(engine)
        linker = api.Linker(engine)
        calls = []
        linker.define_func("env", "progress", api.FuncType([api.ValType.i32()] * 2, []),
                           lambda done, total: calls.append((done, total)))
        ex = linker.instantiate(store, api.Module(engine, DEMO.read_bytes())).exports(store)
        ex["memory"].write(store, text, ex["input_buffer"](store))
        return [ex["crc32"](store, len(text)), ex["count_words"](store, len(text)), ex["mean"](store, len(text)),
                ex["fib"](store, 92), ex["count_primes"](store, 300_000), calls,
                ex["memory"].read(store, 0, 4096)]

    assert run(wasm) == run(wasmtime)
