"""Instantiation: a VMContext per instance, imports, definitions, segments, start.

The runtime never sees the decoder or the compiler.  The API describes a
module once as a :class:`ModulePlan` (types, imports, definitions, segments,
and the addresses of its loaded code and trampolines) and instantiates it as
many times as wanted; everything that does not depend on the instance's own
address is precomputed into a VMContext *template* that is copied in one go.
"""

from __future__ import annotations

import ctypes
import weakref

from .. import vmoffsets as vo
from ..errors import LinkError, Trap, TrapCode, WasmError
from ..wasm import opcodes
from . import builtins, faults, instance_registry, sysmem
from .globals import RuntimeGlobal
from .host import FuncInfo
from .memory import GUARDED, LinearMemory, WASM_PAGE
from .store import intern_sig
from .table import RuntimeTable
from .values import M32, M64

FUNC, TABLE, MEMORY, GLOBAL = "func", "table", "memory", "global"
ACTIVE, PASSIVE, DECLARATIVE = 0, 1, 2
_instance_ids = iter(range(1, 1 << 62))


class ConstExpr:
    """A constant expression: ``ops`` is a tuple of ``(code, imm, ...)`` with the
    dense opcode codes and immediates of ``wasm.operators`` (the decoder's own
    ``ConstExpr.ops`` fits as is)."""

    __slots__ = ("ops",)

    def __init__(self, ops):
        self.ops = tuple(ops)

    def __repr__(self):
        return f"ConstExpr({self.ops!r})"


class ModulePlan:
    """Everything instantiation needs from a compiled module (see module docstring).

    ``imports``: list of ``(module, name, kind, desc)`` where desc is a type index
    (func), ``(elem, min, max)`` (table), ``(min, max, is64)`` (memory) or
    ``(valtype, mutable)`` (global).  ``funcs``: type index per defined function.
    ``elems``: ``(mode, table, offset, elem_type, items)`` with items ConstExprs.
    ``datas``: ``(mode, memory, offset, bytes)``.  ``func_addrs``: code address of
    each defined function; ``array_calls`` / ``native_calls``: trampoline address
    per type index (0 if absent).  ``names``: function index -> name.
    """

    def __init__(self, *, types, imports, funcs, tables, memories, globals, exports, start,
                 elems, datas, func_addrs, array_calls, native_calls, name=None, names=None,
                 keepalive=None):
        self.types = [(tuple(p), tuple(r)) for p, r in types]
        self.imports = list(imports)
        self.funcs = list(funcs)
        self.tables = list(tables)
        self.memories = list(memories)
        self.globals = list(globals)
        self.exports = list(exports)
        self.start = start
        self.elems = list(elems)
        self.datas = list(datas)
        self.func_addrs = list(func_addrs)
        self.array_calls = list(array_calls)
        self.native_calls = list(native_calls)
        self.name = name
        self.names = names or {}
        self.keepalive = keepalive
        self.type_sigs = [intern_sig(t) for t in self.types]
        kinds = [i[2] for i in self.imports]
        self.import_func_types = [i[3] for i in self.imports if i[2] == FUNC]
        self.num_imported = {k: kinds.count(k) for k in (FUNC, TABLE, MEMORY, GLOBAL)}
        if len(self.func_addrs) != len(self.funcs):
            raise WasmError("module plan: one code address per defined function is required")
        self.offsets = vo.VMOffsets(
            num_types=len(self.types),
            num_imported_funcs=self.num_imported[FUNC],
            num_imported_tables=self.num_imported[TABLE],
            num_imported_memories=self.num_imported[MEMORY],
            num_imported_globals=self.num_imported[GLOBAL],
            num_defined_funcs=len(self.funcs),
            num_defined_tables=len(self.tables),
            num_defined_memories=len(self.memories),
            num_defined_globals=len(self.globals),
        )
        self.func_type_index = self.import_func_types + self.funcs
        self._template = self._make_template()

    def _make_template(self) -> bytes:
        o = self.offsets
        buf = sysmem.Buffer(o.size)
        buf.set_u64(vo.VMCTX_BUILTINS, builtins.ADDR)
        buf.set_u32(vo.VMCTX_MAGIC, vo.VMCTX_MAGIC_CORE)
        for i, sid in enumerate(self.type_sigs):
            buf.set_u32(o.type_id(i), sid)
        nimp = self.num_imported[FUNC]
        for j, ti in enumerate(self.funcs):
            fr = o.funcref(nimp + j)
            buf.set_u64(fr + vo.FUNCREF_ARRAY_CALL, self.array_calls[ti])
            buf.set_u64(fr + vo.FUNCREF_WASM_CALL, self.func_addrs[j])
            buf.set_u64(fr + vo.FUNCREF_TYPE_ID, self.type_sigs[ti])
            buf.set_u64(fr + vo.FUNCREF_NATIVE_CALL, self.native_calls[ti])
        return bytes(buf.b)


