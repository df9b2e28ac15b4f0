"""The join between the API, the compiler and the runtime.

The runtime never imports the compiler; this module does: it compiles a
decoded module, loads a CompiledModule into executable memory, describes it
to the runtime as a ModulePlan, and builds the engine's wasm-to-native
trampolines.
"""

from __future__ import annotations

from ..compiled import EPOCH_DEADLINE, EPOCH_INTERRUPT, EPOCH_OFF, CompiledModule
from ..errors import UnsupportedError
from ..runtime.code import CodeMemory
from ..runtime.instance import ACTIVE, DECLARATIVE, FUNC, GLOBAL, MEMORY, PASSIVE, TABLE, ModulePlan
from ..runtime.traps import Frame, register_code, unregister_code
from ..wasm.module import MODE_ACTIVE, MODE_DECLARATIVE, MODE_PASSIVE
from ..wasm.types import EXTERN_FUNC, EXTERN_GLOBAL, EXTERN_MEMORY, EXTERN_TABLE

KIND = {EXTERN_FUNC: FUNC, EXTERN_TABLE: TABLE, EXTERN_MEMORY: MEMORY, EXTERN_GLOBAL: GLOBAL}
MODE = {MODE_ACTIVE: ACTIVE, MODE_PASSIVE: PASSIVE, MODE_DECLARATIVE: DECLARATIVE}


def epoch_mode(config) -> int:
    """Which interruption checks compiled code needs under ``config``.

    EPOCH_DEADLINE (Config.epoch_interruption) compares the engine's epoch with
    the store's deadline.  Without epoch_interruption the deadline is "never"
    and only Ctrl-C interrupts (runtime/interrupt.py), so Config.interruptible
    (pywinch's own, on by default) needs only the cheaper EPOCH_INTERRUPT check
    of the instance's Ctrl-C flag; with both off, no check at all."""
    if config.epoch_interruption:
        return EPOCH_DEADLINE
    return EPOCH_INTERRUPT if config.interruptible else EPOCH_OFF


def compile_module(module, config, progress=None, opmap=False) -> CompiledModule:
    """Validate and compile (one pass per function) with the engine's settings:
    fuel, the interruption checks (``epoch_mode``) and, with guarded memories,
    no bounds checks (``engine.heap_guard``; recorded in
    ``features["heap_guard"]``, so serialization refuses such code where
    memories are not guarded).  ``progress`` and ``opmap`` as for
    ``codegen.compile_module``."""
    try:
        from ..codegen import compile_module as _compile
    except ImportError:
        raise UnsupportedError("the compiler (pywinch.codegen.compile_module) is not available yet") from None
    from .engine import heap_guard
    return _compile(module, features=config.features(), fuel=bool(config.consume_fuel),
                    epoch=epoch_mode(config), heap_guard=heap_guard(config), progress=progress,
                    opmap=opmap)


def wasm_to_native(key: tuple):
    """(CodeMemory, address) of a wasm-to-native trampoline for signature ``key``."""
    try:
        from .. import trampoline
    except ImportError:
        raise UnsupportedError("wasm-to-native trampolines (pywinch.trampoline) are not available yet") from None
    from ..wasm.types import FuncType
    code = trampoline.wasm_to_native(FuncType(key[0], key[1]))
    mem = CodeMemory(code)
    return mem, mem.addr


def _limits(lim):
    return lim.min, lim.max


def describe_import(imp, module):
    kind = KIND[imp.kind]
    t = imp.type
    if kind == FUNC:
        desc = t
    elif kind == TABLE:
        desc = (t.elem, t.limits.min, t.limits.max)
    elif kind == MEMORY:
        desc = (t.limits.min, t.limits.max, bool(getattr(t, "is64", False)))
    else:
        desc = (t.valtype, t.mutable)
    return (imp.module, imp.name, kind, desc)


class LoadedCode:
    """A CompiledModule placed in executable memory and registered for backtraces."""

    __slots__ = ("mem", "compiled", "base", "__weakref__")

    def __init__(self, compiled: CompiledModule, module_name, names, body_starts):
        self.compiled = compiled
        self.mem = CodeMemory(compiled.code) if compiled.code else None
        self.base = self.mem.addr if self.mem else 0
        if self.mem is not None:
            register_code(self.base, self.base + len(compiled.code),
                          _resolver(compiled, module_name, names, body_starts))
            import weakref
            weakref.finalize(self, unregister_code, self.base)


def _body_starts(module) -> list[int]:
    """Module offset of each defined function's body (after its size field), the
    origin of wasmtime's ``Frame.func_offset``."""
    out = []
    data = module.data
    for body in module.codes:
        p = body.offset
        while p < len(data) and data[p] & 0x80:
            p += 1
        out.append(p + 1)
    return out


def _resolver(compiled: CompiledModule, module_name, names, body_starts):
    def resolve(off: int):
        fi = compiled.func_at(off - 1)
        if fi is None:
            return None
        woff = compiled.wasm_offset_at(off)
        j = fi - compiled.num_imported_funcs
        foff = woff - body_starts[j] if woff is not None and j < len(body_starts) else None
        return Frame(fi, names.get(fi), module_name, woff, foff)
    return resolve


def make_plan(module, compiled: CompiledModule) -> ModulePlan:
    names = dict(module.names.functions)
    names.update(compiled.names)
    loaded = LoadedCode(compiled, module.names.module, names, _body_starts(module))
    base = loaded.base
    tramps = compiled.trampolines
    ntypes = len(module.types)
    array_calls = [0] * ntypes
    native_calls = [0] * ntypes
    for ti, (a, n) in tramps.items():
        if 0 <= ti < ntypes:
            array_calls[ti] = base + a if a is not None and a >= 0 else 0
            native_calls[ti] = base + n if n is not None and n >= 0 else 0
    elems = []
    for e in module.elements:
        items = list(e.items)
        elems.append((MODE[e.mode], e.table, e.offset, e.type, items))
    return ModulePlan(
        types=[(t.params, t.results) for t in module.types],
        imports=[describe_import(i, module) for i in module.imports],
        funcs=list(module.funcs),
        tables=[(t.elem, t.limits.min, t.limits.max) for t in module.tables],
        memories=[(t.limits.min, t.limits.max, bool(getattr(t, "is64", False))) for t in module.memories],
        globals=[(g.type.valtype, g.type.mutable, g.init) for g in module.globals],
        exports=[(x.name, KIND[x.kind], x.index) for x in module.exports],
        start=module.start,
        elems=elems,
        datas=[(MODE[d.mode], d.memory, d.offset, bytes(d.data)) for d in module.datas],
        func_addrs=[base + off for off in compiled.func_offsets],
        array_calls=array_calls,
        native_calls=native_calls,
        name=module.names.module,
        names=names,
        keepalive=loaded,
    )
