"""``make demo``: compile a real C program (examples/demo.c, built to
examples/demo.wasm) with pywinch and run it through the public API: host
function imports, linear memory shared with Python, traps, and a timing of
the call path next to the work done in Wasm."""

from __future__ import annotations

import pathlib
import sys
import time
import zlib

import pywinch as wasm

HERE = pathlib.Path(__file__).resolve()
CANDIDATES = [HERE.parent.parent.parent / "examples" / "demo.wasm", pathlib.Path("examples/demo.wasm")]

TEXT = b"""WebAssembly (abbreviated Wasm) is a binary instruction format for a
stack-based virtual machine. Wasm is designed as a portable compilation target
for programming languages, enabling deployment on the web for client and
server applications. pywinch compiles each function in a single pass straight
to x86-64 machine code and runs it inside the Python process.
"""


def find_wasm() -> pathlib.Path:
    for c in CANDIDATES:
        if c.is_file():
            return c
    sys.exit("examples/demo.wasm not found (run from the repository root)")


def main() -> int:
    path = find_wasm()
    engine = wasm.Engine()
    t0 = time.perf_counter()
    module = wasm.Module.from_file(engine, path)
    t1 = time.perf_counter()
    print(f"compiled {path.name}: {path.stat().st_size} bytes of Wasm -> "
          f"{len(module.compiled.code)} bytes of x86-64 in {(t1 - t0) * 1e3:.1f} ms")

    store = wasm.Store(engine)
    linker = wasm.Linker(engine)
    reports = []
    linker.define_func("env", "progress", wasm.FuncType([wasm.ValType.i32()] * 2, []),
                       lambda done, total: reports.append(done))
    instance = linker.instantiate(store, module)
    ex = instance.exports(store)
    memory = ex["memory"]

    # Python writes the input into linear memory; Wasm computes over it.
    buf = ex["input_buffer"](store)
    memory.write(store, TEXT, buf)
    crc = ex["crc32"](store, len(TEXT))
    print(f"crc32(text)        = {crc & 0xFFFFFFFF:#010x}  (zlib says {zlib.crc32(TEXT):#010x})")
    print(f"count_words(text)  = {ex['count_words'](store, len(TEXT))}  (Python says {len(TEXT.split())})")
    print(f"mean byte(text)    = {ex['mean'](store, len(TEXT)):.4f}  (Python says {sum(TEXT) / len(TEXT):.4f})")
    print(f"fib(90)            = {ex['fib'](store, 90)}")
    t0 = time.perf_counter()
    primes = ex["count_primes"](store, 1 << 20)
    t1 = time.perf_counter()
    print(f"count_primes(2^20) = {primes}  in {(t1 - t0) * 1e3:.1f} ms, "
          f"{len(reports)} progress callbacks into Python")

    fib = ex["fib"]
    n = 100_000
    t0 = time.perf_counter()
    for _ in range(n):
        fib(store, 10)
    t1 = time.perf_counter()
    print(f"Python -> Wasm call: {(t1 - t0) / n * 1e6:.2f} us per call")

    # A trap is a Python exception; the store stays usable.
    try:
        memory.write(store, b"x", memory.data_len(store))
    except wasm.MemoryBoundsError as e:   # also an IndexError, as in wasmtime-py
        print(f"writing past the end of memory from Python: MemoryBoundsError ({e})")
    bad = wasm.Module(engine, '(module (func (export "boom") (result i32) i32.const 1 i32.const 0 i32.div_s))')
    try:
        wasm.Instance(store, bad, []).exports(store)["boom"](store)
    except wasm.Trap as trap:
        print(f"trap: {trap.message}")
    print(f"after the trap: fib(20) = {fib(store, 20)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
