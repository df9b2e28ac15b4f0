"""Host functions: Python callables that Wasm calls through a ctypes callback.

A host function has a *host function context*: a VMContext-like header (magic
``host``) followed by its VMFuncRef.  The funcref's ``wasm_call`` is the
engine's wasm-to-native trampoline for the signature, its ``vmctx`` the
context, and its ``native_call`` the ctypes callback the trampoline calls with
the system convention ``R (caller_vmctx, a0, a1, ...)`` (at most one result,
no v128) or ``void (caller_vmctx, u8* values)`` with 16-byte slots otherwise.

The callback never lets an exception escape into native code: it stores it in
the store and raises ``pending_exception``; the trampoline then traps with
HOST_EXCEPTION and the caller of the outermost Wasm call re-raises it.
"""

from __future__ import annotations

import ctypes
import weakref
from ctypes import c_double, c_float, c_int32, c_int64, c_uint64, c_void_p

from .. import vmoffsets as vo
from ..errors import TypeCheckError, WasmError
from . import sysmem
from .values import (EXTERNREF, F32, F64, FUNCREF, I32, I64, V128, bits_f32, bits_f64, check_int,
                     f32_bits, f64_bits, signed32, signed64, type_name)

# Layout of a host function context (after the common VMContext header).
HOSTCTX_FUNCREF = vo.HOSTCTX_FUNCREF
HOSTCTX_SIZE = vo.HOSTCTX_SIZE

CTYPE = {I32: c_int32, I64: c_int64, F32: c_float, F64: c_double, FUNCREF: c_uint64, EXTERNREF: c_uint64}

_protos: dict[tuple, object] = {}


def uses_native_form(params, results) -> bool:
    """Whether a signature travels in registers (else through 16-byte value slots)."""
    return len(results) <= 1 and V128 not in params and V128 not in results


def native_prototype(params, results):
    key = ("n", tuple(params), tuple(results))
    proto = _protos.get(key)
    if proto is None:
        restype = CTYPE[results[0]] if results else None
        proto = ctypes.CFUNCTYPE(restype, c_uint64, *[CTYPE[p] for p in params])
        _protos[key] = proto
    return proto


ARRAY_PROTOTYPE = ctypes.CFUNCTYPE(None, c_uint64, c_void_p)


class FuncInfo:
    """What the runtime knows of one VMFuncRef: its signature and, for a host function, its callable."""

    __slots__ = ("addr", "params", "results", "sig", "host", "instance", "index")

    def __init__(self, addr, params, results, sig, host=None, instance=None, index=-1):
        self.addr = addr
        self.params = params
        self.results = results
        self.sig = sig
        self.host = host
        self.instance = instance
        self.index = index


def _param_converter(state, t):
    if t == FUNCREF:
        return lambda raw: state.wrap_func(raw)
    if t == EXTERNREF:
        return lambda raw: state.raw_to_extern(raw)
    return None


def _result_converter(state, t):
    """Python value -> what the ctypes restype (or a slot) takes; raises TypeCheckError."""
    if t == I32:
        return lambda v: signed32(check_int(I32, v))
    if t == I64:
        return lambda v: signed64(check_int(I64, v))
    if t == F32 or t == F64:
        def conv(v, t=t):
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise TypeCheckError(f"host function returned {type(v).__name__}, expected {type_name(t)}")
            return float(v)
        return conv
    if t == V128:
        return lambda v: check_int(V128, v)
    if t == FUNCREF:
        return lambda v: state.func_to_raw(v)
    if t == EXTERNREF:
        return lambda v: state.extern_to_raw(v)
    raise WasmError(f"unsupported value type {t}")


