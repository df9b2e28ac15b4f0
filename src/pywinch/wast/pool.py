"""Run scripts in worker processes, so a crash or a hang costs one file, not the run.

Native code that pywinch emitted runs in the process: a compiler defect can
kill it with a signal, and Wasm that loops where no epoch check was emitted
cannot be interrupted from Python. Each worker (``python -m
pywinch.wast.pool``) runs scripts one at a time and answers each with one
JSON line; the parent gives every script a hard time limit. A worker that
dies or overruns is reported against the script it was running and replaced.
"""

from __future__ import annotations

import concurrent.futures
import faulthandler
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading

from .runner import FileResult

__all__ = ["WorkerPool", "worker_main"]

_FIELDS = ("passed", "failed", "failures", "error", "seconds", "kinds", "unsupported")


def _to_dict(r: FileResult) -> dict:
    d = {f: getattr(r, f) for f in _FIELDS}
    d["path"] = r.path
    return d


def _from_dict(d: dict) -> FileResult:
    r = FileResult(d["path"])
    for f in _FIELDS:
        setattr(r, f, d[f])
    return r


def _crash_report(stderr: str) -> str:
    """The fault and the innermost frames of faulthandler's report, else the last lines."""
    lines = stderr.strip().splitlines()
    at = max((i for i, l in enumerate(lines) if l.startswith("Fatal Python error")), default=None)
    if at is None:
        tail = lines[-8:]
    else:
        cur = next((i for i in range(at, len(lines)) if lines[i].startswith("Current thread")), None)
        tail = [lines[at]] + (lines[cur + 1:cur + 7] if cur is not None else [])
    return (": " + " | ".join(t.strip() for t in tail)) if tail else ""


class _Worker:
    def __init__(self, args: list[str], pythonpath: list[str]):
        self.stderr = tempfile.TemporaryFile()
        env = dict(os.environ)
        src = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = os.pathsep.join([src, *pythonpath, env.get("PYTHONPATH", "")])
        self.proc = subprocess.Popen([sys.executable, "-m", "pywinch.wast.pool", *args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                     text=True, bufsize=1, env=env)

    def run(self, path: str, hard_timeout: float) -> FileResult:
        timer = threading.Timer(hard_timeout, self.proc.kill)
        timer.start()
        try:
            self.proc.stdin.write(path + "\n")
            self.proc.stdin.flush()
            line = self.proc.stdout.readline()
        except (BrokenPipeError, OSError):
            line = ""
        finally:
            timer.cancel()
        if line:
            return _from_dict(json.loads(line))
        return self._death(path, hard_timeout)

    def _death(self, path: str, hard_timeout: float) -> FileResult:
        self.proc.kill()
        code = self.proc.wait()
        result = FileResult(path)
        if code == -signal.SIGKILL:
            why = f"no result within {hard_timeout:.0f}s: the worker was killed"
        elif code < 0:
            why = f"the worker died of {signal.Signals(-code).name}"
        else:
            why = f"the worker exited with status {code}"
        self.stderr.seek(0)
        result.error = why + _crash_report(self.stderr.read().decode("utf-8", "replace"))
        result.failed = 1
        result.failures.append(f"{path}:0: {result.error}")
        return result

    def close(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
        self.stderr.close()


class WorkerPool:
    """``jobs`` worker processes; :meth:`submit` gives a Future per script, run in submission order."""

    def __init__(self, jobs: int = 2, timeout: float = 10.0, hard_timeout: float = 600.0,
                 features: dict | None = None, enable: list[str] | None = None,
                 backend: str | None = None, pythonpath: list[str] | None = None,
                 strict_messages: bool = False):
        """``backend`` ``"module:Class"`` replaces PywinchBackend in the workers (tests use
        it for the dev-only wasmtime backend); ``pythonpath`` is added to the workers' path."""
        self.hard_timeout = hard_timeout
        self._pythonpath = list(pythonpath or [])
        self._args = ["--timeout", str(timeout)]
        if backend:
            self._args += ["--backend", backend]
        if strict_messages:
            self._args.append("--strict-messages")
        for name in enable or []:
            self._args += ["--enable", name]
        if features is not None:
            self._args += ["--features", json.dumps(features)]
        self._queue: queue.Queue = queue.Queue()
        self._threads = [threading.Thread(target=self._serve, daemon=True, name=f"wast-worker-{i}")
                         for i in range(max(1, jobs))]
        for t in self._threads:
            t.start()

    def submit(self, path: str) -> concurrent.futures.Future:
        fut: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put((path, fut))
        return fut

    def map(self, paths):
        """Results in the order of ``paths``."""
        futures = [self.submit(p) for p in paths]
        for f in futures:
            yield f.result()

    def _serve(self):
        worker = None
        while True:
            item = self._queue.get()
            if item is None:
                break
            path, fut = item
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                if worker is None:
                    worker = _Worker(self._args, self._pythonpath)
                result = worker.run(path, self.hard_timeout)
                if worker.proc.poll() is not None:     # it died: the next script gets a new one
                    worker.close()
                    worker = None
                fut.set_result(result)
            except BaseException as exc:
                fut.set_exception(exc)
        if worker is not None:
            worker.close()

    def close(self):
        for _ in self._threads:
            self._queue.put(None)
        for t in self._threads:
            t.join()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def worker_main(argv=None) -> int:
    import argparse
    from . import FEATURES_2_0, BackendCache
    from .backend import PywinchBackend

    ap = argparse.ArgumentParser(prog="python -m pywinch.wast.pool")
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--features", default=None)
    ap.add_argument("--enable", action="append", default=[])
    ap.add_argument("--backend", default=None, help="module:Class of a Backend (default PywinchBackend)")
    ap.add_argument("--strict-messages", action="store_true")
    args = ap.parse_args(argv)
    backend_class = PywinchBackend
    if args.backend:
        import importlib
        mod, _, attr = args.backend.partition(":")
        backend_class = getattr(importlib.import_module(mod), attr)
    base = json.loads(args.features) if args.features else dict(FEATURES_2_0)
    for name in args.enable:
        base[name] = True
    # The protocol owns the real stdout; anything else the process prints goes to stderr.
    proto = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    faulthandler.enable()
    cache = BackendCache(backend_class, timeout=args.timeout, base=base, strict_messages=args.strict_messages)
    try:
        for line in sys.stdin:
            result = cache.run(line.rstrip("\n"))
            proto.write(json.dumps(_to_dict(result)) + "\n")
            proto.flush()
    finally:
        cache.close()
    return 0


if __name__ == "__main__":
    sys.exit(worker_main())
