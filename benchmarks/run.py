"""The benchmark suite, side by side in one run: writes docs/benchmarks.md and its chart.

    python benchmarks/run.py                    # full run (make bench)
    python benchmarks/run.py --reps 5           # median of 5 runs per engine
    python benchmarks/run.py --quick            # small sizes, 1 run, 4 programs (tests)
    python benchmarks/run.py --programs fib,sieve --out /tmp/b.md

For every program of benchmarks/wasm/manifest.json it measures:
  * execution time of ``_start`` under pywinch, Wasmtime Cranelift, Wasmtime
    Winch (module compiled beforehand, a fresh store and instance per run, only
    the call is timed), the native ``gcc -O2`` build, and pywasm (the pure-Python
    interpreter) on the manifest's small input;
  * compile time of the module under pywinch (``pywinch.Module``: decode,
    validate, compile, load), Cranelift and Winch (``wasmtime.Module`` with
    parallel compilation off), single-threaded;
  * the Python <-> Wasm call overhead (benchmarks/bench_calls.py).

A program whose manifest entry says ``"native": false`` (written with
wasm_simd128.h, which gcc cannot build) shows native as n/a, not as a failure.

Every run's stdout is compared with the manifest's expected checksum; a
mismatch, a trap, a crash or a timeout is a failure, printed loudly, shown as
FAILED in the report and turned into a non-zero exit status, never a number.

Times are CPU time (user + system) of the process doing the work, median of
``--reps`` runs: the machine is shared, and wall time would count the moments
a neighbour had the core. Wall times are kept in the JSON results.

Each (program, engine) pair runs in its own worker process (this file with
``--worker``), so a crash in one engine cannot take the run down with it and
one engine's state (signal handlers, caches, heap) never touches another's.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
WASM_DIR = HERE / "wasm"
MANIFEST = WASM_DIR / "manifest.json"

# Engine names as they appear in results and the report.
PYWINCH, CRANELIFT, WINCH, NATIVE, PYWASM = "pywinch", "cranelift", "winch", "native", "pywasm"
# pywinch with Config.interruptible = False: no epoch checks at loop back-edges, as
# Wasmtime's default configuration (shows what the Ctrl-C guarantee costs).
PYWINCH_NOINT = "pywinch-noint"
WASM_ENGINES = (PYWINCH, CRANELIFT, WINCH)
QUICK_PROGRAMS = ("fib", "sieve", "sha256", "interp")
WORKER_TIMEOUT = 900        # seconds for one (program, engine) worker, all its runs
PYWASM_TIMEOUT = 600


class Failure(Exception):
    """A run that produced no trustworthy time (wrong output, trap, crash, timeout)."""


def load_manifest(path: pathlib.Path = MANIFEST) -> dict:
    return json.loads(path.read_text())


# ---------------------------------------------------------------- worker side

def _wasm_engine(kind: str):
    """(api module, engine) for one of WASM_ENGINES, compiling single-threaded."""
    if kind in (PYWINCH, PYWINCH_NOINT):
        import pywinch
        cfg = pywinch.Config()
        cfg.interruptible = kind == PYWINCH
        return pywinch, pywinch.Engine(cfg)
    import wasmtime
    cfg = wasmtime.Config()
    # Single-threaded compile: the comparison is of compilers, not of core counts.
    if hasattr(cfg, "parallel_compilation"):
        cfg.parallel_compilation = False
    # wasmtime-py 50 has no name for the Winch strategy; the C API has (1 Cranelift, 2 Winch).
    wasmtime._ffi.wasmtime_config_strategy_set(cfg.ptr(), 1 if kind == CRANELIFT else 2)
    return wasmtime, wasmtime.Engine(cfg)


def _timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    value = fn()
    c1, w1 = time.process_time(), time.perf_counter()
    return value, c1 - c0, w1 - w0


def worker_wasm(kind: str, path: str, argv: list[str], reps: int, compile_reps: int) -> dict:
    api, engine = _wasm_engine(kind)
    data = pathlib.Path(path).read_bytes()
    res = {"compile": [], "compile_wall": [], "exec": [], "exec_wall": [], "outputs": [], "exit_codes": []}
    # The first compile of the process is reported apart ("compile_first"): pywinch
    # imports its compiler lazily and builds its encoding tables, and both engines
    # warm caches on first use (pywinch keeps entry trampolines by signature); a
    # user compiling several modules pays that once.  The medians are of later compiles.
    module, cpu, _ = _timed(lambda: api.Module(engine, data))
    res["compile_first"] = cpu
    for _ in range(compile_reps):
        module = None   # the previous module is freed first, as a fresh process would have it
        module, cpu, wall = _timed(lambda: api.Module(engine, data))
        res["compile"].append(cpu)
        res["compile_wall"].append(wall)
    for _ in range(reps):
        with tempfile.TemporaryDirectory(prefix="bench-") as d:
            config = api.WasiConfig()
            config.argv = [pathlib.Path(path).stem, *argv]
            config.stdout_file = os.path.join(d, "stdout")
            config.stderr_file = os.path.join(d, "stderr")
            store = api.Store(engine)
            store.set_wasi(config)
            linker = api.Linker(engine)
            linker.define_wasi()
            start = linker.instantiate(store, module).exports(store)["_start"]

            def call():
                try:
                    start(store)
                except api.ExitTrap as e:
                    return e.code
                return 0
            code, cpu, wall = _timed(call)
            del start, linker, store
            res["exec"].append(cpu)
            res["exec_wall"].append(wall)
            res["exit_codes"].append(code)
            res["outputs"].append(pathlib.Path(d, "stdout").read_text(errors="replace"))
    return res


def worker_pywasm(path: str, argv: list[str], reps: int) -> dict:
    import pywasm
    res = {"exec": [], "exec_wall": [], "outputs": [], "exit_codes": []}
    saved = os.dup(1)
    try:
        for _ in range(reps):
            # pywasm's WASI writes straight to fd 1: point it at a file for the run.
            with tempfile.TemporaryFile() as out:
                runtime = pywasm.core.Runtime()
                wasi = pywasm.wasi.Preview1([pathlib.Path(path).stem, *argv], {}, {})
                wasi.bind(runtime)
                instance = runtime.instance_from_file(path)
                sys.stdout.flush()
                os.dup2(out.fileno(), 1)
                try:
                    code, cpu, wall = _timed(lambda: wasi.main(runtime, instance))
                finally:
                    os.dup2(saved, 1)
                out.seek(0)
                res["outputs"].append(out.read().decode(errors="replace"))
            res["exec"].append(cpu)
            res["exec_wall"].append(wall)
            res["exit_codes"].append(code)
    finally:
        os.close(saved)
    return res


def worker_main(args) -> int:
    argv = json.loads(args.argv)
    if args.worker == PYWASM:
        res = worker_pywasm(args.wasm, argv, args.reps)
    else:
        res = worker_wasm(args.worker, args.wasm, argv, args.reps, args.compile_reps)
    pathlib.Path(args.result).write_text(json.dumps(res))
    return 0


# ---------------------------------------------------------------- parent side

# Workers import pywinch from its bytecode, as a pip-installed package does (pip
# byte-compiles at install): with PYTHONDONTWRITEBYTECODE set, as on some CI
# machines, every worker would compile pywinch's sources again and the first
# compile of a process would measure that.  main() byte-compiles the package once.
_WORKER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _byte_compile_pywinch() -> None:
    import compileall
    import importlib.util
    spec = importlib.util.find_spec("pywinch")
    if spec is not None and spec.submodule_search_locations:
        for d in spec.submodule_search_locations:
            compileall.compile_dir(d, quiet=1)


def run_worker(kind: str, wasm: pathlib.Path, argv: list[str], reps: int, compile_reps: int,
               timeout: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-worker-") as d:
        result = pathlib.Path(d, "result.json")
        cmd = [sys.executable, str(pathlib.Path(__file__).resolve()), "--worker", kind,
               "--wasm", str(wasm), "--argv", json.dumps(argv), "--reps", str(reps),
               "--compile-reps", str(compile_reps), "--result", str(result)]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=_WORKER_ENV)
        except subprocess.TimeoutExpired:
            raise Failure(f"timed out after {timeout:.0f} s")
        if p.returncode != 0 or not result.exists():
            tail = (p.stderr or p.stdout).strip().splitlines()[-6:]
            raise Failure(f"worker exited with {p.returncode}: " + " | ".join(tail))
        return json.loads(result.read_text())


def run_native(exe: pathlib.Path, argv: list[str], reps: int) -> dict:
    res = {"exec": [], "exec_wall": [], "outputs": [], "exit_codes": []}
    for _ in range(reps):
        with tempfile.TemporaryFile() as out:
            w0 = time.perf_counter()
            p = subprocess.Popen([str(exe), *argv], stdout=out, stderr=subprocess.DEVNULL)
            # wait4 gives the child's own CPU time, comparable with the workers' process_time.
            _, status, usage = os.wait4(p.pid, 0)
            wall = time.perf_counter() - w0
            p.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            res["outputs"].append(out.read().decode(errors="replace"))
        res["exec"].append(usage.ru_utime + usage.ru_stime)
        res["exec_wall"].append(wall)
        res["exit_codes"].append(p.returncode)
    return res


def verify(res: dict, expected: str) -> None:
    for code, out in zip(res["exit_codes"], res["outputs"]):
        if code != 0:
            raise Failure(f"exit code {code}, output {out[-200:]!r}")
        if out != expected:
            raise Failure(f"wrong output {out[-200:]!r}, expected {expected!r}")
    if not res["outputs"]:
        raise Failure("no run")


def build_native(dest: pathlib.Path) -> str | None:
    """Builds the gcc -O2 baselines into dest; the reason when it cannot."""
    cc = os.environ.get("NATIVE_CC", "gcc")
    if shutil.which(cc) is None:
        return f"{cc} not found"
    p = subprocess.run([str(HERE / "build.sh"), "--native", str(dest)], capture_output=True, text=True)
    if p.returncode != 0:
        return "native build failed: " + p.stderr.strip()[-300:]
    return None


def summarize(res: dict) -> dict:
    out = {"exec": statistics.median(res["exec"]), "exec_wall": statistics.median(res["exec_wall"]),
           "exec_runs": res["exec"]}
    if res.get("compile"):
        out["compile"] = statistics.median(res["compile"])
        out["compile_wall"] = statistics.median(res["compile_wall"])
        out["compile_runs"] = res["compile"]
    if "compile_first" in res:
        out["compile_first"] = res["compile_first"]
    return out


def measure_program(name: str, entry: dict, opts, native_dir: pathlib.Path | None,
                    native_reason: str | None) -> dict:
    wasm = WASM_DIR / entry["wasm"]
    size_key, exp_key = ("small_args", "expected_small") if opts.quick else ("args", "expected")
    argv, expected = entry[size_key], entry[exp_key]
    row = {"program": name, "args": argv, "small_args": entry["small_args"],
           "bytes": wasm.stat().st_size, "engines": {}, "failures": {}, "na": {}}

    def attempt(label, fn, exp):
        t0 = time.perf_counter()
        try:
            res = fn()
            verify(res, exp)
        except Failure as e:
            row["failures"][label] = str(e)
            print(f"  !!! {name} under {label}: FAILED: {e}", file=sys.stderr, flush=True)
            return
        row["engines"][label] = s = summarize(res)
        extra = f", compile {s['compile'] * 1e3:.1f} ms" if "compile" in s else ""
        print(f"  {name:14} {label:14} {s['exec']:8.3f} s{extra}  (checksum ok; "
              f"{time.perf_counter() - t0:.1f} s)", flush=True)

    for kind in WASM_ENGINES:
        attempt(kind, lambda: run_worker(kind, wasm, argv, opts.reps, opts.reps, WORKER_TIMEOUT), expected)
    if not opts.no_variants:
        attempt(PYWINCH_NOINT, lambda: run_worker(PYWINCH_NOINT, wasm, argv, opts.reps, 0, WORKER_TIMEOUT),
                expected)
    if entry.get("native", True) is False:
        # Written with Wasm SIMD intrinsics (gen_manifest.py): no native program to run, which
        # is not a failure; its checksum was cross-checked against pywinch instead.
        row["na"][NATIVE] = "no native build (Wasm SIMD intrinsics)"
    elif native_dir is not None:
        attempt(NATIVE, lambda: run_native(native_dir / name, argv, opts.reps), expected)
    if not opts.no_pywasm:
        small, exp_small = entry["small_args"], entry["expected_small"]
        attempt(PYWASM, lambda: run_worker(PYWASM, wasm, small, opts.pywasm_reps, 0, PYWASM_TIMEOUT), exp_small)
        # pywinch on the same small input, for a like-for-like ratio with the interpreter.
        attempt(PYWINCH + "-small",
                lambda: run_worker(PYWINCH, wasm, small, opts.pywasm_reps, 0, WORKER_TIMEOUT), exp_small)
    return row


def measure_calls(quick: bool) -> dict | str:
    n = 3000 if quick else 100_000
    p = subprocess.run([sys.executable, str(HERE / "bench_calls.py"), "--json", "--n", str(n)],
                       capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        return "bench_calls.py failed: " + p.stderr.strip()[-300:]
    return json.loads(p.stdout)


def machine_info() -> dict:
    cpu = platform.processor() or platform.machine()
    cores = os.cpu_count()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = None
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "src"],
                           capture_output=True, text=True).stdout.strip()
    versions = {"python": platform.python_version()}
    for mod in ("wasmtime", "pywasm"):
        try:
            from importlib.metadata import version
            versions[mod] = version(mod)
        except Exception:
            pass
    gcc = subprocess.run([os.environ.get("NATIVE_CC", "gcc"), "--version"], capture_output=True, text=True)
    versions["gcc"] = gcc.stdout.splitlines()[0] if gcc.returncode == 0 else "none"
    return {"cpu": cpu, "cores": cores, "load": load, "system": f"{platform.system()} {platform.release()}",
            "commit": commit + (" (src/ modified)" if dirty else ""),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "versions": versions}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=3, help="runs per program and engine (median)")
    ap.add_argument("--pywasm-reps", type=int, default=1, help="runs under pywasm (slow)")
    ap.add_argument("--quick", action="store_true", help="small inputs, 1 run, a subset; for tests")
    ap.add_argument("--programs", help="comma-separated subset of the manifest's programs")
    ap.add_argument("--out", help="report path (default docs/benchmarks.md; build/bench-quick/ with --quick)")
    ap.add_argument("--chart", help="chart path (default: benchmarks.png beside the report)")
    ap.add_argument("--json", help="raw results path (default: results.json beside the report)")
    ap.add_argument("--manifest", default=str(MANIFEST),
                    help="programs, arguments and checksums (paths relative to benchmarks/wasm/)")
    ap.add_argument("--no-pywasm", action="store_true")
    ap.add_argument("--no-native", action="store_true")
    ap.add_argument("--no-calls", action="store_true")
    ap.add_argument("--no-variants", action="store_true",
                    help="skip pywinch with Config.interruptible = False")
    # Internal: one (program, engine) measurement in this process.
    ap.add_argument("--worker", choices=(*WASM_ENGINES, PYWINCH_NOINT, PYWASM), help=argparse.SUPPRESS)
    ap.add_argument("--wasm", help=argparse.SUPPRESS)
    ap.add_argument("--argv", help=argparse.SUPPRESS)
    ap.add_argument("--compile-reps", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    opts = ap.parse_args(argv)
    if opts.worker:
        return worker_main(opts)

    manifest = load_manifest(pathlib.Path(opts.manifest))
    if opts.quick:
        opts.reps = 1
        opts.pywasm_reps = 1
    names = (opts.programs.split(",") if opts.programs
             else [n for n in QUICK_PROGRAMS if n in manifest] or list(manifest) if opts.quick
             else list(manifest))
    unknown = [n for n in names if n not in manifest]
    if unknown:
        ap.error(f"unknown programs {unknown}; the manifest has {sorted(manifest)}")
    out = pathlib.Path(opts.out) if opts.out else (
        ROOT / "build" / "bench-quick" / "benchmarks.md" if opts.quick else ROOT / "docs" / "benchmarks.md")
    chart = pathlib.Path(opts.chart) if opts.chart else out.with_suffix(".png")
    # The committed results.json only for the default report: a run written elsewhere keeps its own.
    raw = pathlib.Path(opts.json) if opts.json else out.with_name("results.json") if opts.quick or opts.out \
        else HERE / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)

    _byte_compile_pywinch()
    info = machine_info()
    print(f"{info['cpu']}, {info['cores']} cores, load {info['load']}; commit {info['commit']}; "
          f"{len(names)} programs, median of {opts.reps}", flush=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-native-") as nd:
        native_dir, native_reason = None, "not run (--no-native)"
        if not opts.no_native:
            native_reason = build_native(pathlib.Path(nd))
            native_dir = None if native_reason else pathlib.Path(nd)
        info["native"] = native_reason or "gcc -O2 build"
        rows = [measure_program(n, manifest[n], opts, native_dir, native_reason) for n in names]
    calls = None if opts.no_calls else measure_calls(opts.quick)
    info["load_after"] = os.getloadavg()
    # Each worker imports pywinch afresh: a commit landing mid-run changes what later programs measure.
    info["commit_after"] = machine_info()["commit"]
    info["duration"] = time.perf_counter() - t0
    results = {"machine": info, "quick": opts.quick, "reps": opts.reps, "pywasm_reps": opts.pywasm_reps,
               "programs": rows, "calls": calls}
    raw.parent.mkdir(parents=True, exist_ok=True)
    raw.write_text(json.dumps(results, indent=1) + "\n")

    sys.path.insert(0, str(HERE))
    import report
    chart_error = report.write_chart(results, chart)
    text = report.render(results, out, chart if chart_error is None else None, chart_error)
    out.write_text(text)
    print(f"wrote {out}, {chart if chart_error is None else 'no chart: ' + chart_error}, {raw}")
    failures = [(r["program"], e, m) for r in rows for e, m in r["failures"].items()]
    print(report.summary(results))
    if failures:
        print(f"\n!!! {len(failures)} FAILURES:", file=sys.stderr)
        for prog, eng, msg in failures:
            print(f"!!!   {prog} under {eng}: {msg}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
