"""Calls: direct (rel32 within the module), imported (through the vmctx import
entry), call_indirect (table bounds, null and signature checks) and builtins
(System V through the vmctx builtins table).

Every call spills the register-held values first: in the internal Wasm
convention the callee may clobber every allocatable register.
"""

from __future__ import annotations

from .. import vmoffsets as vo
from ..errors import TrapCode
from ..isa.x64 import abi
from ..isa.x64.asm import Assembler
from ..wasm import opcodes as op
from ..wasm.types import V128
from .context import IS_FLOAT, K_MEM, K_REG, TSIZE


def _encoded(emit):
    a = Assembler()
    emit(a)
    return bytes(a.buf)


# mov rdi, r14: the callee's vmctx for a call within the module (every call site).
_SET_CALLEE_VMCTX = _encoded(lambda a: a.mov_rr(8, abi.WASM_CALLEE_VMCTX, abi.VMCTX))


def _store_args(c, sig):
    """Pop the arguments into the outgoing area ``[rsp + offset]``, then spill
    the register values left on the stack (the callee clobbers them all)."""
    stack = c.stack
    n = len(sig.params)
    if n:
        first = len(stack) - n
        sp = c.abi.SP
        offs = sig.param_offsets
        store_value = c.store_value
        for i in range(n):
            store_value(stack[first + i], first + i, sp, offs[i])
        del stack[first:]
    # The area holds the results beyond the first too (even with no parameters).
    if sig.area_size > c.max_out:
        c.max_out = sig.area_size
    if c.free != c.all_free or c.flags_live:
        c.spill_regs()


def _push_results(c, sig):
    """Push the callee's results: result 0 from its register, the others copied
    from the outgoing area into their own frame slots."""
    results = sig.results
    if not results:
        return
    t0 = results[0]
    r0 = c.abi.RET_XMM if IS_FLOAT[t0] else c.abi.RET_GPR
    c.free &= ~(1 << r0)
    stack = c.stack
    stack.append((K_REG, t0, r0))
    a = c.a
    for k in range(1, len(results)):
        idx = len(stack)
        sd = c.slot_disp(idx)
        t = results[k]
        size = 8 if t == V128 else TSIZE[t]     # as the callee stored it (see store_value)
        for h in ((0, 8) if t == V128 else (0,)):
            a.load(size, c.scratch, c.abi.SP, sig.result_offsets[k] + h)
            a.store(size, c.scratch, c.fp, sd + h)
        stack.append((K_MEM, results[k], 0))


def visit_call(c, func):
    mc = c.mc
    sig = mc.func_sigs[func]
    if sig is None:
        sig = mc.wasm_sig(mc.func_type(func))      # raises UnsupportedError (v128)
    # Arguments go straight to the outgoing area; then the other live values spill.
    _store_args(c, sig)
    a = c.a
    abi = c.abi
    if c.fuel_on:
        c.fuel_flush()
    if func < mc.num_imported_funcs:
        entry = mc.vmoffsets.imported_func(func)
        a.load(8, abi.WASM_CALLEE_VMCTX, c.vmctx, entry + vo.IMPORT_FUNC_VMCTX)
        a.mov_rr(8, abi.WASM_CALLER_VMCTX, c.vmctx)
        a.call_m(c.vmctx, entry + vo.IMPORT_FUNC_WASM_CALL)
        c.record_call()
        a.load(8, c.vmctx, c.fp, abi.FRAME_VMCTX_OFFSET)
        mc.load_heap_base(c)
    else:
        # A function of this module: same instance.  Its prologue reads only the
        # callee vmctx, so the caller-vmctx register is not set (it matters only
        # to trampolines, which are reached through imports and tables).
        a.buf += _SET_CALLEE_VMCTX
        # mc.placed_func and c.record_call inlined (a call per call site saved)
        j = func - mc.num_imported_funcs
        offs = mc.func_offsets
        if j < len(offs):
            a.call_abs(offs[j], c.origin)
        else:
            a.call_extern(("func", func))
        c.pcmap.append((len(a.buf), c.offset))
    _push_results(c, sig)


