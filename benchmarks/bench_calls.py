"""Per-call cost at the Python/Wasm boundary, pywinch next to wasmtime-py in one run.

    python benchmarks/bench_calls.py [--n N] [--json]

Measures (CPU time, best of several rounds, microseconds per call):
  * add:   Python calls an exported (i32, i32) -> i32 function;
  * nop:   Python calls an exported () -> () function;
  * host:  a Wasm loop calls a Python host function (i32) -> i32, per host call;
  * mixed, swap: (i64, f64) -> f64 and a multi-value signature (the array path).
Targets for pywinch (issue 6): add <= 1.0 us, host <= 1.5 us.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

WAT = """
(module
  (import "env" "cb" (func $cb (param i32) (result i32)))
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "nop"))
  (func (export "mixed") (param i64 f64) (result f64) local.get 0 f64.convert_i64_s local.get 1 f64.add)
  (func (export "swap") (param i32 i32) (result i32 i32) local.get 1 local.get 0)
  (func (export "loop") (param $n i32) (result i32) (local $acc i32)
    (block $done
      (loop $top
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (call $cb (local.get $n))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $top)))
    local.get $acc))
"""


def best(fn, n, rounds=7):
    # CPU time of this process, best of several rounds: the machine is shared,
    # and wall time would count the moments another process had the core.
    times = []
    for _ in range(rounds):
        t0 = time.process_time()
        fn(n)
        times.append(time.process_time() - t0)
    return min(times) / n * 1e6


def bench(wasm, n):
    engine = wasm.Engine()
    store = wasm.Store(engine)
    module = wasm.Module(engine, WAT)
    linker = wasm.Linker(engine)
    i32 = wasm.ValType.i32()
    linker.define_func("env", "cb", wasm.FuncType([i32], [i32]), lambda x: x & 1)
    ex = linker.instantiate(store, module).exports(store)
    add, nop, loop, mixed, swap = ex["add"], ex["nop"], ex["loop"], ex["mixed"], ex["swap"]
    assert add(store, 40, 2) == 42
    assert loop(store, 10) == 5

    def run_add(k):
        for _ in range(k):
            add(store, 1, 2)

    def run_nop(k):
        for _ in range(k):
            nop(store)

    def run_host(k):
        loop(store, k)

    def run_mixed(k):
        for _ in range(k):
            mixed(store, 1, 2.5)

    def run_swap(k):
        for _ in range(k):
            swap(store, 1, 2)

    return {"add": best(run_add, n), "nop": best(run_nop, n), "host": best(run_host, n),
            "mixed": best(run_mixed, n), "swap": best(run_swap, n)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--markdown", action="store_true", help="a table for docs/benchmarks.md")
    args = ap.parse_args(argv)
    import pywinch
    results = {"pywinch": bench(pywinch, args.n)}
    try:
        import wasmtime
        results["wasmtime-py"] = bench(wasmtime, max(args.n // 10, 1000))
    except ImportError:
        pass
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    labels = {"add": "Python -> Wasm, (i32, i32) -> i32", "nop": "Python -> Wasm, () -> ()",
              "host": "Wasm -> Python host function", "mixed": "Python -> Wasm, (i64, f64) -> f64",
              "swap": "Python -> Wasm, (i32, i32) -> (i32, i32)"}
    if args.markdown:
        print("| us per call | pywinch | wasmtime-py | wasmtime-py / pywinch |")
        print("|---|---:|---:|---:|")
        for k, label in labels.items():
            p = results["pywinch"][k]
            w = results.get("wasmtime-py", {}).get(k)
            print(f"| {label} | {p:.2f} | {w:.2f} | {w / p:.1f}x |" if w else f"| {label} | {p:.2f} | - | - |")
        return 0
    print(f"{'us per call':<40}{'pywinch':>10}{'wasmtime-py':>14}{'ratio':>8}")
    for k, label in labels.items():
        p = results["pywinch"][k]
        w = results.get("wasmtime-py", {}).get(k)
        ws = f"{w:14.2f}" if w is not None else f"{'-':>14}"
        ratio = f"{w / p:7.1f}x" if w else ""
        print(f"{label:<40}{p:10.2f}{ws}{ratio}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
