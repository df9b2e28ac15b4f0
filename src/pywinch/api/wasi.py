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

__all__ = ["WasiConfig", "define_wasi", "run_command"]

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


def run_command(wasm, argv=None, env=None, *, engine=None, preopens=(), inherit_env=False,
                stdin=None, stdout=None, stderr=None) -> int:
    """Run a WASI command module (its ``_start``) with this process's stdio; the exit status.

    ``wasm``: a path, bytes, or a compiled ``Module``.  ``preopens``: pairs of
    (host directory, guest path).  ``stdin``/``stdout``/``stderr``: file paths,
    else inherited.  What ``pywinch run app.wasm -- args`` does.
    """
    from ..errors import ExitTrap
    from .engine import Engine
    from .linker import Linker
    from .module import Module
    from .store import Store
    if isinstance(wasm, Module):
        module = wasm
        engine = module.engine
    else:
        engine = engine or Engine()
        import os
        is_path = isinstance(wasm, (str, os.PathLike)) and not (isinstance(wasm, str) and wasm.lstrip().startswith("("))
        module = Module.from_file(engine, wasm) if is_path else Module(engine, wasm)
    cfg = WasiConfig()
    cfg.argv = list(argv) if argv is not None else ["main"]
    if inherit_env:
        cfg.inherit_env()
    if env:
        cfg.env = list(env.items()) if isinstance(env, dict) else list(env)
    for host, guest in preopens:
        cfg.preopen_dir(host, guest)
    if stdin:
        cfg.stdin_file = stdin
    else:
        cfg.inherit_stdin()
    if stdout:
        cfg.stdout_file = stdout
    else:
        cfg.inherit_stdout()
    if stderr:
        cfg.stderr_file = stderr
    else:
        cfg.inherit_stderr()
    store = Store(engine)
    store.set_wasi(cfg)
    linker = Linker(engine)
    linker.define_wasi()
    instance = linker.instantiate(store, module)
    start = instance.exports(store).get("_start")
    if start is None:
        from ..errors import LinkError
        raise LinkError("not a WASI command: the module exports no `_start` function")
    try:
        start(store)
    except ExitTrap as e:
        return e.code
    return 0
