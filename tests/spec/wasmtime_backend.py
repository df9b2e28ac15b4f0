"""wasmtime-py as a backend of pywinch's WAST runner (dev-only).

Running the suite on Wasmtime proves the runner and pywinch's text parser
apart from pywinch's compiler: every assertion should pass here. Calls go
through wasmtime's C API with raw values, so float bit patterns (signalling
NaNs included) and v128 cross the boundary exactly; wasmtime-py's own
``Func.__call__`` converts through Python floats and has no v128.
"""

from __future__ import annotations

import ctypes

import wasmtime
from wasmtime import _ffi as ffi

from pywinch.errors import MalformedError
from pywinch.wast.backend import ApiSession, Backend, Outcome, crash
from pywinch.wast.values import HostRef

_KIND = {"i32": ffi.WASMTIME_I32.value, "i64": ffi.WASMTIME_I64.value, "f32": ffi.WASMTIME_F32.value,
         "f64": ffi.WASMTIME_F64.value, "v128": ffi.WASMTIME_V128.value,
         "funcref": ffi.WASMTIME_FUNCREF.value, "externref": ffi.WASMTIME_EXTERNREF.value}
_NAME = {v: k for k, v in _KIND.items()}
_V128 = ctypes.c_uint8 * 16

_TC = wasmtime.TrapCode
# wasmtime's trap codes in the specification's words; where wasmtime folds two
# spec traps into one code, both wordings are accepted.
_TRAP_MESSAGES = {
    _TC.STACK_OVERFLOW: ("call stack exhausted",),
    _TC.MEMORY_OUT_OF_BOUNDS: ("out of bounds memory access",),
    _TC.HEAP_MISALIGNED: ("misaligned memory access",),
    _TC.TABLE_OUT_OF_BOUNDS: ("out of bounds table access", "undefined element"),
    _TC.INDIRECT_CALL_TO_NULL: ("uninitialized element",),
    _TC.BAD_SIGNATURE: ("indirect call type mismatch",),
    _TC.INTEGER_OVERFLOW: ("integer overflow",),
    _TC.INTEGER_DIVISION_BY_ZERO: ("integer divide by zero",),
    _TC.BAD_CONVERSION_TO_INTEGER: ("invalid conversion to integer",),
    _TC.UNREACHABLE: ("unreachable",),
    _TC.NULL_REFERENCE: ("null reference",),
}


def wat2wasm(text: str) -> bytes:
    """wasm-tools' text parser (inside wasmtime), with pywinch's error class for malformed text."""
    try:
        return wasmtime.wat2wasm(text)
    except wasmtime.WasmtimeError as exc:
        raise MalformedError(str(exc)) from None


class WasmtimeSession(ApiSession):
    def __init__(self, backend):
        super().__init__(backend)
        self._nresults = {}

    def _to_raw(self, slot, value):
        t, p = value
        slot.kind = _KIND[t]
        if t == "i32" or t == "f32":
            slot.of.i32 = p - (1 << 32) if p >> 31 else p
        elif t == "i64" or t == "f64":
            slot.of.i64 = p - (1 << 64) if p >> 63 else p
        elif t == "v128":
            slot.of.v128 = _V128(*p.to_bytes(16, "little"))
        else:
            ctypes.memmove(ctypes.byref(slot), ctypes.byref(wasmtime.Val(_KIND[t], p)._new_raw(self.store)),
                           ctypes.sizeof(slot))

    def _from_raw(self, slot) -> tuple:
        kind = slot.kind
        t = _NAME.get(kind)
        if t == "i32" or t == "f32":
            return (t, slot.of.i32 & 0xFFFFFFFF)
        if t == "i64" or t == "f64":
            return (t, slot.of.i64 & 0xFFFFFFFFFFFFFFFF)
        if t == "v128":
            return (t, int.from_bytes(bytes(slot.of.v128), "little"))
        if t in ("funcref", "externref"):
            return (t, wasmtime.Val._from_raw(self.store, slot).value)
        raise Outcome("crash", f"unknown wasmtime value kind {kind}")

    def call(self, func, args):
        n = self._nresults.get(id(func))
        if n is None:
            ty = func.type(self.store)
            n = ffi.wasm_functype_results(ty.ptr()).contents.size
            self._nresults[id(func)] = n
            self._exports[("keep", id(func))] = func
        params = (ffi.wasmtime_val_t * len(args))()
        for slot, value in zip(params, args):
            self._to_raw(slot, value)
        results = (ffi.wasmtime_val_t * n)()
        trap = ctypes.POINTER(ffi.wasm_trap_t)()
        err = ffi.wasmtime_func_call(self.store._context(), ctypes.byref(func._func), params, len(args),
                                     results, n, ctypes.byref(trap))
        if err:
            raise wasmtime.WasmtimeError._from_ptr(err)
        if trap:
            raise wasmtime.Trap._from_ptr(trap)
        return [self._from_raw(results[i]) for i in range(n)]

    def global_value(self, glob):
        raw = ffi.wasmtime_val_t()
        ffi.wasmtime_global_get(self.store._context(), ctypes.byref(glob._global), ctypes.byref(raw))
        return self._from_raw(raw)


class WasmtimeBackend(Backend):
    name = "wasmtime"
    api = wasmtime
    session_class = WasmtimeSession

    def classify(self, exc, phase):
        if isinstance(exc, wasmtime.Trap):
            code = exc.trap_code
            if code == _TC.INTERRUPT:
                return Outcome("timeout", exc.message, exc)
            return Outcome("trap", _TRAP_MESSAGES.get(code, (exc.message,)), exc)
        if isinstance(exc, wasmtime.WasmtimeError):
            text = str(exc)
            if phase == "compile":
                return Outcome("module", text, exc)
            if phase == "instantiate":
                if "unknown import" in text or "incompatible import type" in text or "types incompatible" in text:
                    return Outcome("unlinkable", text, exc)
                return Outcome("uninstantiable", text, exc)
            return Outcome("trap", text, exc)
        return crash(exc)


class CrashingWasmtimeBackend(WasmtimeBackend):
    """For the worker-pool tests: a script whose name contains ``segv`` kills the process, one
    with ``spin`` loops in native code that no epoch reaches (a blocking sleep, GIL released)."""

    def session(self):
        import inspect, time
        path = inspect.stack()[2].frame.f_locals.get("path", "")
        if "segv" in path:
            ctypes.string_at(0)
        if "spin" in path:
            ctypes.CDLL(None).sleep(3600)
        return super().session()
