"""WASI glue: ``Linker.define_wasi()`` and ``Store.set_wasi(WasiConfig)``.

The linker's definitions are store-independent; each store gets its own
``WasiCtx`` (open files, preopens) built from the WasiConfig it was given,
created on first use and closed with the store.
"""

from __future__ import annotations

import weakref

from ..runtime.instance_registry import find as find_instance
from ..runtime.wasi import MODULE, SIGNATURES, WasiConfig, WasiCtx
from .types import FuncType, ValType

__all__ = ["WasiConfig", "define_wasi"]

_contexts: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def wasi_ctx(store) -> WasiCtx:
    ctx = _contexts.get(store)
    if ctx is None:
        ctx = WasiCtx(store._wasi)
        _contexts[store] = ctx
        weakref.finalize(store, ctx.close)
    return ctx


def _memory_view(vmctx: int):
    inst = find_instance(vmctx) if vmctx else None
    if inst is None:
        return None
    ext = inst.exports.get("memory")
    if ext is None or ext[0] != "memory":
        return None
    return ext[1].view()


class _WasiDef:
    __slots__ = ("name", "ty")

    def __init__(self, name, params, results):
        self.name = name
        self.ty = FuncType([ValType(p) for p in params], [ValType(r) for r in results])

    def materialize(self, store):
        from .func import Func
        key = ("wasi", self.name)
        f = store._linker_cache.get(key)
        if f is None:
            fn = wasi_ctx(store).functions()[self.name][2]

            def call(caller, *args, fn=fn):
                return fn(_memory_view(caller._vmctx), *args)

            f = Func(store, self.ty, call, access_caller=True)
            store._linker_cache[key] = f
        return f


def define_wasi(linker) -> None:
    for name, (params, results) in SIGNATURES.items():
        linker._insert(MODULE, name, _WasiDef(name, params, results))
