"""Func and Caller.

``Func.__call__`` is generated once per signature: when a Wasm function is
wrapped, the Func gets a subclass whose ``__call__`` writes the arguments into
the Func's own value buffer through typed memoryviews (one store each, which
also checks the type and range) and calls the array-to-wasm trampoline
through the runtime's entry shim (``runtime.entry``) with five ready-made
pointer objects, so ctypes converts nothing; it then checks the trap slot of
the store's limits and reads the results from the same buffer.  Anything
unusual (wrong arity or type, out-of-range ints, ``Val`` arguments, another
store) drops to the generic path ``_call``, which converts every value and
raises precise errors; host functions always take it.
"""

from __future__ import annotations

import ctypes
import weakref
from _thread import get_ident
from ctypes import c_void_p
from typing import Any, Callable

from .. import vmoffsets as vo
from ..errors import TypeCheckError, WasmError
from ..runtime import sysmem, values as rv
from ..runtime.call import call_raw
from ..runtime.entry import ENTER
from ..runtime.host import HostFunc
from ..runtime.instance_registry import find as find_instance
from ..runtime.stack import retarget
from ..runtime.store import Q_TRAP_CODE
from ..runtime.traps import raise_trap
from .types import FuncType
from .values import from_raw, to_raw

_MISSING = object()
_array_classes: dict = {}


class Func:
    """A function: exported by an instance, or defined by the host from a Python callable."""

    __slots__ = ("_store", "_state", "_funcref", "_key", "_host", "_code", "_vmctx", "_target",
                 "_lq", "_buf", "_bufp", "_vQ", "_vq", "_vi", "_vf", "_vd", "__weakref__")

    def __init__(self, store, ty: FuncType, func: Callable, access_caller: bool = False):
        from .store import Store
        if not isinstance(store, Store):
            raise TypeCheckError("expected a Store")
        if not isinstance(ty, FuncType):
            raise TypeCheckError("expected a FuncType")
        if not callable(func):
            raise TypeCheckError("expected a callable")
        key = ty._key
        state = store._state
        engine = store.engine
        wstore = weakref.ref(store)
        host = HostFunc(state, key[0], key[1], func, _sig_id(key), lambda: engine._wasm_to_native(key),
                        access_caller, make_caller=lambda vmctx: Caller(wstore(), vmctx))
        state.funcs[host.funcref] = host.info
        state.keep.append(host)
        self._init(store, host.funcref, key, host)

    def _init(self, store, addr, key, host):
        self._store = store
        self._state = store._state
        self._funcref = addr
        self._key = key
        self._host = host
        self._lq = store._state.lq
        self._code = 0
        self._vmctx = 0
        store._state.api_funcs[addr] = self
        if host is None:
            # ctypes objects, not ints: passed as they are, with no conversion per call.
            self._code = c_void_p(sysmem.read_u64(addr + vo.FUNCREF_WASM_CALL))
            self._vmctx = c_void_p(sysmem.read_u64(addr + vo.FUNCREF_VMCTX))
            array = sysmem.read_u64(addr + vo.FUNCREF_ARRAY_CALL)
            if array:
                self._setup_array(key, array)

    def _setup_array(self, key, array_call: int) -> None:
        """The array path with a buffer of its own and typed views of it: writing an
        argument is one memoryview store, and ctypes converts nothing (the entry
        shim's five arguments are ready-made pointer objects).  Reusing one buffer is safe under
        re-entrancy: a call consumes its arguments on entry and writes its results
        on exit, strictly nested."""
        n = max(len(key[0]), len(key[1]), 1)
        buf = (ctypes.c_uint64 * (2 * n))()
        b = memoryview(buf).cast("B")
        self._buf = buf
        self._bufp = c_void_p(ctypes.addressof(buf))
        self._vQ, self._vq, self._vi, self._vf, self._vd = (b.cast(c) for c in "Qqifd")
        self._target = c_void_p(array_call)
        self.__class__ = _array_class(key)

    @classmethod
    def _from_funcref(cls, store, addr: int) -> "Func":
        info = store._state.funcs.get(addr)
        if info is None:
            raise WasmError(f"no function at {addr:#x} in this store")
        f = object.__new__(cls)
        f._init(store, addr, (info.params, info.results), info.host)
        return f

    def type(self, store=None) -> FuncType:
        return FuncType._from_key(self._key)

    def __call__(self, store, *params: Any) -> Any:
        return self._call(store, params)

    def _call(self, store, params) -> Any:
        """The generic path: every check, every signature."""
        state = self._state
        _check_store(self, store)
        ptypes, rtypes = self._key
        if len(params) != len(ptypes):
            raise TypeCheckError(f"too {'many' if len(params) > len(ptypes) else 'few'} parameters provided: "
                                 f"given {len(params)}, expected {len(ptypes)}")
        raw = [to_raw(state, t, v) for t, v in zip(ptypes, params)]
        if self._host is not None:
            args = [from_raw(state, t, r) for t, r in zip(ptypes, raw)]
            caller = Caller(self._store, 0) if self._host.access_caller else None
            try:
                out = self._host.call_python(caller, args)
            finally:
                if caller is not None:
                    caller._invalidate()
            if not rtypes:
                if out is not None:
                    raise WasmError("host function returned a value but its type has no results")
                return None
            if len(rtypes) == 1:
                out = (out,)
            elif not isinstance(out, (list, tuple)) or len(out) != len(rtypes):
                raise WasmError(f"host function must return a list of {len(rtypes)} values")
            res = [from_raw(state, t, to_raw(state, t, v)) for t, v in zip(rtypes, out)]
        else:
            res = [from_raw(state, t, r) for t, r in zip(rtypes, call_raw(state, self._funcref, ptypes, rtypes, raw))]
        if not rtypes:
            return None
        if len(rtypes) == 1:
            return res[0]
        return res

    def __repr__(self) -> str:
        return f"<Func {self.type()}>"


