"""Backends: the thin layer between the WAST runner and a runtime.

The runner speaks only to a :class:`Session` (one per script: a store and a
linker with ``spectest`` defined). :class:`ApiSession` implements it on the
wasmtime-py API surface, which pywinch mirrors, so one runner drives pywinch
(:class:`PywinchBackend`, here) or wasmtime-py (tests/spec/wasmtime_backend.py,
a dev-only backend that proves the runner and the text parser).

A backend turns whatever its runtime raises into :class:`Outcome`, whose
``kind`` the runner compares with what an assertion expects.
"""

from __future__ import annotations

import os
import threading
import traceback

from .spectest import define_spectest

__all__ = ["Outcome", "Backend", "ApiSession", "PywinchBackend", "FEATURES_2_0", "PROPOSAL_SWITCHES",
           "features_for", "EPOCH_TICK"]

# The WebAssembly 2.0 feature set, by wasmtime-py's Config switch names: the
# top-level suite runs with exactly these on and every later proposal off.
FEATURES_2_0 = {
    "wasm_multi_value": True,
    "wasm_bulk_memory": True,
    "wasm_reference_types": True,
    "wasm_simd": True,
    "wasm_relaxed_simd": False,
    "wasm_tail_call": False,
    "wasm_multi_memory": False,
    "wasm_memory64": False,
    "wasm_threads": False,
    "wasm_function_references": False,
    "wasm_gc": False,
    "wasm_exceptions": False,
    "wasm_wide_arithmetic": False,
    "wasm_custom_page_sizes": False,
    "wasm_stack_switching": False,
    "wasm_component_model": False,
    "wasm_extended_const": False,
}

# proposals/<name>/ folder of the testsuite -> the Config switch it runs with
PROPOSAL_SWITCHES = {
    "tail-call": ("wasm_tail_call",),
    "extended-const": ("wasm_extended_const",),
    "multi-memory": ("wasm_multi_memory",),
    "memory64": ("wasm_memory64",),
    "relaxed-simd": ("wasm_relaxed_simd",),
    "exception-handling": ("wasm_exceptions",),
    "function-references": ("wasm_function_references", "wasm_tail_call"),
    "gc": ("wasm_gc", "wasm_function_references", "wasm_tail_call"),
    "threads": ("wasm_threads",),
    "annotations": (),
}


def features_for(path: str, base: dict | None = None) -> dict:
    """The feature set a script runs with: 2.0 (or ``base``), plus its proposal's switches when it
    lives in a ``proposals/<name>/`` folder."""
    features = dict(FEATURES_2_0 if base is None else base)
    parts = os.path.normpath(path).split(os.sep)
    for i in range(len(parts) - 2):
        if parts[i] == "proposals":
            for switch in PROPOSAL_SWITCHES.get(parts[i + 1], ()):
                features[switch] = True
    return features


EPOCH_TICK = 0.05   # seconds between epoch increments of the timer thread

OUTCOME_KINDS = (
    "malformed",       # not a well-formed module (binary or text)
    "invalid",         # decodes but does not validate
    "module",          # rejected, the backend cannot tell malformed from invalid
    "unlinkable",      # imports do not match
    "uninstantiable",  # instantiation failed at run time (not a trap the backend reports as such)
    "trap",            # wasm trapped; message says which
    "timeout",         # the per-command time limit ended it
    "unsupported",     # a feature the backend does not support yet
    "crash",           # any other exception: a defect in the backend
)


class Outcome(Exception):
    """What went wrong, in the runner's terms. ``message`` is a str, or a tuple of equivalent wordings."""

    def __init__(self, kind: str, message, cause: BaseException | None = None):
        assert kind in OUTCOME_KINDS, kind
        self.kind = kind
        self.message = message
        self.cause = cause
        super().__init__(f"{kind}: {self.text}")

    @property
    def text(self) -> str:
        m = self.message
        return m[0] if isinstance(m, tuple) else str(m)

    def messages(self) -> tuple:
        return self.message if isinstance(self.message, tuple) else (str(self.message),)


def crash(exc: BaseException) -> Outcome:
    """An unexpected exception, summarised with where it was raised (last frame inside pywinch)."""
    tb = traceback.extract_tb(exc.__traceback__)
    where = ""
    for frame in reversed(tb):
        if "pywinch" in frame.filename or "wasmtime" in frame.filename:
            where = f" at {frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} in {frame.name}"
            break
    return Outcome("crash", f"{type(exc).__name__}: {exc}{where}", exc)


