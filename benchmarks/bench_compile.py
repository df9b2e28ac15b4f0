"""Compile-time benchmark: pywinch beside Wasmtime's Cranelift and Winch.

Compiles a real wasm32-wasi program (default: benchmarks/wasm/sqlite.wasm,
SQLite built with clang, 1.3 MB) single-threaded and reports, per compiler,
the best of N runs in CPU time (process_time: the machine is shared, so wall
time measures the neighbours as much as the compiler) and wall time, the
throughput in MB/s of module bytes, and microseconds per Wasm operator.

    python benchmarks/bench_compile.py [module.wasm] [--runs N]

pywinch is timed twice: ``compile_module`` alone (decode excluded: the
validator and code generator in one pass, trampolines, linking), and the
public ``pywinch.Module(engine, bytes)`` (decode + compile + loading into
executable memory), which is what ``wasmtime.Module`` measures.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent
DEFAULT = ROOT / "wasm" / "sqlite.wasm"


def best_of(fn, runs):
    cpu = wall = float("inf")
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        c1, w1 = time.process_time(), time.perf_counter()
        cpu = min(cpu, c1 - c0)
        wall = min(wall, w1 - w0)
    return cpu, wall


def count_operators(module):
    n = 0
    for body in module.codes:
        for _ in module.operators(body):
            n += 1
    return n


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("wasm", nargs="?", default=str(DEFAULT))
    p.add_argument("--runs", type=int, default=3)
    args = p.parse_args(argv)
    data = pathlib.Path(args.wasm).read_bytes()

    import pywinch
    from pywinch.api.compiler import compile_module
    from pywinch.wasm.binary import decode_module

    module = decode_module(data)
    nops = count_operators(module)
    mb = len(data) / 1e6
    print(f"{pathlib.Path(args.wasm).name}: {len(data)} bytes, {len(module.funcs)} functions, "
          f"{nops} operators; best of {args.runs}")
    engine = pywinch.Engine()
    # With the engine's settings (guarded memories, interruption checks), as Module() compiles.
    subjects = [("pywinch compile_module", lambda: compile_module(module, engine.config))]
    subjects.append(("pywinch Module()", lambda: pywinch.Module(engine, data)))
    try:
        import wasmtime
    except ImportError:
        wasmtime = None
    if wasmtime is not None:
        for strategy, name in ((1, "wasmtime Cranelift"), (2, "wasmtime Winch")):
            cfg = wasmtime.Config()
            if hasattr(cfg, "parallel_compilation"):
                cfg.parallel_compilation = False
            wasmtime._ffi.wasmtime_config_strategy_set(cfg.ptr(), strategy)
            eng = wasmtime.Engine(cfg)
            subjects.append((name, lambda eng=eng: wasmtime.Module(eng, data)))
    # Rounds interleave the compilers, so a busy machine slows them alike.
    best = {name: [float("inf"), float("inf")] for name, _ in subjects}
    for _ in range(args.runs):
        for name, fn in subjects:
            cpu, wall = best_of(fn, 1)
            b = best[name]
            b[0] = min(b[0], cpu)
            b[1] = min(b[1], wall)
    rows = [(name, *best[name]) for name, _ in subjects]
    print(f"{'compiler':26} {'cpu s':>8} {'wall s':>8} {'MB/s':>8} {'us/op':>8}")
    for name, cpu, wall in rows:
        print(f"{name:26} {cpu:8.3f} {wall:8.3f} {mb / cpu:8.2f} {cpu * 1e6 / nops:8.3f}")
    ref = {n: c for n, c, _ in rows}
    if "wasmtime Cranelift" in ref:
        cl = ref["wasmtime Cranelift"]
        print(f"CPU time / Cranelift: compile_module {ref['pywinch compile_module'] / cl:.2f}x, "
              f"Module() {ref['pywinch Module()'] / cl:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