def _sig_id(key) -> int:
    from ..runtime.store import intern_sig
    return intern_sig(key)


def _check_store(func, store) -> None:
    s = store._store if isinstance(store, Caller) else store
    if s is not func._store:
        from .store import Store
        if not isinstance(s, Store):
            raise TypeCheckError("expected a Store or a Caller")
        raise WasmError("the Func belongs to another store")


# Where an argument or result of each type lives in the views of a value buffer:
# (view attribute, index multiplier per 16-byte slot).
_SLOT_VIEW = {rv.I32: ("_vi", 4), rv.I64: ("_vq", 2), rv.F32: ("_vf", 4), rv.F64: ("_vd", 2)}


def _array_class(key):
    """A Func subclass whose ``__call__`` goes through the array-to-wasm trampoline
    with the Func's own value buffer (any signature: multi-value, v128, refs)."""
    cls = _array_classes.get(key)
    if cls is not None:
        return cls
    params, results = key
    n = len(params)
    names = [f"a{i}" for i in range(n)]
    sig = "".join(f", {a}=_M" for a in names)
    lines = [f"def __call__(self, store{sig}, *extra):"]
    # Another store (or a Caller, or a wrong arity) takes the generic path, which checks.
    if n:
        lines.append(f"    if {names[-1]} is _M or extra or store is not self._store:")
        lines.append(f"        return self._call(store, tuple(a for a in ({', '.join(names)},) if a is not _M) + extra)")
    else:
        lines.append("    if extra or store is not self._store:")
        lines.append("        return self._call(store, extra)")
    used = set()
    body = []
    for i, (a, t) in enumerate(zip(names, params)):
        if t in _SLOT_VIEW:
            view, k = _SLOT_VIEW[t]
            used.add(view)
            body.append(f"        {view}[{k * i}] = {a}")
        elif t == rv.V128:
            used.add("_vQ")
            body.append(f"        if not -(1 << 127) <= {a} <= _M128: raise ValueError")
            body.append(f"        _vQ[{2 * i}] = {a} & _M64")
            body.append(f"        _vQ[{2 * i + 1}] = ({a} >> 64) & _M64")
        elif t == rv.FUNCREF:
            used.add("_vQ")
            body.append(f"        _vQ[{2 * i}] = self._state.func_to_raw({a})")
        else:
            used.add("_vQ")
            body.append(f"        if {a}.__class__ is _Val: raise TypeError")   # unwrapped by _call
            body.append(f"        _vQ[{2 * i}] = self._state.extern_to_raw({a})")
    outs = []
    for k, t in enumerate(results):
        if t in _SLOT_VIEW:
            view, m = _SLOT_VIEW[t]
            used.add(view)
            outs.append(f"{view}[{m * k}]")
        elif t == rv.V128:
            used.add("_vQ")
            outs.append(f"(_vQ[{2 * k}] | (_vQ[{2 * k + 1}] << 64))")
        elif t == rv.FUNCREF:
            used.add("_vQ")
            outs.append(f"self._state.wrap_func(_vQ[{2 * k}])")
        else:
            used.add("_vQ")
            outs.append(f"self._state.raw_to_extern(_vQ[{2 * k}])")
    for view in sorted(used):
        lines.append(f"    {view} = self.{view}")
    if body:
        lines.append("    try:")
        lines.extend(body)
        lines.append("    except (TypeError, ValueError, OverflowError):")
        lines.append(f"        return self._call(store, ({', '.join(names)}{',' if n else ''}))")
    lines.append("    if _tid() != self._state.tid:")
    lines.append("        _retarget(self._state)")
    lines.append("    _enter(self._code, self._vmctx, self._vmctx, self._bufp, self._target)")
    lines.append("    if self._lq[_TRAP]:")
    lines.append("        _raise(self._state)")
    if not outs:
        lines.append("    return None")
    elif len(outs) == 1:
        lines.append(f"    return {outs[0]}")
    else:
        lines.append(f"    return [{', '.join(outs)}]")
    from .values import Val
    ns = {"_M": _MISSING, "_TRAP": Q_TRAP_CODE, "_raise": raise_trap, "_Val": Val,
          "_tid": get_ident, "_retarget": retarget, "_enter": ENTER,
          "_M64": 0xFFFFFFFFFFFFFFFF, "_M128": (1 << 128) - 1}
    exec("\n".join(lines), ns)
    cls = type("Func", (Func,), {"__slots__": (), "__call__": ns["__call__"],
                                 "__module__": Func.__module__, "__qualname__": "Func"})
    _array_classes[key] = cls
    return cls


class Caller:
    """The calling instance, as a host function declared with ``access_caller=True`` sees it."""

    __slots__ = ("_store", "_vmctx", "_valid")

    def __init__(self, store, vmctx: int):
        self._store = store
        self._vmctx = vmctx
        self._valid = True

    def __getitem__(self, name: str):
        ret = self.get(name)
        if ret is None:
            raise KeyError(f"failed to find export {name}")
        return ret

    def get(self, name: str):
        if not self._valid or not self._vmctx:
            return None
        inst = find_instance(self._vmctx)
        if inst is None:
            return None
        ext = inst.exports.get(name)
        if ext is None:
            return None
        from .extern import wrap_extern
        return wrap_extern(self._store, ext)

    @property
    def data(self):
        return self._store.data

    @property
    def engine(self):
        return self._store.engine

    def set_fuel(self, fuel):
        self._store.set_fuel(fuel)

    def get_fuel(self):
        return self._store.get_fuel()

    def _invalidate(self) -> None:
        self._valid = False

    # A Caller stands in for its Store wherever the API takes one.
    @property
    def _state(self):
        return self._store._state