class _EpochTicker:
    """A daemon thread bumping an engine's epoch, so a deadline in ticks is a deadline in time."""

    def __init__(self, engine):
        self._engine = engine
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wast-epoch", daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.wait(EPOCH_TICK):
            self._engine.increment_epoch()

    def stop(self):
        self._stop.set()
        self._thread.join()


class Backend:
    """A runtime the runner can drive: ``api`` is a module with the wasmtime-py names."""

    name = "abstract"
    api = None

    def __init__(self, features: dict | None = None, timeout: float = 10.0):
        self.features = dict(FEATURES_2_0 if features is None else features)
        self.timeout = timeout
        self.notes: list[str] = []    # limitations found while configuring, for the report
        self.cache: dict = {}         # per-engine objects sessions share (spectest types)
        config = self.api.Config()
        for switch, on in self.features.items():
            if hasattr(type(config), switch) or hasattr(config, switch):
                setattr(config, switch, on)
            elif on:
                self.notes.append(f"{self.name}: Config has no switch {switch}")
        self.epoch = hasattr(type(config), "epoch_interruption") or hasattr(config, "epoch_interruption")
        if self.epoch:
            config.epoch_interruption = True
        else:
            self.notes.append(f"{self.name}: no epoch interruption: runaway wasm cannot be stopped")
        self.engine = self.api.Engine(config)
        self._ticker = _EpochTicker(self.engine) if self.epoch else None
        self.deadline_ticks = max(1, int(timeout / EPOCH_TICK))

    def session(self) -> "ApiSession":
        return self.session_class(self)

    def close(self):
        if self._ticker is not None:
            self._ticker.stop()
            self._ticker = None

    # -- hooks a concrete backend provides -------------------------------------------------
    session_class: type = None

    def classify(self, exc: BaseException, phase: str) -> Outcome:
        """Map an exception raised in ``phase`` ('compile', 'instantiate', 'call') to an Outcome."""
        raise NotImplementedError


class ApiSession:
    """One script's store and linker, on the wasmtime-py API surface."""

    def __init__(self, backend: Backend):
        self.backend = backend
        api = backend.api
        self.api = api
        self.store = api.Store(backend.engine)
        self.linker = api.Linker(backend.engine)
        self.linker.allow_shadowing = True
        self.spectest, self.spectest_errors = define_spectest(api, self.store, self.linker, backend.cache)
        self._exports: dict = {}
        self._arm = self.store.set_epoch_deadline if backend.epoch else None
        self._ticks = backend.deadline_ticks

    def compile(self, binary: bytes):
        try:
            return self.api.Module(self.backend.engine, binary)
        except Exception as exc:
            raise self.backend.classify(exc, "compile") from None

    def instantiate(self, module):
        if self.spectest_errors:
            self._check_spectest_imports(module)
        if self._arm is not None:
            self._arm(self._ticks)
        try:
            return self.linker.instantiate(self.store, module)
        except Exception as exc:
            raise self.backend.classify(exc, "instantiate") from None

    def _check_spectest_imports(self, module):
        # An import of a spectest extern the runtime could not create fails for that reason,
        # not as "unknown import"; scripts that do not import it are not affected.
        for imp in module.imports:
            if imp.module == "spectest" and imp.name in self.spectest_errors:
                exc = self.spectest_errors[imp.name]
                o = self.backend.classify(exc, "session")
                raise Outcome(o.kind, f"spectest.{imp.name} could not be created: {o.text}", exc)

    def register(self, name: str, instance):
        try:
            self.linker.define_instance(self.store, name, instance)
        except Exception as exc:
            raise crash(exc) from None

    def export(self, instance, field: str):
        """The export ``field`` of ``instance``, or None."""
        exports = self._exports.get(id(instance))
        if exports is None:
            exports = self._exports[id(instance)] = (instance, instance.exports(self.store))
        return exports[1].get(field)

    def invoke(self, func, args: list) -> list:
        if self._arm is not None:
            self._arm(self._ticks)
        try:
            return self.call(func, args)
        except Outcome:
            raise
        except Exception as exc:
            raise self.backend.classify(exc, "call") from None

    def get(self, glob) -> tuple:
        try:
            return self.global_value(glob)
        except Exception as exc:
            raise self.backend.classify(exc, "call") from None

    def close(self):
        # Instances hold linear memories (large reservations): let them go with the script,
        # not whenever the garbage collector next runs.
        self._exports.clear()
        self.spectest = None
        self.linker = None
        self.store = None

    # -- value conversion, per backend ------------------------------------------------------
    def call(self, func, args: list) -> list:
        raise NotImplementedError

    def global_value(self, glob) -> tuple:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------