class RuntimeInstance:
    """One instance: its VMContext and the runtime objects of its index spaces."""

    __slots__ = ("plan", "state", "vmctx", "addr", "id", "funcs", "tables", "memories", "globals",
                 "elems", "datas", "exports", "export_list", "__weakref__")

    def func_info(self, index: int) -> FuncInfo:
        return self.state().funcs[self.funcs[index]]

    def export(self, name: str):
        return self.exports.get(name)


def _check_limits(actual_min, actual_max, want_min, want_max) -> bool:
    if actual_min < want_min:
        return False
    if want_max is not None:
        if actual_max is None or actual_max > want_max:
            return False
    return True


def match_import(state, imp, ext, plan: ModulePlan) -> None:
    """Raise LinkError unless runtime extern ``ext`` = (kind, obj) satisfies import ``imp``."""
    module, name, kind, desc = imp
    ekind, obj = ext
    where = f"`{module}::{name}`"
    if ekind != kind:
        raise LinkError(f"incompatible import type for {where}: expected {kind}, found {ekind}")
    if kind == FUNC:
        info = state.funcs.get(obj)
        if info is None:
            raise LinkError(f"incompatible import type for {where}: function of another store")
        if info.sig != plan.type_sigs[desc]:
            raise LinkError(f"incompatible import type for {where}: function types incompatible")
        if info.host is not None:
            info.host.ensure_wasm_call()
    elif kind == TABLE:
        elem, mn, mx = desc
        if obj.elem_type != elem or not _check_limits(obj.size, obj.max, mn, mx):
            raise LinkError(f"incompatible import type for {where}: table types incompatible")
    elif kind == MEMORY:
        mn, mx, is64 = desc
        if obj.is64 != is64 or not _check_limits(obj.pages, obj.max, mn, mx):
            raise LinkError(f"incompatible import type for {where}: memory types incompatible")
    elif kind == GLOBAL:
        vt, mut = desc
        if obj.valtype != vt or obj.mutable != mut:
            raise LinkError(f"incompatible import type for {where}: global types incompatible")


_CONST_PUSH = (0x41, 0x42, 0x43, 0x44, opcodes.FD_BASE + 0x0C)
_BINOPS = {0x6A: (M32, int.__add__), 0x6B: (M32, int.__sub__), 0x6C: (M32, int.__mul__),
           0x7C: (M64, int.__add__), 0x7D: (M64, int.__sub__), 0x7E: (M64, int.__mul__)}


def eval_const(expr, inst: RuntimeInstance) -> int:
    """Evaluate a constant expression to raw bits (references: VMFuncRef* / 0)."""
    stack: list[int] = []
    for o in expr.ops:
        code, imm = o[0], o[1]
        if code in _CONST_PUSH:
            stack.append(imm & (M32 if code == 0x41 else M64 if code == 0x42 else (1 << 128) - 1))
        elif code == 0xD0:
            stack.append(0)
        elif code == 0xD2:
            stack.append(inst.funcs[imm])
        elif code == 0x23:
            stack.append(inst.globals[imm].get_raw())
        elif code in _BINOPS:
            mask, fn = _BINOPS[code]
            b = stack.pop()
            a = stack.pop()
            stack.append(fn(a, b) & mask)
        else:
            raise WasmError(f"unsupported constant expression operator {opcodes.NAMES[code]}")
    if len(stack) != 1:
        raise WasmError("constant expression must leave exactly one value")
    return stack[0]


