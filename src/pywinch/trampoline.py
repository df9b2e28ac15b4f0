"""The bridges between the host and Wasm code (after Winch's trampolines).

Each function returns position-independent machine code (``bytes``, to be
placed at a 16-byte aligned address) for one signature (a ``FuncType``);
one trampoline serves every function of that signature because the entry
trampolines take the callee's code address as their first argument.

* :func:`array_to_wasm` ``void (code*, callee_vmctx*, caller_vmctx*, u8* values)``:
  arguments read from, results written to, 16-byte slots of ``values``.
* :func:`native_to_wasm` ``R (code*, callee_vmctx*, caller_vmctx*, a0, a1, ...)``
  with System V typed arguments; only for signatures with at most one result
  and no v128 (:func:`has_native_form`); returns None otherwise.
* :func:`wasm_to_native`: entered with the Wasm convention (rdi = host
  function context, rsi = caller vmctx, parameters on the stack); calls the
  callback at ``[ctx + HOSTCTX_FUNCREF + FUNCREF_NATIVE_CALL]`` with
  ``R (caller_vmctx*, a0, ...)`` or, without a native form,
  ``void (caller_vmctx*, u8* values)``; then traps with HOST_EXCEPTION if the
  callback set ``limits.pending_exception``.

Entry trampolines save the System V callee-saved registers, save the
previous ``entry_sp`` and ``stack_limit``, set ``stack_limit`` to
``rsp - WASM_STACK_SIZE`` when they are the outermost entry, publish the new
``entry_sp`` (the address of the return address of their call, where a trap
unwinds to) and restore everything on the way out, trapped or not.  After a
trap the returned value is meaningless: the caller reads ``limits.trap_code``.
"""

from __future__ import annotations

from . import vmoffsets as vo
from .abi import is_float, sysv_assign, wasm_sig
from .errors import TrapCode
from .masm import for_host
from .wasm.types import I32, V128

WASM_STACK_SIZE = 512 * 1024
HOSTCTX_FUNCREF = vo.HOSTCTX_FUNCREF

_SAVE_AREA = 40     # saved stack_limit, entry_sp, limits*, values*, padding


def _size(t):
    return 4 if t in (0x7F, 0x7D) else 16 if t == V128 else 8


def _copy(a, scratch, t, dst, dst_disp, src, src_disp):
    """Copy one value (8 bytes, or 16 for a v128) between memory slots.

    An i32/f32 is read with 4 bytes: compiled code writes such slots with 4-byte
    stores, which cannot be forwarded to a wider load (a stall of ~10-15 cycles);
    the 4-byte load zero-extends, so the 8-byte store leaves no stale upper half."""
    if t == V128:
        for h in (0, 8):
            a.load(8, scratch, src, src_disp + h)
            a.store(8, scratch, dst, dst_disp + h)
    else:
        a.load(_size(t), scratch, src, src_disp)
        a.store(8, scratch, dst, dst_disp)


def has_native_form(functype) -> bool:
    return len(functype.results) <= 1 and V128 not in functype.params and V128 not in functype.results


def _enter(a, abi, regs, values_reg=None):
    """Common prologue of the entry trampolines; leaves rbx = limits*."""
    a.prologue()
    for r in abi.SYSV_CALLEE_SAVED_NO_FP:
        a.push_r(r)
    a.alu_ri(5, 8, regs.RSP, _SAVE_AREA)                            # sub rsp, 40
    a.load(8, regs.RBX, regs.RDX, vo.VMCTX_LIMITS)                  # caller vmctx -> limits
    a.store(8, regs.RBX, regs.RSP, 16)
    if values_reg is not None:
        a.store(8, values_reg, regs.RSP, 24)
    a.load(8, regs.RAX, regs.RBX, vo.LIMITS_STACK_LIMIT)
    a.store(8, regs.RAX, regs.RSP, 0)
    a.load(8, regs.RAX, regs.RBX, vo.LIMITS_ENTRY_SP)
    a.store(8, regs.RAX, regs.RSP, 8)
    nested = a.new_label()
    a.test_rr(8, regs.RAX, regs.RAX)
    a.jcc(regs.CC_NE, nested)
    a.lea(8, regs.RAX, regs.RSP, -WASM_STACK_SIZE)
    a.store(8, regs.RAX, regs.RBX, vo.LIMITS_STACK_LIMIT)
    a.bind(nested)