# pywinch


class PywinchSession(ApiSession):
    """Calls go through pywinch's generic array-call path with raw bit patterns, so signalling
    NaNs and v128 cross the boundary exactly (a Python float would quiet an f32 sNaN)."""

    def __init__(self, backend):
        super().__init__(backend)
        # pywinch internals: the generic call path and raw value conversion (the public
        # Func.__call__ converts through Python floats)
        from pywinch.api.values import from_raw, to_raw
        from pywinch.runtime import values as rv
        from pywinch.runtime.call import call_raw
        from pywinch.wasm.binary import decode_module
        self._call_raw = call_raw
        self._from_raw = from_raw
        self._to_raw = to_raw
        self._decode = decode_module
        self._names = rv.NAMES
        self._codes = rv.BY_NAME
        self._refs = frozenset(rv.REF_TYPES)

    def compile(self, binary: bytes):
        # Module() reads bytes without the magic as WAT text (b"" is an empty module there);
        # a script's binary module must be judged as binary, so the decoder sees it first.
        if binary[:4] != b"\0asm":
            try:
                self._decode(binary)
            except Exception as exc:
                raise self.backend.classify(exc, "compile") from None
        return super().compile(binary)

    def call(self, func, args: list) -> list:
        ptypes, rtypes = func._key
        if len(args) != len(ptypes):
            raise Outcome("crash", f"{len(args)} arguments for a function of {len(ptypes)} parameters")
        state = func._state
        refs = self._refs
        codes = self._codes
        raw = []
        for t, (name, p) in zip(ptypes, args):
            if codes.get(name) != t:
                raise Outcome("crash", f"argument of type {name} for a parameter of type {self._names.get(t, t)}")
            if t in refs:
                p = state.extern_to_raw(p) if name == "externref" else state.func_to_raw(p)
            raw.append(p)
        if func._host is not None:
            # a host function exported again: no array-call trampoline; Python values are exact here
            out = func(self.store, *[self._from_raw(state, t, r) for t, r in zip(ptypes, raw)])
            out = () if not rtypes else (out,) if len(rtypes) == 1 else out
            raw_out = [self._to_raw(state, t, v) for t, v in zip(rtypes, out)]
        else:
            raw_out = self._call_raw(state, func._funcref, ptypes, rtypes, raw)
        names = self._names
        return [(names[t], self._from_raw(state, t, r) if t in refs else r) for t, r in zip(rtypes, raw_out)]

    def global_value(self, glob) -> tuple:
        g = glob._global
        t = g.valtype
        raw = g.get_raw()
        if t in self._refs:
            return (self._names[t], self._from_raw(glob._store._state, t, raw))
        return (self._names[t], raw)


class PywinchBackend(Backend):
    name = "pywinch"
    session_class = PywinchSession

    def __init__(self, features: dict | None = None, timeout: float = 10.0):
        import pywinch
        from pywinch import errors
        self.api = pywinch
        self.errors = errors
        super().__init__(features, timeout)

    def classify(self, exc: BaseException, phase: str) -> Outcome:
        e = self.errors
        if isinstance(exc, e.Trap):
            if exc.code == e.TrapCode.INTERRUPT:
                return Outcome("timeout", exc.message, exc)
            return Outcome("trap", exc.message, exc)
        if isinstance(exc, e.UnsupportedError):
            return Outcome("unsupported", str(exc), exc)
        if isinstance(exc, e.MalformedError):
            return Outcome("malformed", str(exc), exc)
        if isinstance(exc, e.InvalidError):
            return Outcome("invalid", str(exc), exc)
        if isinstance(exc, e.LinkError):
            return Outcome("unlinkable", str(exc), exc)
        if isinstance(exc, e.InstantiationError):
            return Outcome("uninstantiable", str(exc), exc)
        return crash(exc)
