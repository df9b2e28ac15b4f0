"""Run a WASI command under an engine, the same way for each engine.

The differential tests describe a run once (program, argv, env, preopens,
stdin) and compare what comes out (exit code, stdout, stderr, files left in
the preopens) between engines. Wasmtime is the reference; pywinch is switched
on automatically once ``pywinch.Linker`` can ``define_wasi``.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import pathlib
import tempfile

PROGRAMS = pathlib.Path(__file__).resolve().parent.parent / "programs"


@dataclasses.dataclass
class RunResult:
    exit_code: int
    stdout: bytes
    stderr: bytes


@dataclasses.dataclass
class Run:
    """One invocation of a WASI command. ``preopens`` maps guest path -> host path."""

    program: str
    args: list[str] = dataclasses.field(default_factory=list)
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    preopens: dict[str, str] = dataclasses.field(default_factory=dict)
    stdin: bytes | None = None
    path: pathlib.Path | None = None      # the .wasm, when not tests/programs/<program>.wasm
    readonly: frozenset[str] = frozenset()  # guest paths of preopens granted read-only

    @property
    def wasm(self) -> pathlib.Path:
        return self.path or PROGRAMS / f"{self.program}.wasm"


def _configure(config, run: Run, io_dir: str) -> tuple[str, str]:
    """Fills a WasiConfig (wasmtime-py's or pywinch's: same names)."""
    config.argv = [run.program, *run.args]
    config.env = list(run.env.items())
    for guest, host in run.preopens.items():
        config.preopen_dir(host, guest, guest not in run.readonly)
    stdin_path = os.path.join(io_dir, "stdin")
    with open(stdin_path, "wb") as f:
        f.write(run.stdin or b"")
    config.stdin_file = stdin_path
    out, err = os.path.join(io_dir, "stdout"), os.path.join(io_dir, "stderr")
    config.stdout_file = out
    config.stderr_file = err
    return out, err


class _ApiEngine:
    """Runs a command through an API with wasmtime-py's names (``api`` is the
    ``wasmtime`` or the ``pywinch`` package): the same steps for both."""

    api = None
    engine = None

    def run(self, run: Run) -> RunResult:
        api = self.api
        with tempfile.TemporaryDirectory(prefix="wasi-io-") as io_dir:
            config = api.WasiConfig()
            out, err = _configure(config, run, io_dir)
            store = api.Store(self.engine)
            store.set_wasi(config)
            linker = api.Linker(self.engine)
            linker.define_wasi()
            instance = linker.instantiate(store, self.module(str(run.wasm)))
            code = 0
            try:
                instance.exports(store)["_start"](store)
            except api.ExitTrap as e:
                code = e.code
            del instance, store, linker
            return _result(code, out, err)


def _result(code: int, out: str, err: str) -> RunResult:
    return RunResult(code, pathlib.Path(out).read_bytes(), pathlib.Path(err).read_bytes())


class WasmtimeEngine(_ApiEngine):
    name = "wasmtime"

    def __init__(self):
        import wasmtime
        self.api = wasmtime
        self.engine = wasmtime.Engine()

    @functools.lru_cache(maxsize=None)
    def module(self, path: str):
        return self.api.Module.from_file(self.engine, path)


class HybridEngine(WasmtimeEngine):
    """Wasmtime runs the code, pywinch's WASI implementation serves the
    imports: tests pywinch's WASI on real programs independently of
    pywinch's compiler and runtime."""

    name = "wasmtime+pywinch-wasi"

    def _define(self, linker, ctx):
        import ctypes
        from pywinch.runtime.wasi import MODULE
        wt = self.api
        kinds = {0x7F: wt.ValType.i32(), 0x7E: wt.ValType.i64()}

        def bind(fn):
            def host(caller, *args):
                memory = caller.get("memory")
                view = None
                if memory is not None:
                    n = memory.data_len(caller)
                    addr = ctypes.addressof(memory.data_ptr(caller).contents)
                    view = memoryview((ctypes.c_ubyte * n).from_address(addr)).cast("B")
                return fn(view, *args)
            return host

        for name, (params, results, fn) in ctx.functions().items():
            ty = wt.FuncType([kinds[p] for p in params], [kinds[r] for r in results])
            linker.define_func(MODULE, name, ty, bind(fn), access_caller=True)

    def run(self, run: Run) -> RunResult:
        import pywinch
        from pywinch.runtime.wasi import WasiConfig, WasiCtx
        wt = self.api
        with tempfile.TemporaryDirectory(prefix="wasi-io-") as io_dir:
            config = WasiConfig()
            out, err = _configure(config, run, io_dir)
            store = wt.Store(self.engine)
            linker = wt.Linker(self.engine)
            with WasiCtx(config) as ctx:
                self._define(linker, ctx)
                instance = linker.instantiate(store, self.module(str(run.wasm)))
                code = 0
                try:
                    instance.exports(store)["_start"](store)
                except pywinch.ExitTrap as e:
                    code = e.code
                del instance, store, linker
            return _result(code, out, err)


class PywinchEngine(_ApiEngine):
    name = "pywinch"

    def __init__(self):
        import pywinch
        self.api = pywinch
        self.engine = pywinch.Engine()

    @functools.lru_cache(maxsize=None)
    def module(self, path: str):
        return self.api.Module(self.engine, pathlib.Path(path).read_bytes())


def pywinch_skip_reason() -> str | None:
    """Why pywinch cannot run WASI programs yet, or None when it can."""
    try:
        import pywinch
    except ImportError as e:  # pragma: no cover - pywinch is installed editable
        return f"pywinch does not import: {e}"
    linker = getattr(pywinch, "Linker", None)
    if linker is None or not hasattr(linker, "define_wasi"):
        return "pywinch.Linker has no define_wasi yet (the runtime's WASI glue is not written)"
    try:
        pywinch.WasiConfig
    except (ImportError, AttributeError) as e:
        return f"pywinch.WasiConfig is not available yet ({e})"
    return None


def regenerate_probe_expectations() -> None:
    """Rewrites expected/errno_probe.{wasmtime,pywinch}.txt from fresh runs
    (Wasmtime, and Wasmtime's code with pywinch's WASI). Review the diff
    between the two before committing: it must show only documented
    departures.  ``python tests/wasi/engines.py``"""
    expected = pathlib.Path(__file__).resolve().parent / "expected"
    for engine, label in ((WasmtimeEngine(), "wasmtime"), (HybridEngine(), "pywinch")):
        with tempfile.TemporaryDirectory() as data:
            r = engine.run(Run("errno_probe", preopens={"/data": data}))
        text = r.stdout.decode() + f"EXIT {r.exit_code}\n" + r.stderr.decode()
        (expected / f"errno_probe.{label}.txt").write_text(text)


if __name__ == "__main__":
    regenerate_probe_expectations()
