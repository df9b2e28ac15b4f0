"""The WAST script runner: ``pywinch wast FILE...``.

Public entry points:

- :func:`main` ``(argv) -> int``: the ``wast`` subcommand (cli.py wires it).
- :func:`run_files` ``(paths, backend=None, report=print, ...) -> list[FileResult]``.
- :class:`~pywinch.wast.runner.Runner`, :class:`~pywinch.wast.backend.PywinchBackend`,
  :func:`~pywinch.wast.frontend.parse` ``(text, filename) -> list[Command]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from .backend import FEATURES_2_0, Backend, Outcome, PywinchBackend, features_for
from .runner import FileResult, Runner

__all__ = ["main", "run_files", "add_arguments", "collect", "summary_line", "BackendCache",
           "FileResult", "Runner", "Backend", "PywinchBackend", "Outcome", "FEATURES_2_0"]


def collect(paths) -> list[str]:
    """Files to run: each path as given, each directory's ``*.wast`` (not recursing), sorted."""
    files = []
    for p in paths:
        if os.path.isdir(p):
            files.extend(sorted(os.path.join(p, n) for n in os.listdir(p) if n.endswith(".wast")))
        else:
            files.append(p)
    return files


def summary_line(results) -> str:
    passed = sum(r.passed for r in results)
    failed = sum(r.failed for r in results)
    return f"{passed} passed, {failed} failed"


class BackendCache:
    """One backend per distinct feature set; a set the runtime refuses is remembered as such."""

    def __init__(self, factory=None, timeout: float = 10.0, base: dict | None = None,
                 strict_messages: bool = False):
        self.factory = factory or PywinchBackend
        self.strict_messages = strict_messages
        self.timeout = timeout
        self.base = base
        self._made: dict = {}

    def run(self, path: str, report=None) -> FileResult:
        from .frontend import parse
        features = features_for(path, self.base)
        key = tuple(sorted(k for k, on in features.items() if on))
        backend = self._made.get(key)
        if backend is None:
            try:
                backend = self.factory(features=features, timeout=self.timeout)
            except Exception as exc:    # e.g. a proposal the Config refuses: "not supported yet"
                backend = exc
            self._made[key] = backend
        if isinstance(backend, Exception):
            result = FileResult(path)
            result.error = f"cannot configure the engine: {type(backend).__name__}: {backend}"
            result.failed = 1
            result.failures.append(f"{path}:0: {result.error}")
            if report is not None:
                report(result.failures[0])
            return result
        return Runner(backend, report=report, strict_messages=self.strict_messages).run_file(path, parse)

    def notes(self) -> list[str]:
        """Limitations the backends found while configuring (no epoch interruption...)."""
        return [n for b in self._made.values() if not isinstance(b, Exception) for n in b.notes]

    def close(self):
        for b in self._made.values():
            if not isinstance(b, Exception):
                b.close()
        self._made.clear()


def run_files(paths, backend: Backend | None = None, report=print, verbose: bool = False,
              timeout: float = 10.0, features: dict | None = None,
              strict_messages: bool = False) -> list[FileResult]:
    """Run scripts in order. Without ``backend``, each script runs on a pywinch engine with its
    feature set: ``features`` (default WebAssembly 2.0) plus its proposal's switch when it lives
    in the testsuite's ``proposals/<name>/``; one engine per distinct set."""
    from .frontend import parse
    cache = BackendCache(timeout=timeout, base=features, strict_messages=strict_messages)
    try:
        results = []
        for path in collect(paths):
            if backend is not None:
                result = Runner(backend, report=report, strict_messages=strict_messages).run_file(path, parse)
            else:
                result = cache.run(path, report)
            results.append(result)
            if verbose and report is not None:
                report(f"{result.path}: {result.passed} passed, {result.failed} failed "
                       f"({result.seconds:.2f}s)")
        if verbose and report is not None:
            for note in cache.notes():
                report(f"note: {note}")
        return results
    finally:
        cache.close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", nargs="+", metavar="FILE",
                        help="WAST scripts, or directories whose *.wast files to run")
    parser.add_argument("-v", "--verbose", action="store_true", help="print one line per file")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds any one command may run before it is stopped (default 10)")
    parser.add_argument("--enable", action="append", default=[], metavar="FEATURE",
                        help="turn on a Config switch beyond WebAssembly 2.0, e.g. wasm_tail_call")
    parser.add_argument("--strict-messages", action="store_true",
                        help="module assertions also compare the error message (default: only its kind)")
    parser.add_argument("-j", "--jobs", type=int, default=0, metavar="N",
                        help="run scripts in N worker processes, so a crash or hang costs one script "
                             "(default: in this process)")


def _run_pooled(args, features, report) -> list[FileResult]:
    from .pool import WorkerPool
    results = []
    with WorkerPool(jobs=args.jobs, timeout=args.timeout, features=features,
                    strict_messages=args.strict_messages) as pool:
        for result in pool.map(collect(args.files)):
            results.append(result)
            for line in result.failures:
                report(line)
            if args.verbose:
                report(f"{result.path}: {result.passed} passed, {result.failed} failed "
                       f"({result.seconds:.2f}s)")
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="pywinch wast", description="Run WebAssembly spec (WAST) scripts.")
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_from_args(args)


def run_from_args(args) -> int:
    features = dict(FEATURES_2_0)
    for name in args.enable:
        name = name if name.startswith("wasm_") else "wasm_" + name.replace("-", "_")
        features[name] = True
    start = time.perf_counter()
    out = sys.stdout

    def report(line):
        print(line, file=out, flush=True)

    try:
        if args.jobs > 0:
            results = _run_pooled(args, features, report)
        else:
            results = run_files(args.files, report=report, verbose=args.verbose,
                                timeout=args.timeout, features=features,
                                strict_messages=args.strict_messages)
        if args.verbose:
            print(f"{len(results)} files in {time.perf_counter() - start:.1f}s", file=out)
        print(summary_line(results), file=out, flush=True)
    except BrokenPipeError:
        # the reader (`| head`) went away: stop quietly, as command-line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0 if all(r.failed == 0 for r in results) else 1
