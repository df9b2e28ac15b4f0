"""Writes benchmarks/wasm/manifest.json: for each benchmark program, its
default arguments (~0.5-2 s under Wasmtime's Cranelift), its small arguments
(a few seconds under the pure-Python pywasm), and the expected stdout of
both. The expected outputs come from Wasmtime and are cross-checked against
the native gcc -O2 build, so a checksum is known right by two compilers.

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
}


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


def main() -> int:
    with tempfile.TemporaryDirectory() as native_dir:
        subprocess.run([str(HERE.parent / "build.sh"), "--native", native_dir], check=True)
        manifest = {}
        for name, (args, small) in SIZES.items():
            expected = run_wasmtime(name, args)
            expected_small = run_wasmtime(name, small)
            for a, want in ((args, expected), (small, expected_small)):
                native = subprocess.run([f"{native_dir}/{name}", *a], capture_output=True,
                                        text=True, check=True).stdout
                if native != want:
                    print(f"{name} {a}: native and wasm disagree:\n{native}\n{want}", file=sys.stderr)
                    return 1
            manifest[name] = {"wasm": f"{name}.wasm", "args": args, "small_args": small,
                              "expected": expected, "expected_small": expected_small}
            print(f"{name}: ok")
    (WASM / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
