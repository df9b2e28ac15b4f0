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

import struct
import threading
import traceback

from .spectest import define_spectest

__all__ = ["Outcome", "Backend", "ApiSession", "PywinchBackend", "FEATURES_2_0", "EPOCH_TICK"]

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
}

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
            if hasattr(type(config), switch):
                setattr(config, switch, on)
            elif on:
                self.notes.append(f"{self.name}: Config has no switch {switch}")
        self.epoch = hasattr(type(config), "epoch_interruption")
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
        self.spectest = define_spectest(api, self.store, self.linker, backend.cache)
        self._exports: dict = {}
        self._arm = self.store.set_epoch_deadline if backend.epoch else None
        self._ticks = backend.deadline_ticks

    def compile(self, binary: bytes):
        try:
            return self.api.Module(self.backend.engine, binary)
        except Exception as exc:
            raise self.backend.classify(exc, "compile") from None

    def instantiate(self, module):
        if self._arm is not None:
            self._arm(self._ticks)
        try:
            return self.linker.instantiate(self.store, module)
        except Exception as exc:
            raise self.backend.classify(exc, "instantiate") from None

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
        self._exports.clear()

    # -- value conversion, per backend ------------------------------------------------------
    def call(self, func, args: list) -> list:
        raise NotImplementedError

    def global_value(self, glob) -> tuple:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------
# pywinch

_F32 = struct.Struct("<f")
_F64 = struct.Struct("<d")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")


def _f32_float(bits: int) -> float:
    return _F32.unpack(_U32.pack(bits))[0]


def _f64_float(bits: int) -> float:
    return _F64.unpack(_U64.pack(bits))[0]


class PywinchSession(ApiSession):
    """Values cross pywinch's boundary as its Python values (see DESIGN: i32/i64 int, f32/f64 float,
    v128 int, refs as Func/None/object)."""

    def call(self, func, args: list) -> list:
        store = self.store
        py_args = [_to_py(a) for a in args]
        result_types = self._result_types(func)
        out = func(store, *py_args)
        if len(result_types) == 1:
            out = (out,)
        elif not result_types:
            out = ()
        return [_from_py(t, v) for t, v in zip(result_types, out)]

    def _result_types(self, func):
        key = id(func)
        cache = self._exports
        types = cache.get(("results", key))
        if types is None:
            types = [str(t) for t in func.type(self.store).results]
            cache[("results", key)] = (func, types)
        else:
            types = types[1]
        return types

    def global_value(self, glob) -> tuple:
        t = str(glob.type(self.store).content)
        return _from_py(t, glob.value(self.store))


def _to_py(value: tuple):
    t, p = value
    if t == "f32":
        return _f32_float(p)
    if t == "f64":
        return _f64_float(p)
    if t == "i32":
        return p - (1 << 32) if p >> 31 else p
    if t == "i64":
        return p - (1 << 64) if p >> 63 else p
    return p


def _from_py(t: str, v) -> tuple:
    if t == "i32":
        return ("i32", v & 0xFFFFFFFF)
    if t == "i64":
        return ("i64", v & 0xFFFFFFFFFFFFFFFF)
    if t == "f32":
        return ("f32", _U32.unpack(_F32.pack(v))[0])
    if t == "f64":
        return ("f64", _U64.unpack(_F64.pack(v))[0])
    if t == "v128":
        return ("v128", v & ((1 << 128) - 1))
    if t == "funcref":
        return ("funcref", v)
    if t == "externref":
        return ("externref", v)
    raise Outcome("crash", f"unknown value type {t!r} at the boundary")


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
