"""A real SIMD program (benchmarks/c/simd_kernels.c: blur, dot product,
saxpy with wasm_simd128.h) run under pywinch and Wasmtime: the printed
checksums must agree. The committed build (benchmarks/wasm/simd_kernels.wasm,
kernels as separate functions) always runs; where clang is installed the
source is also built with -msimd128 (everything inlined into main)."""

import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

wasmtime = pytest.importorskip("wasmtime")

import pywinch as pw
from pywinch.isa.x64 import cpu

BENCH = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"
SRC = BENCH / "c" / "simd_kernels.c"
COMMITTED = BENCH / "wasm" / "simd_kernels.wasm"
ARGS = ["96", "3"]


def _build(tmp, extra):
    if extra is None:
        return COMMITTED.read_bytes()
    if not shutil.which("clang"):
        pytest.skip("clang (wasm32-wasi) not installed")
    out = pathlib.Path(tmp) / "k.wasm"
    p = subprocess.run(["clang", "--target=wasm32-wasi", "--sysroot=/usr", "-O2", *extra, "-o", str(out), str(SRC)],
                       capture_output=True, text=True)
    if p.returncode:
        pytest.skip(f"clang cannot build for wasm32-wasi here: {p.stderr[-300:]}")
    return out.read_bytes()


def _run(api, engine, wasm, tmp):
    config = api.WasiConfig()
    config.argv = ["k", *ARGS]
    path = os.path.join(tmp, f"out-{api.__name__}")
    config.stdout_file = path
    store = api.Store(engine)
    store.set_wasi(config)
    linker = api.Linker(engine)
    linker.define_wasi()
    start = linker.instantiate(store, api.Module(engine, wasm)).exports(store)["_start"]
    try:
        start(store)
    except api.ExitTrap as e:
        assert e.code == 0
    return pathlib.Path(path).read_text()


@pytest.mark.skipif(not (cpu.has(cpu.SSSE3) and cpu.has(cpu.SSE41)), reason="needs SSSE3 and SSE4.1")
@pytest.mark.parametrize("flags", [["-msimd128"], None], ids=["inlined", "kernels"])
def test_simd_program_matches_wasmtime(flags):
    with tempfile.TemporaryDirectory() as tmp:
        wasm = _build(tmp, flags)
        assert b"\xfd" in wasm
        want = _run(wasmtime, wasmtime.Engine(), wasm, tmp)
        got = _run(pw, pw.Engine(), wasm, tmp)
        assert want.startswith("blur=")
        assert got == want
