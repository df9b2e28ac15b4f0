"""Module-level validation (everything but function bodies) and the
``ModuleContext`` that function validation and the compiler read.

``check_module(module) -> ModuleContext`` applies the specification's rules on
imports, functions, tables, memories, globals, exports, the start function,
element and data segments, and constant expressions; it raises
``InvalidError(message, offset)`` in the specification's words.
"""

from __future__ import annotations

from ..errors import InvalidError
from . import opcodes as op
from .module import MODE_ACTIVE, ConstExpr, Module
from .types import (EXTERN_FUNC, EXTERN_GLOBAL, EXTERN_MEMORY, EXTERN_TABLE, F32, F64, FUNCREF, I32,
                    I64, MAX_PAGES, V128, FuncType, Limits)

_GLOBAL_GET = 0x23
_REF_NULL = 0xD0
_REF_FUNC = 0xD2
# The bound on limits and the specification's words when it is exceeded.
_TABLE_BOUND = (0xFFFFFFFF, "table size must be at most 2^32-1")
_MEMORY_BOUND = (MAX_PAGES, "memory size must be at most 65536 pages (4GiB)")
_CONST_TYPES = {0x41: I32, 0x42: I64, 0x43: F32, 0x44: F64, op.FD_BASE + 0x0C: V128}


class ModuleContext:
    """What validating and compiling a function needs to know of its module.

    ``types``: FuncType per type index; ``funcs``: FuncType per function index
    (imports first); ``tables``: element type per table; ``num_memories``;
    ``globals``: GlobalType per global; ``elems``: reference type per element
    segment; ``data_count``: the data count section's value or None;
    ``refs``: the function indices that ``ref.func`` may name.
    """

    __slots__ = ("module", "types", "funcs", "tables", "num_memories", "globals", "elems",
                 "data_count", "refs", "num_imported_funcs")

    def __init__(self, module: Module):
        self.module = module
        self.types = module.types
        self.funcs: list[FuncType] = []
        self.tables = [t.elem for t in module.table_types]
        self.num_memories = len(module.memory_types)
        self.globals = module.global_types
        self.elems = [e.type for e in module.elements]
        self.data_count = module.data_count
        self.refs: set[int] = set()
        self.num_imported_funcs = module.num_imported_funcs


def check_module(module: Module) -> ModuleContext:
    ctx = ModuleContext(module)
    types = module.types
    ntypes = len(types)

    for imp in module.imports:
        if imp.kind == EXTERN_FUNC:
            if imp.type >= ntypes:
                raise InvalidError(f"unknown type {imp.type}", imp.offset)
        elif imp.kind == EXTERN_TABLE:
            _check_limits(imp.type.limits, *_TABLE_BOUND, imp.offset)
        elif imp.kind == EXTERN_MEMORY:
            _check_limits(imp.type.limits, *_MEMORY_BOUND, imp.offset)
    for t in module.funcs:
        if t >= ntypes:
            raise InvalidError(f"unknown type {t}", 0)
    ctx.funcs = [types[t] for t in module.func_types]
    for t in module.tables:
        _check_limits(t.limits, *_TABLE_BOUND, 0)
    for m in module.memories:
        _check_limits(m.limits, *_MEMORY_BOUND, 0)
    if len(module.memory_types) > 1:
        raise InvalidError("multiple memories", 0)

    # C.refs: every function index named outside function bodies.
    refs = ctx.refs
    for g in module.globals:
        _collect_refs(g.init, refs)
    for e in module.elements:
        if e.uses_exprs:
            for item in e.items:
                _collect_refs(item, refs)
        else:
            refs.update(e.items)
    for ex in module.exports:
        if ex.kind == EXTERN_FUNC:
            refs.add(ex.index)

    # Constant expressions see only the imported globals (2.0).
    visible = module.num_imported_globals
    for g in module.globals:
        check_const_expr(ctx, g.init, g.type.valtype, visible)

    nfuncs = len(ctx.funcs)
    for e in module.elements:
        if e.mode == MODE_ACTIVE:
            if e.table >= len(ctx.tables):
                raise InvalidError(f"unknown table {e.table}", e.pos)
            check_const_expr(ctx, e.offset, I32, visible)
            if ctx.tables[e.table] != e.type:
                raise InvalidError("type mismatch", e.pos)
        if e.uses_exprs:
            for item in e.items:
                check_const_expr(ctx, item, e.type, visible)
        else:
            for f in e.items:
                if f >= nfuncs:
                    raise InvalidError(f"unknown function {f}", e.pos)
    for d in module.datas:
        if d.mode == MODE_ACTIVE:
            if d.memory >= ctx.num_memories:
                raise InvalidError(f"unknown memory {d.memory}", d.pos)
            check_const_expr(ctx, d.offset, I32, visible)

    if module.start is not None:
        s = module.start
        if s >= nfuncs:
            raise InvalidError(f"unknown function {s}", module.start_offset)
        ft = ctx.funcs[s]
        if ft.params or ft.results:
            raise InvalidError("start function", module.start_offset)

    seen = set()
    limits = {EXTERN_FUNC: (nfuncs, "function"), EXTERN_TABLE: (len(ctx.tables), "table"),
              EXTERN_MEMORY: (ctx.num_memories, "memory"), EXTERN_GLOBAL: (len(ctx.globals), "global")}
    for ex in module.exports:
        count, what = limits[ex.kind]
        if ex.index >= count:
            raise InvalidError(f"unknown {what} {ex.index}", ex.offset)
        if ex.name in seen:
            raise InvalidError("duplicate export name", ex.offset)
        seen.add(ex.name)
    return ctx


def _check_limits(lim: Limits, bound: int, message: str, offset: int) -> None:
    if lim.min > bound:
        raise InvalidError(message, offset)
    if lim.max is not None:
        if lim.max > bound:
            raise InvalidError(message, offset)
        if lim.min > lim.max:
            raise InvalidError("size minimum must not be greater than maximum", offset)


def _collect_refs(expr: ConstExpr, refs: set) -> None:
    for code, imm, _ in expr.ops:
        if code == _REF_FUNC:
            refs.add(imm)


def check_const_expr(ctx: ModuleContext, expr: ConstExpr, expected: int, num_globals: int) -> None:
    """A constant expression of type ``expected``; ``global.get`` may name
    the first ``num_globals`` globals (the imported ones) if immutable."""
    stack = []
    for code, imm, off in expr.ops:
        t = _CONST_TYPES.get(code)
        if t is not None:
            stack.append(t)
        elif code == _GLOBAL_GET:
            if imm >= num_globals:
                raise InvalidError(f"unknown global {imm}", off)
            g = ctx.globals[imm]
            if g.mutable:
                raise InvalidError("constant expression required", off)
            stack.append(g.valtype)
        elif code == _REF_NULL:
            stack.append(imm)
        elif code == _REF_FUNC:
            if imm >= len(ctx.funcs):
                raise InvalidError(f"unknown function {imm}", off)
            stack.append(FUNCREF)
        else:
            raise InvalidError("constant expression required", off)
    if len(stack) != 1 or stack[0] != expected:
        raise InvalidError("type mismatch", expr.offset)
