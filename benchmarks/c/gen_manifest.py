"""Writes benchmarks/wasm/manifest.json: for each benchmark program, its
default arguments (~0.5-2 s under Wasmtime's Cranelift), its small arguments
(a few seconds under the pure-Python pywasm), and the expected stdout of
both. The expected outputs come from Wasmtime and are cross-checked against
the native gcc -O2 build, so a checksum is known right by two compilers.
Programs using wasm_simd128.h have no native build: their outputs are
cross-checked against pywinch instead, and their entry says "native": false
so that benchmarks/run.py reports native as n/a rather than a failure.

    python benchmarks/c/gen_manifest.py        (after benchmarks/build.sh)
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
WASM = HERE.parent / "wasm"

# name: (default args, small args)
SIZES = {
    "fib": (["42"], ["20"]),
    "nbody": (["10000000"], ["200"]),
    "spectral_norm": (["3000"], ["20"]),
    "fannkuch": (["10"], ["6"]),
    "mandelbrot": (["3200"], ["32"]),
    "sieve": (["20000000"], ["2000"]),
    "matmul": (["800"], ["20"]),
    "sha256": (["163840"], ["2"]),
    "quicksort": (["5000000"], ["1000"]),
    "binary_trees": (["18"], ["6"]),
    "interp": (["300000"], ["50"]),
    "hashtable": (["2000000"], ["100"]),
    "memops": (["240", "4096"], ["1", "16"]),
    "simd_kernels": (["2048", "40"], ["128", "2"]),
}


def wasm_only(name: str) -> bool:
    """True for sources written with Wasm SIMD intrinsics, which gcc cannot build."""
    return "<wasm_simd128.h>" in (HERE / f"{name}.c").read_text()



def run_wasmtime(name: str, args: list[str]) -> str:
    import wasmtime
    engine = wasmtime.Engine()
    module = wasmtime.Module.from_file(engine, str(WASM / f"{name}.wasm"))
    with tempfile.TemporaryDirectory() as d:
        config = wasmtime.WasiConfig()
        config.argv = [name, *args]
        config.stdout_file = f"{d}/out"
        store = wasmtime.Store(engine)
        store.set_wasi(config)
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        instance = linker.instantiate(store, module)
        try:
            instance.exports(store)["_start"](store)
        except wasmtime.ExitTrap as e:
            if e.code:
                raise SystemExit(f"{name} {args} exited with {e.code}")
        return pathlib.Path(f"{d}/out").read_text()


def run_pywinch(name: str, args: list[str]) -> str:
    p = subprocess.run([sys.executable, "-m", "pywinch", "run", str(WASM / f"{name}.wasm"), *args],
                       capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"{name} {args} under pywinch exited with {p.returncode}: {p.stderr[-300:]}")
    return p.stdout


def main() -> int:
    with tempfile.TemporaryDirectory() as native_dir:
        subprocess.run([str(HERE.parent / "build.sh"), "--native", native_dir], check=True)
        manifest = {}
        for name, (args, small) in SIZES.items():
            expected = run_wasmtime(name, args)
            expected_small = run_wasmtime(name, small)
            simd = wasm_only(name)
            other = "pywinch" if simd else "native"
            for a, want in ((args, expected), (small, expected_small)):
                got = run_pywinch(name, a) if simd else subprocess.run(
                    [f"{native_dir}/{name}", *a], capture_output=True, text=True, check=True).stdout
                if got != want:
                    print(f"{name} {a}: {other} and Wasmtime disagree:\n{got}\n{want}", file=sys.stderr)
                    return 1
            manifest[name] = {"wasm": f"{name}.wasm", "args": args, "small_args": small,
                              "expected": expected, "expected_small": expected_small}
            if simd:
                manifest[name]["native"] = False
            print(f"{name}: ok (cross-checked with {other})")
    (WASM / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
