"""Time pywinch's WAST parser on the whole top-level spec suite beside wasm-tools.

    python benchmarks/bench_wast_parse.py [suite-dir]

pywinch: ``parse_wast`` on every top-level ``.wast`` (tokenizing, parsing,
and encoding every text module to its binary, in process).  wasm-tools:
``wasm-tools json-from-wast`` on the same files (native, one process per
file, writing the JSON and the module binaries to a temporary directory).
Both are best of ``--repeat`` runs (default 3).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from pywinch.wasm.text import parse_wast  # noqa: E402
from pywinch.wasm.text.lexer import Source, tokenize  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("suite", nargs="?", default=os.environ.get("WASM_TESTSUITE", str(ROOT.parent / "shared" / "wasm-testsuite")))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    files = sorted(pathlib.Path(args.suite).glob("*.wast"))
    if not files:
        print(f"no .wast files in {args.suite}")
        return 1
    texts = [f.read_text(encoding="utf-8") for f in files]
    size = sum(len(t.encode("utf-8")) for t in texts)
    print(f"{len(files)} files, {size / 1e6:.1f} MB")

    best_lex = best_parse = best_parse_cpu = float("inf")
    commands = modules = 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        ntok = 0
        for t in texts:
            ntok += len(tokenize(Source(t))[0])
        best_lex = min(best_lex, time.perf_counter() - t0)
        t0 = time.perf_counter()
        c0 = time.process_time()
        commands = modules = 0
        for f, t in zip(files, texts):
            s = parse_wast(t, str(f))
            commands += len(s.commands)
            modules += sum(1 for _ in s.modules())
        best_parse = min(best_parse, time.perf_counter() - t0)
        best_parse_cpu = min(best_parse_cpu, time.process_time() - c0)
    print(f"pywinch tokenize only      : {best_lex:7.2f} s wall  ({ntok} tokens)")
    print(f"pywinch parse_wast         : {best_parse:7.2f} s wall, {best_parse_cpu:.2f} s CPU  "
          f"({commands} commands, {modules} modules encoded)")

    if shutil.which("wasm-tools") is None:
        print("wasm-tools json-from-wast : (wasm-tools not installed)")
        return 0
    best_wt = best_wt_cpu = float("inf")
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            c0 = os.times()
            for f in files:
                subprocess.run(["wasm-tools", "json-from-wast", str(f), "-o", os.path.join(tmp, f.stem + ".json"),
                                "--wasm-dir", tmp], check=True, capture_output=True)
            c1 = os.times()
            best_wt = min(best_wt, time.perf_counter() - t0)
            best_wt_cpu = min(best_wt_cpu, (c1.children_user + c1.children_system)
                              - (c0.children_user + c0.children_system))
    print(f"wasm-tools json-from-wast  : {best_wt:7.2f} s wall, {best_wt_cpu:.2f} s CPU  "
          f"(native; one process per file, writes .json + .wasm files)")
    # The same scripts as one file: one process, so start-up costs once.
    best_one = float("inf")
    with tempfile.TemporaryDirectory() as tmp:
        big = os.path.join(tmp, "all.wast")
        with open(big, "w", encoding="utf-8") as fh:
            fh.write("\n".join(t for t in texts if not t.lstrip().startswith("(func")))
        for _ in range(args.repeat):
            out = os.path.join(tmp, "out")
            shutil.rmtree(out, ignore_errors=True)
            os.mkdir(out)
            t0 = time.perf_counter()
            subprocess.run(["wasm-tools", "json-from-wast", big, "-o", os.path.join(out, "all.json"),
                            "--wasm-dir", out], check=True, capture_output=True)
            best_one = min(best_one, time.perf_counter() - t0)
    print(f"wasm-tools, one process    : {best_one:7.2f} s wall  (all scripts concatenated into one file)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