def _call_wasm(a, regs):
    """rdi = code, rsi = callee vmctx, rdx = caller vmctx, rbx = limits: call it."""
    a.mov_rr(8, regs.R11, regs.RDI)
    a.mov_rr(8, regs.RDI, regs.RSI)
    a.mov_rr(8, regs.RSI, regs.RDX)
    a.lea(8, regs.RAX, regs.RSP, -8)
    a.store(8, regs.RAX, regs.RBX, vo.LIMITS_ENTRY_SP)
    a.call_r(regs.R11)


def _leave(a, abi, regs):
    """Restore the limits (through rsp only: a trap leaves rbx and rbp clobbered)."""
    a.load(8, regs.R11, regs.RSP, 16)
    a.load(8, regs.RCX, regs.RSP, 0)
    a.store(8, regs.RCX, regs.R11, vo.LIMITS_STACK_LIMIT)
    a.load(8, regs.RCX, regs.RSP, 8)
    a.store(8, regs.RCX, regs.R11, vo.LIMITS_ENTRY_SP)
    a.alu_ri(0, 8, regs.RSP, _SAVE_AREA)
    for r in reversed(abi.SYSV_CALLEE_SAVED_NO_FP):
        a.pop_r(r)
    a.pop_r(regs.RBP)
    a.ret()


def array_to_wasm(functype) -> bytes:
    masm_class, abi, regs = for_host()
    sig = wasm_sig(functype)
    a = masm_class()
    _enter(a, abi, regs, values_reg=regs.RCX)
    area = sig.area_size
    if area:
        a.alu_ri(5, 8, regs.RSP, area)
    for i, t in enumerate(sig.params):
        _copy(a, regs.RAX, t, regs.RSP, sig.param_offsets[i], regs.RCX, vo.VALUE_SLOT * i)
    _call_wasm(a, regs)
    results = sig.results
    if results:
        a.load(8, regs.RCX, regs.RSP, area + 24)
        r0 = regs.XMM0 if is_float(results[0]) or results[0] == V128 else regs.RAX
        a.store(8 if r0 == regs.RAX else _size(results[0]), r0, regs.RCX, 0)
        for k in range(1, len(results)):
            _copy(a, regs.R11, results[k], regs.RCX, vo.VALUE_SLOT * k, regs.RSP, sig.result_offsets[k])
    if area:
        a.alu_ri(0, 8, regs.RSP, area)
    _leave(a, abi, regs)
    return a.finalize()


def native_to_wasm(functype) -> bytes | None:
    if not has_native_form(functype):
        return None
    masm_class, abi, regs = for_host()
    sig = wasm_sig(functype)
    a = masm_class()
    _enter(a, abi, regs)
    area = sig.area_size
    if area:
        a.alu_ri(5, 8, regs.RSP, area)
    locs, _ = sysv_assign(sig.params, (regs.RCX, regs.R8, regs.R9), abi.SYSV_FARGS)
    for i, t in enumerate(sig.params):
        kind, where = locs[i]
        dst = sig.param_offsets[i]
        if kind == "reg":
            a.store(_size(t) if is_float(t) else 8, where, regs.RSP, dst)
        else:
            a.load(8, regs.RAX, regs.RBP, 16 + where)
            a.store(8, regs.RAX, regs.RSP, dst)
    _call_wasm(a, regs)
    if area:
        a.alu_ri(0, 8, regs.RSP, area)
    _leave(a, abi, regs)
    return a.finalize()