def table_def(c, table):
    """``(base_reg, disp)`` of table ``table``'s VMTableDefinition; an imported
    table's pointer goes to the scratch register."""
    vmo = c.mc.vmoffsets
    if table < vmo.num_imported_tables:
        c.a.load(8, c.scratch, c.vmctx, vmo.table_import(table))
        return c.scratch, 0
    return c.vmctx, vmo.table_definition(table)


def visit_call_indirect(c, imm):
    typeidx, table = imm
    mc = c.mc
    ft = mc.types[typeidx]
    sig = mc.wasm_sig(ft)
    a = c.a
    abi = c.abi
    cc = c.cc
    idx = c.pop_reg()
    # The index register stays out of the spill (it is not on the stack).
    _store_args(c, sig)
    # idx may be any allocatable register; the callee-vmctx register is free now.
    fr = abi.WASM_CALLER_VMCTX if idx != abi.WASM_CALLER_VMCTX else abi.WASM_CALLEE_VMCTX
    base, disp = table_def(c, table)
    a.alu_rm(7, 8, idx, base, disp + vo.TABLE_LENGTH)          # cmp idx, [len]
    c.trap_if(cc.CC_AE, TrapCode.UNDEFINED_ELEMENT)
    a.load(8, fr, base, disp + vo.TABLE_BASE)
    a.load(8, fr, fr, 0, idx, 8)                                # funcref*
    a.test_rr(8, fr, fr)
    c.trap_if(cc.CC_E, TrapCode.INDIRECT_CALL_TO_NULL)
    a.load(4, idx, c.vmctx, mc.vmoffsets.type_id(typeidx))     # zero-extends
    a.alu_rm(7, 8, idx, fr, vo.FUNCREF_TYPE_ID)
    c.trap_if(cc.CC_NE, TrapCode.BAD_SIGNATURE)
    c.free |= 1 << idx
    if c.fuel_on:
        c.fuel_flush()
    a.mov_rr(8, c.scratch, fr)
    a.mov_rr(8, abi.WASM_CALLER_VMCTX, c.vmctx)
    a.load(8, abi.WASM_CALLEE_VMCTX, c.scratch, vo.FUNCREF_VMCTX)
    a.call_m(c.scratch, vo.FUNCREF_WASM_CALL)
    c.record_call()
    a.load(8, c.vmctx, c.fp, abi.FRAME_VMCTX_OFFSET)
    mc.load_heap_base(c)
    _push_results(c, sig)


def call_builtin(c, index, args, result=False, status=False):
    """Call builtin ``index`` (System V, vmctx first).

    ``args``: list of ``("imm", value)`` or ``("pop", n)`` (the top n stack
    values, bottom first; ``n`` None means 1) in argument order after vmctx.
    ``status``: the builtin returns 0 or a TrapCode; trap on non-zero.
    ``result``: return the register holding the i64 result (owned by the caller).
    """
    abi = c.abi
    a = c.a
    stack = c.stack
    npop = sum((1 if n is None else n) for kind, n in args if kind == "pop")
    c.spill_regs()
    first = len(stack) - npop
    regs = abi.SYSV_ARGS
    a.mov_rr(8, regs[0], c.vmctx)
    ri = 1
    si = first
    for kind, v in args:
        if kind == "imm":
            a.mov_ri(8, regs[ri], v)
            ri += 1
        else:
            for _ in range(1 if v is None else v):
                e = stack[si]
                c.load_value(e, si, regs[ri])
                si += 1
                ri += 1
    del stack[first:]
    # Every allocatable register is free here (spilled above), so the
    # argument registers can be used without claiming them.
    a.load(8, abi.SYSV_RET_GPR, c.vmctx, vo.VMCTX_BUILTINS)
    a.call_m(abi.SYSV_RET_GPR, 8 * index)
    c.record_call()
    if status:
        a.test_rr(4, abi.SYSV_RET_GPR, abi.SYSV_RET_GPR)
        c.trap_if(c.cc.CC_NE, 0)
    if result:
        r = abi.SYSV_RET_GPR
        c.free &= ~(1 << r)
        return r
    return None


def register(table):
    table[op.CALL] = visit_call
    table[op.CALL_INDIRECT_OP] = visit_call_indirect