class HostFunc:
    """A host function context plus its callback; ``funcref`` is the VMFuncRef* address."""

    __slots__ = ("ctx", "funcref", "callback", "func", "params", "results", "access_caller",
                 "info", "wasm_call_factory", "__weakref__")

    def __init__(self, state, params, results, func, sig_id: int, wasm_call,
                 access_caller: bool = False, make_caller=None):
        """``wasm_call``: the wasm-to-native trampoline address, or a callable
        producing it on first need (a host function only Python calls never needs one)."""
        self.func = func
        self.params = tuple(params)
        self.results = tuple(results)
        self.access_caller = access_caller
        self.ctx = ctx = sysmem.Buffer(HOSTCTX_SIZE)
        ctx.set_u64(vo.VMCTX_LIMITS, state.limits.addr)
        ctx.set_u64(vo.VMCTX_BUILTINS, 0)
        ctx.set_u32(vo.VMCTX_MAGIC, vo.VMCTX_MAGIC_HOST)
        # The callback reaches the store weakly: the store keeps its host functions alive.
        self.callback = self._make_callback(weakref.proxy(state), make_caller)
        cb_addr = ctypes.cast(self.callback, c_void_p).value
        fr = HOSTCTX_FUNCREF
        ctx.set_u64(fr + vo.FUNCREF_ARRAY_CALL, 0)
        if callable(wasm_call):
            self.wasm_call_factory = wasm_call
            wasm_call = 0
        else:
            self.wasm_call_factory = None
        ctx.set_u64(fr + vo.FUNCREF_WASM_CALL, wasm_call)
        ctx.set_u64(fr + vo.FUNCREF_TYPE_ID, sig_id)
        ctx.set_u64(fr + vo.FUNCREF_VMCTX, ctx.addr)
        ctx.set_u64(fr + vo.FUNCREF_NATIVE_CALL, cb_addr)
        self.funcref = ctx.addr + fr
        self.info = FuncInfo(self.funcref, self.params, self.results, sig_id, host=self)

    def ensure_wasm_call(self) -> None:
        """Make the function callable from Wasm (before its funcref reaches Wasm)."""
        if self.wasm_call_factory is not None:
            addr = self.wasm_call_factory()
            self.ctx.set_u64(HOSTCTX_FUNCREF + vo.FUNCREF_WASM_CALL, addr)
            self.wasm_call_factory = None

    def call_python(self, caller, args):
        """Call the Python callable with converted Python args (the host→host path)."""
        if self.access_caller:
            return self.func(caller, *args)
        return self.func(*args)

    def _make_callback(self, state, make_caller):
        params, results = self.params, self.results
        func = self.func
        access_caller = self.access_caller
        pconv = [_param_converter(state, t) for t in params]
        rconv = [_result_converter(state, t) for t in results]
        nres = len(results)

        if uses_native_form(params, results):
            any_pconv = any(c is not None for c in pconv)
            rc = rconv[0] if nres else None

            def callback(vmctx, *args):
                try:
                    if any_pconv:
                        args = [a if c is None else c(a) for c, a in zip(pconv, args)]
                    if access_caller:
                        caller = make_caller(vmctx)
                        try:
                            r = func(caller, *args)
                        finally:
                            caller._invalidate()
                    else:
                        r = func(*args)
                    if rc is None:
                        if r is not None:
                            raise WasmError("host function returned a value but its type has no results")
                        return None
                    return rc(r)
                except BaseException as e:  # noqa: BLE001 - everything must cross back as a trap
                    state.set_pending(e)
                    return 0 if (rc is None or results[0] not in (F32, F64)) else 0.0

            return native_prototype(params, results)(callback)

        rd = [_slot_reader(state, t) for t in params]
        wr = [_slot_writer(t) for t in results]

        def array_callback(vmctx, values):
            try:
                args = [r(values + 16 * i) for i, r in enumerate(rd)]
                if access_caller:
                    caller = make_caller(vmctx)
                    try:
                        r = func(caller, *args)
                    finally:
                        caller._invalidate()
                else:
                    r = func(*args)
                if nres == 1:
                    r = (r,)
                elif nres == 0:
                    if r is not None:
                        raise WasmError("host function returned a value but its type has no results")
                    r = ()
                else:
                    if not isinstance(r, (list, tuple)) or len(r) != nres:
                        raise WasmError(f"host function must return a list of {nres} values")
                raws = [c(v) for c, v in zip(rconv, r)]
                for i, (w, v) in enumerate(zip(wr, raws)):
                    w(values + 16 * i, v)
            except BaseException as e:  # noqa: BLE001
                state.set_pending(e)

        return ARRAY_PROTOTYPE(array_callback)


def _slot_reader(state, t):
    u64 = ctypes.c_uint64
    if t == I32:
        return lambda a: signed32(u64.from_address(a).value)
    if t == I64:
        return lambda a: signed64(u64.from_address(a).value)
    if t == F32:
        return lambda a: bits_f32(u64.from_address(a).value)
    if t == F64:
        return lambda a: bits_f64(u64.from_address(a).value)
    if t == V128:
        return lambda a: u64.from_address(a).value | (u64.from_address(a + 8).value << 64)
    if t == FUNCREF:
        return lambda a: state.wrap_func(u64.from_address(a).value)
    if t == EXTERNREF:
        return lambda a: state.raw_to_extern(u64.from_address(a).value)
    raise WasmError(f"unsupported value type {t}")


def _slot_writer(t):
    """Writes a converted result (as the native form would return it) into a slot."""
    u64 = ctypes.c_uint64
    M = 0xFFFFFFFFFFFFFFFF
    if t == F32:
        def w(a, v):
            u64.from_address(a).value = f32_bits(v)
        return w
    if t == F64:
        def w(a, v):
            u64.from_address(a).value = f64_bits(v)
        return w
    if t == V128:
        def w(a, v):
            u64.from_address(a).value = v & M
            u64.from_address(a + 8).value = (v >> 64) & M
        return w

    def w(a, v):
        u64.from_address(a).value = v & M
    return w