def instantiate(state, plan: ModulePlan, externs: list, call_start) -> RuntimeInstance:
    """Create an instance of ``plan`` in store ``state`` with ``externs`` (one
    ``(kind, obj)`` per import, in order).  ``call_start(inst, funcref)`` runs the
    start function (the API owns calling).  Raises LinkError or Trap."""
    lim = state.limiter
    if lim.instances >= 0 and lim.num_instances >= lim.instances:
        raise WasmError("resource limit exceeded: instance count too high")
    if len(externs) != len(plan.imports):
        raise LinkError(f"expected {len(plan.imports)} imports, found {len(externs)}")
    for imp, ext in zip(plan.imports, externs):
        match_import(state, imp, ext, plan)
    if lim.tables >= 0 and lim.num_tables + len(plan.tables) > lim.tables:
        raise WasmError("resource limit exceeded: table count too high")
    if lim.memories >= 0 and lim.num_memories + len(plan.memories) > lim.memories:
        raise WasmError("resource limit exceeded: memory count too high")
    if GUARDED and (plan.imports or plan.memories):
        # Guarded memories rely on the fault handler: reinstall it if something
        # (faulthandler.enable(), another runtime) replaced it since the memory
        # or the code was made.  One sigaction query per signal when in place.
        faults.ensure_installed()

    o = plan.offsets
    vm = sysmem.Buffer(o.size)
    vm.b[:] = plan._template
    addr = vm.addr
    inst = RuntimeInstance()
    inst.plan = plan
    inst.state = weakref.ref(state)   # the store owns its instances, not the reverse
    inst.vmctx = vm
    inst.addr = addr
    inst.id = next(_instance_ids)
    vm.set_u64(vo.VMCTX_LIMITS, state.limits.addr)
    vm.set_u64(vo.VMCTX_INSTANCE_ID, inst.id)

    funcs, tables, memories, globals_ = [], [], [], []
    for imp, (kind, obj) in zip(plan.imports, externs):
        if kind == FUNC:
            i = len(funcs)
            src = obj
            e = o.imported_func(i)
            vm.set_u64(e + vo.IMPORT_FUNC_WASM_CALL, sysmem.read_u64(src + vo.FUNCREF_WASM_CALL))
            vm.set_u64(e + vo.IMPORT_FUNC_VMCTX, sysmem.read_u64(src + vo.FUNCREF_VMCTX))
            vm.set_u64(e + vo.IMPORT_FUNC_FUNCREF, src)
            # The importer's own funcref slot mirrors the exporter's, so ref.func
            # of an imported index is one lea; both addresses name the same function.
            fr = o.funcref(i)
            ctypes.memmove(addr + fr, src, vo.FUNCREF_SIZE)
            state.funcs[addr + fr] = state.funcs[src]
            funcs.append(addr + fr)
        elif kind == TABLE:
            vm.set_u64(o.table_import(len(tables)), obj.def_addr)
            tables.append(obj)
        elif kind == MEMORY:
            vm.set_u64(o.memory_import(len(memories)), obj.def_addr)
            memories.append(obj)
        else:
            vm.set_u64(o.global_import(len(globals_)), obj.addr)
            globals_.append(obj)

    nimp = plan.num_imported[FUNC]
    for j, ti in enumerate(plan.funcs):
        fr = addr + o.funcref(nimp + j)
        vm.set_u64(o.funcref(nimp + j) + vo.FUNCREF_VMCTX, addr)
        p, r = plan.types[ti]
        state.funcs[fr] = FuncInfo(fr, p, r, plan.type_sigs[ti], instance=inst, index=nimp + j)
        funcs.append(fr)
    inst.funcs = funcs
    inst.globals = globals_
    inst.tables = tables
    inst.memories = memories

    ntab = plan.num_imported[TABLE]
    for k, (elem, mn, mx) in enumerate(plan.tables):
        tables.append(RuntimeTable(elem, mn, mx, 0, def_addr=addr + o.table_definition(ntab + k),
                                   limiter=lim))
    nmem = plan.num_imported[MEMORY]
    for k, (mn, mx, is64) in enumerate(plan.memories):
        memories.append(LinearMemory(mn, mx, is64, def_addr=addr + o.memory_definition(nmem + k),
                                     limiter=lim))
    lim.num_tables += len(plan.tables)
    lim.num_memories += len(plan.memories)
    nglob = plan.num_imported[GLOBAL]
    for k, (vt, mut, init) in enumerate(plan.globals):
        g = RuntimeGlobal(vt, mut, addr=addr + o.global_definition(nglob + k), owner=vm)
        g.set_raw(eval_const(init, inst))
        globals_.append(g)

    inst.datas = [seg[3] for seg in plan.datas]
    inst.elems = [[funcs[e] if type(e) is int else eval_const(e, inst) for e in seg[4]]
                  for seg in plan.elems]
    exports = {}
    export_list = []
    space = {FUNC: funcs, TABLE: tables, MEMORY: memories, GLOBAL: globals_}
    for name, kind, index in plan.exports:
        ext = (kind, space[kind][index])
        exports[name] = ext
        export_list.append((name, ext))
    inst.exports = exports
    inst.export_list = export_list

    instance_registry.register(addr, inst)
    state.instances.append(inst)
    lim.num_instances += 1

    # 2.0 semantics: active segments apply in order; the first out of bounds
    # traps, leaving earlier writes (to imported tables/memories) visible.
    for k, (mode, ti, offset, _et, _items) in enumerate(plan.elems):
        if mode == ACTIVE:
            items = inst.elems[k]
            start = eval_const(offset, inst) & M32
            if not tables[ti].init_from(items, start, 0, len(items)):
                raise Trap(TrapCode.TABLE_OUT_OF_BOUNDS)
            inst.elems[k] = []
        elif mode == DECLARATIVE:
            inst.elems[k] = []
    for k, (mode, mi, offset, data) in enumerate(plan.datas):
        if mode == ACTIVE:
            m = memories[mi]
            start = eval_const(offset, inst)
            if not m.is64:
                start &= M32
            if start + len(data) > m.pages * WASM_PAGE:
                raise Trap(TrapCode.HEAP_OUT_OF_BOUNDS)
            if data:
                ctypes.memmove(m.base + start, data, len(data))
            inst.datas[k] = b""
    if plan.start is not None:
        call_start(inst, funcs[plan.start])
    return inst


def host_global(valtype: int, mutable: bool, raw: int) -> RuntimeGlobal:
    g = RuntimeGlobal(valtype, mutable)
    g.set_raw(raw)
    return g