def wasm_to_native(functype) -> bytes:
    masm_class, abi, regs = for_host()
    sig = wasm_sig(functype)
    a = masm_class()
    a.prologue()
    a.alu_ri(5, 8, regs.RSP, 16)
    a.store(8, regs.RSI, regs.RBP, -8)                 # caller vmctx, for the limits after the call
    a.load(8, regs.R11, regs.RSI, vo.VMCTX_LIMITS)
    a.load(8, regs.RAX, regs.RBP, 0)
    a.store(8, regs.RAX, regs.R11, vo.LIMITS_EXIT_FP)
    a.load(8, regs.RAX, regs.RBP, 8)
    a.store(8, regs.RAX, regs.R11, vo.LIMITS_EXIT_PC)
    callback = HOSTCTX_FUNCREF + vo.FUNCREF_NATIVE_CALL
    arg = 16   # [rbp + 16 + offset] is a Wasm parameter
    results = sig.results
    if has_native_form(functype):
        int_regs = abi.SYSV_ARGS[1:]
        locs, stack_size = sysv_assign(sig.params, int_regs, abi.SYSV_FARGS)
        if stack_size:
            a.alu_ri(5, 8, regs.RSP, stack_size)
        a.mov_rr(8, regs.RAX, regs.RDI)
        a.mov_rr(8, regs.RDI, regs.RSI)
        for i, t in enumerate(sig.params):
            kind, where = locs[i]
            src = arg + sig.param_offsets[i]
            if kind == "reg":
                a.load(_size(t), where, regs.RBP, src)
            else:
                a.load(_size(t), regs.R11, regs.RBP, src)
                a.store(8, regs.R11, regs.RSP, where)
        a.call_m(regs.RAX, callback)
        if results and results[0] == I32:
            a.mov_rr(4, regs.RAX, regs.RAX)
    else:
        n = max(len(sig.params), len(results))
        size = (vo.VALUE_SLOT * n + 15) & -16
        if size:
            a.alu_ri(5, 8, regs.RSP, size)
        for i, t in enumerate(sig.params):
            _copy(a, regs.R11, t, regs.RSP, vo.VALUE_SLOT * i, regs.RBP, arg + sig.param_offsets[i])
        a.mov_rr(8, regs.RAX, regs.RDI)
        a.mov_rr(8, regs.RDI, regs.RSI)
        a.mov_rr(8, regs.RSI, regs.RSP)
        a.call_m(regs.RAX, callback)
        for k in range(1, len(results)):
            _copy(a, regs.R11, results[k], regs.RBP, arg + sig.result_offsets[k], regs.RSP, vo.VALUE_SLOT * k)
        if results:
            t0 = results[0]
            a.load(_size(t0), regs.XMM0 if is_float(t0) or t0 == V128 else regs.RAX, regs.RSP, 0)
    trap = a.new_label()
    a.load(8, regs.R11, regs.RBP, -8)
    a.load(8, regs.R11, regs.R11, vo.VMCTX_LIMITS)
    a.alu_mi(7, 4, 0, regs.R11, vo.LIMITS_PENDING_EXCEPTION)
    a.jcc(regs.CC_NE, trap)
    a.epilogue()
    a.bind(trap)
    a.store_imm(4, TrapCode.HOST_EXCEPTION, regs.R11, vo.LIMITS_TRAP_CODE)
    a.load(8, regs.RAX, regs.RBP, 8)
    a.store(8, regs.RAX, regs.R11, vo.LIMITS_TRAP_PC)
    a.load(8, regs.RAX, regs.RBP, 0)
    a.store(8, regs.RAX, regs.R11, vo.LIMITS_TRAP_FP)
    a.load(8, regs.RSP, regs.R11, vo.LIMITS_ENTRY_SP)
    a.ret()
    return a.finalize()
