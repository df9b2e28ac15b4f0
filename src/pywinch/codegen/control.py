"""Control flow: block, loop, if/else, end, br, br_if, br_table, return,
unreachable, nop, drop, select.

Merge points use fixed locations: a label's values live in the frame slots
of their stack indices (K_MEM), everything below the frame base is spilled or
constant when the block starts (``spill_for_block``).  A block whose end is
reached only by falling through keeps its values where they are (no merge).
"""

from __future__ import annotations

import re
import struct

from ..errors import TrapCode
from ..isa.x64.asm import JCC_NEAR, JCC_NEAR0
from ..isa.x64.encoding import _pack_i32
from ..isa.x64.gpr import ALU_MI8, ALU_MI8_D32, D8, FRAME_LOAD8, MOV_RR4, MOV_RR8, TEST_RR4
from ..isa.x64.regs import CC_NE
from ..wasm import opcodes as op
from ..wasm.opcodes import GLOBAL, I32 as I32_IMM, I64 as I64_IMM, IMMEDIATES, LABEL, LOCAL, MEMARG, NONE
from ..wasm.operators import BLOCK_EMPTY
from ..wasm.types import I32, I64, V128
from .context import (FRAME_BLOCK, FRAME_FUNC, FRAME_IF, FRAME_LOOP, IS_FLOAT, K_CMP, K_CONST, K_LOCAL, K_MEM,
                      K_REG, KEEPS_CACHE, TSIZE, Frame)


_CMP_FRAME_I8 = ALU_MI8[4][7 << 4 | 5]      # cmp dword [rbp + disp8], imm8 minus both
_CMP_FRAME32_I8 = ALU_MI8_D32[4][7 << 4 | 5]    # cmp dword [rbp + disp32], imm8 minus both
_CC_NE = CC_NE


def _pop_condition(c):
    """Pop an i32 condition; returns ``(cc, const)``: the condition code under
    which it is true (flags set), or ``(None, value)`` for a constant."""
    e = c.stack[-1]
    k = e[0]
    cc = c.cc
    if k == K_CMP:
        c.stack.pop()
        c.flags_live = False
        return e[2], None
    if k == K_CONST:
        c.stack.pop()
        return None, e[2]
    if k == K_LOCAL:
        # Test the local in its slot: no register, no load (cmp dword [rbp + d], 0).
        c.stack.pop()
        rc = c.lreg[e[2]]
        if rc >= 0:
            c.a.buf += TEST_RR4[rc << 4 | rc]
            return cc.CC_NE, None
        d = c.ldisp[e[2]]
        if -128 <= d <= 127:
            c.a.buf += _CMP_FRAME_I8 + D8[d & 0xFF] + b"\0"
        elif -0x80000000 <= d <= 0x7FFFFFFF:
            c.a.buf += _CMP_FRAME32_I8 + _pack_i32(d) + b"\0"
        else:
            c.a.alu_mi(7, 4, 0, c.fp, d)
        return cc.CC_NE, None
    r = c.pop_reg()
    c.a.buf += TEST_RR4[r << 4 | r]
    c.free |= 1 << r
    return cc.CC_NE, None


# --- branches to a frame's label ----------------------------------------------------
# Blocks are the commonest control construct, so their branches skip the
# assembler's label machinery: the same bytes Assembler.jcc/jmp emit, with the
# forward rel32 fields kept in the frame and patched at its end.

_pack_into_i32 = struct.Struct("<i").pack_into


def _jump_to(c, f, cc):
    """``j<cc>`` (``jmp`` when cc < 0) to frame ``f``'s label."""
    buf = c.a.buf
    head = f.head
    if head >= 0:
        # A loop: its head is bound; short form when it reaches (as Assembler.jcc/jmp).
        rel = head - len(buf) - 2
        if rel >= -128:
            buf += (D8[0x70 | cc] if cc >= 0 else b"\xeb") + D8[rel & 0xFF]
        elif cc >= 0:
            buf += JCC_NEAR[cc] + _pack_i32(rel - 4)
        else:
            buf += b"\xe9" + _pack_i32(rel - 3)
        return
    buf += JCC_NEAR0[cc] if cc >= 0 else b"\xe9\0\0\0\0"
    fix = f.fix
    if fix is None:
        f.fix = [len(buf) - 4]
    else:
        fix.append(len(buf) - 4)


def _label_of(c, f):
    """An assembler label for ``f``'s target (br_table's jump table needs one);
    a loop's is bound at its head."""
    if f.label < 0:
        f.label = c.a.new_label()
        if f.head >= 0:
            c.a.bind(f.label, f.head)
    return f.label


def _bind_end(c, f):
    """The end of a block or if is here: patch the branches that jump to it."""
    a = c.a
    fix = f.fix
    if fix is not None:
        buf = a.buf
        pos = len(buf)
        for at in fix:
            _pack_into_i32(buf, at, pos - at - 4)
    if f.label >= 0:
        a.bind(f.label)


def visit_unreachable(c, imm):
    c.trap_now(TrapCode.UNREACHABLE)
    c.set_unreachable()


def visit_nop(c, imm):
    pass


def _result_reg(c, results):
    """The register that carries a block's single scalar result, else -1."""
    if len(results) != 1:
        return -1
    t = results[0]
    if t == V128:
        return -1
    return c.abi.RET_XMM if IS_FLOAT[t] else c.abi.RET_GPR


def visit_block(c, imm):
    stack = c.stack
    if imm == BLOCK_EMPTY:
        # Most blocks (wasi-libc: ~90%) carry nothing: no type lookup, no result register.
        base = len(stack)
        if stack:
            c.spill_for_block(base)
        c.frames.append(Frame(FRAME_BLOCK, (), (), base, -1))
        return
    ft = c.validator.block_type(imm)
    base = len(stack) - len(ft.params)
    c.spill_for_block(base)
    f = Frame(FRAME_BLOCK, ft.params, ft.results, base, -1)
    f.res_reg = _result_reg(c, ft.results)
    c.frames.append(f)


def visit_loop(c, imm):
    ft = c.validator.block_type(imm)
    n = len(ft.params)
    base = len(c.stack) - n
    c.spill_for_block(base)
    if c.fuel_on:
        c.fuel_flush()
    # Branches go to the recorded head (_jump_to); a label only if a br_table needs one.
    f = Frame(FRAME_LOOP, ft.params, ft.results, base, -1)
    f.hcache = _loop_cache(c)
    c.home = f.hcache
    f.head = len(c.a.buf)
    c.frames.append(f)
    c.mc.emit_loop_checks(c)


_SCAN = 160     # the longest loop body scanned for the locals it sets

# Immediate kinds (wasm.opcodes.IMMEDIATES) a straight-line loop body may hold:
# the LEB128 ones and the fixed-size float constants.
_LEB1 = (LOCAL, GLOBAL, LABEL, I32_IMM, I64_IMM)


def _loop_sets(data, pos, end):
    """The locals set in a loop whose body starts at ``pos``, when the body is
    short (its ``end`` within ``_SCAN`` bytes) and one basic block of operators
    that keep the register cache (``KEEPS_CACHE``; br_if is the back-edge or an
    exit): only such loops carry locals in registers, since a merge or a call
    inside would empty the cache and every back-edge would reload them.  None
    otherwise."""
    limit = min(pos + _SCAN, end)
    sets = []
    keeps = KEEPS_CACHE
    imms = IMMEDIATES
    while pos < limit:
        b = data[pos]
        pos += 1
        if b == 0x0B:
            return sets
        if not keeps[b] or 0x02 <= b <= 0x05 or b == 0x0C or b == 0x0E:
            return None
        k = imms[b]
        if b == 0x21 or b == 0x22:
            if data[pos] & 0x80:
                return None
            sets.append(data[pos])
            pos += 1
        elif k == MEMARG:
            if data[pos] & 0x40:
                return None         # a memory index follows
            while data[pos] & 0x80:
                pos += 1
            pos += 1
            while data[pos] & 0x80:
                pos += 1
            pos += 1
        elif k in _LEB1:
            while data[pos] & 0x80:
                pos += 1
            pos += 1
        elif k != NONE:
            return None
    return None


def _loop_cache(c):
    """The locals a loop carries in registers (its head's cache, which every
    back-edge restores, ``conform``): the integer locals a short straight-line
    loop sets (``_loop_sets``), loaded here when not cached yet, and the
    locals cached already (the loop reads them).  Returns {local: register} or None."""
    data = c.mc.module.data
    at = c.offset + 1
    sets = None
    if not data[at] & 0x80 and (c.free & c.gmask).bit_count() >= 6:
        try:
            sets = _loop_sets(data, at + 1, len(data))
        except IndexError:          # a truncated body: the validator reports it
            sets = None
    if not sets:
        if c.cmask:
            c.uncache_all()
        return None
    ltypes = c.local_types
    nl = len(ltypes)
    lreg = c.lreg
    hc = {}
    navail = (c.free & c.gmask).bit_count()
    for l in sets:
        if l >= nl or l in hc:
            continue
        r = lreg[l]
        if r < 0:
            if navail < 5 or len(hc) == 4:
                continue
            t = ltypes[l]
            if t != I32 and t != I64:
                continue
            free = c.free
            for r in c.gpr_alloc:
                if free >> r & 1:
                    break
            d = c.ldisp[l]
            if -128 <= d <= 127:
                c.a.buf += FRAME_LOAD8[TSIZE[t]][r] + D8[d & 0xFF]
            else:
                c.a.load(TSIZE[t], r, c.fp, d)
            c.free = free & ~(1 << r)       # cache_local inlined (l is not cached)
            lreg[l] = r
            c.rloc[r] = l
            c.cmask |= 1 << r
            navail -= 1
        hc[l] = r
    m = c.cmask
    if m:
        # Locals cached already stay: the loop only reads them (or sets them: in hc).
        rloc = c.rloc
        for r in c.gpr_alloc:
            if m >> r & 1:
                hc[rloc[r]] = r
    return hc or None


def conforms(c, hc):
    lreg = c.lreg
    for l, r in hc.items():
        if lreg[l] != r:
            return False
    return True


def _emit_moves(c, hc):
    """Emit the moves that put each local of ``hc`` in its register: from the
    register caching it, ordered so no source is overwritten before it is read
    (a cycle reads one from its slot, always current); returns the locals moved."""
    lreg = c.lreg
    pending = [[l, r, lreg[l]] for l, r in hc.items() if lreg[l] != r]
    moved = []
    a = c.a
    ltypes = c.local_types
    while pending:
        for item in pending:
            r = item[1]
            for other in pending:
                if other[2] == r and other is not item:
                    break
            else:
                break       # nobody still needs r
        else:
            item = pending[0]
            r = item[1]
            for other in pending:
                if other[2] == r:
                    other[2] = -1       # a cycle: that one reads its slot instead
        pending.remove(item)
        l, r, x = item
        size = TSIZE[ltypes[l]]
        if x >= 0:
            a.buf += (MOV_RR8 if size == 8 else MOV_RR4)[x << 4 | r]
        else:
            a.load(size, r, c.fp, c.ldisp[l])
        moved.append((l, r))
    return moved


def conform_both(c, hc):
    """A conditional back-edge: put the loop head's cached locals in their
    registers before the jump, on both paths (moves keep the flags), and make
    that the cache; False (nothing done) when a destination holds a stack value."""
    lreg = c.lreg
    avail = c.free | c.cmask
    for l, r in hc.items():
        if lreg[l] != r and not avail >> r & 1:
            return False
    for l, r in _emit_moves(c, hc):
        if c.cmask >> r & 1:
            c.uncache_reg(r)
        c.cache_local(l, r)
    return True


def conform(c, hc):
    """A back-edge: put the loop head's cached locals in their registers (on
    the taken path only; the compile-time cache is not changed)."""
    _emit_moves(c, hc)


def visit_if(c, imm):
    ft = c.validator.block_type(imm)
    if c.fuel_on:
        c.fuel_flush()
    cc, const = _pop_condition(c)
    n = len(ft.params)
    base = len(c.stack) - n
    c.spill_for_block(base)          # stores only: the flags survive
    a = c.a
    f = Frame(FRAME_IF, ft.params, ft.results, base, -1, a.new_label())
    f.res_reg = _result_reg(c, ft.results)
    c.frames.append(f)
    if cc is not None:
        a.jcc(cc ^ 1, f.else_label)
    elif not const:
        a.jmp(f.else_label)
        c.set_unreachable()


def visit_else(c, imm):
    f = c.frames[-1]
    a = c.a
    if c.cmask:
        c.uncache_all()     # the else label is reached from the if's condition
    if c.reachable:
        if c.fuel_on:
            c.fuel_flush()
        if f.res_reg >= 0:
            c.top_to_reg(f.res_reg)
        else:
            c.canonicalize_top(len(f.results))
        _jump_to(c, f, -1)
        f.branched = True
    c.drop_to(f.base)
    a.bind(f.else_label)
    f.has_else = True
    c.stack.extend([(K_MEM, t, 0) for t in f.params])
    c.reachable = True


def visit_end(c, imm):
    f = c.frames.pop()
    kind = f.kind
    if kind == FRAME_BLOCK:
        if not f.branched:
            return      # reached only by falling through: values stay where they are
        if c.cmask:
            c.uncache_all()     # a merge: the cache of one incoming path means nothing
        if not f.results:
            # The commonest merge: nothing to carry, only the label to bind.
            if c.fuel_on and c.reachable:
                c.fuel_flush()
            stack = c.stack
            if len(stack) > f.base:
                c.drop_to(f.base)
            fix = f.fix             # _bind_end inlined
            if fix is not None:
                buf = c.a.buf
                pos = len(buf)
                for at in fix:
                    _pack_into_i32(buf, at, pos - at - 4)
            if f.label >= 0:
                c.a.bind(f.label)
            c.reachable = True
            return
    elif kind == FRAME_FUNC:
        if c.reachable:
            emit_return(c)
        return
    elif kind == FRAME_LOOP:
        # Branches went to the head; the end is a plain fallthrough.  The
        # enclosing loop's head cache is the one back-edges now reconcile with.
        home = None
        for g in reversed(c.frames):
            if g.kind == FRAME_LOOP:
                home = g.hcache
                break
        c.home = home
        return
    elif f.has_else and not f.branched:
        return
    if c.cmask:
        c.uncache_all()     # a merge: the cache of one incoming path means nothing
    a = c.a
    n = len(f.results)
    rr = f.res_reg
    if rr >= 0:
        # The result arrives in rr on every path.
        reachable = c.reachable
        if reachable:
            if c.fuel_on:
                c.fuel_flush()
            c.top_to_reg(rr)
            c.stack.pop()
        c.drop_to(f.base)
        if kind == FRAME_IF and not f.has_else:
            # The false path carries the if's parameter (== its result) in its slot.
            if reachable:
                _jump_to(c, f, -1)
            a.bind(f.else_label)
            a.load(TSIZE[f.results[0]], rr, c.fp, c.slot_disp(f.base))
        _bind_end(c, f)
        c.free &= ~(1 << rr)
        c.stack.append((K_REG, f.results[0], rr))
        c.reachable = True
        return
    if c.reachable:
        if c.fuel_on:
            c.fuel_flush()
        c.canonicalize_top(n)
    c.drop_to(f.base)
    if kind == FRAME_IF and not f.has_else:
        a.bind(f.else_label)
    _bind_end(c, f)
    c.stack.extend([(K_MEM, t, 0) for t in f.results])
    c.reachable = True


def emit_return(c):
    """Place the function's results per the Wasm convention and return."""
    results = c.functype.results
    n = len(results)
    a = c.a
    stack = c.stack
    if n:
        first = len(stack) - n
        sig = c.sig
        base = c.abi.ARG_BASE
        for k in range(1, n):
            c.store_value(stack[first + k], first + k, c.fp, base + sig.result_offsets[k])
        e = stack[first]
        ret = c.abi.RET_XMM if IS_FLOAT[e[1]] else c.abi.RET_GPR
        c.load_value(e, first, ret)
        c.free |= 1 << ret              # the value now belongs to the caller
        del stack[first:]
    if c.fuel_on:
        c.fuel_flush()
    a.epilogue()


def _branch_to(c, depth):
    """Emit the moves and the jump of an unconditional branch to ``depth``."""
    frames = c.frames
    f = frames[-1 - depth]
    if f.kind == FRAME_FUNC:
        emit_return(c)
        return
    if f.res_reg >= 0:
        # The taken path may clobber the register: only the label's values matter there.
        stack = c.stack
        c.copy_to_reg(stack[-1], len(stack) - 1, f.res_reg)
    else:
        c.move_to_label(f.base, len(f.arity))
    if f.hcache is not None:
        conform(c, f.hcache)
    f.branched = True
    _jump_to(c, f, -1)


def visit_return(c, imm):
    emit_return(c)
    c.set_unreachable()


def visit_br(c, depth):
    if c.fuel_on:
        c.fuel_flush()
    _branch_to(c, depth)
    c.set_unreachable()


def visit_br_if(c, depth):
    if c.fuel_on:
        c.fuel_flush()
    stack = c.stack
    e = stack[-1]
    k = e[0]
    if k == K_CMP:
        # A comparison feeding the branch (the common case): its flags are the condition.
        stack.pop()
        c.flags_live = False
        cc = e[2]
    elif k == K_REG:
        # test r, r; jnz (_pop_condition inlined)
        stack.pop()
        r = e[2]
        c.a.buf += TEST_RR4[r << 4 | r]
        c.free |= 1 << r
        cc = _CC_NE
    else:
        cc, const = _pop_condition(c)
        if cc is None:
            if const:
                visit_br(c, depth)
            return
    a = c.a
    f = c.frames[-1 - depth]
    if f.kind != FRAME_FUNC:
        if f.res_reg >= 0:
            # The value goes to the result register on both paths, then the branch.
            c.top_to_reg(f.res_reg)
            f.branched = True
            _jump_to(c, f, cc)
            return
        n = len(f.arity)
        if len(stack) - n == f.base:
            # Values already at the label's height: store them in place, branch directly.
            if n:
                c.canonicalize_top(n)
        hc = f.hcache
        if len(stack) - n == f.base and (hc is None or conforms(c, hc) or conform_both(c, hc)):
            # (a loop head's cached locals checked after the stores, which may take a register)
            f.branched = True
            if f.head < 0:
                # A block's end (_jump_to inlined: the commonest branch of all)
                buf = a.buf
                buf += JCC_NEAR0[cc]
                fix = f.fix
                if fix is None:
                    f.fix = [len(buf) - 4]
                else:
                    fix.append(len(buf) - 4)
            else:
                _jump_to(c, f, cc)
            return
    skip = a.new_label()
    a.jcc(cc ^ 1, skip)
    saved_free = c.free
    saved_stack = list(c.stack)
    saved_cache = c.cache_snapshot()
    _branch_to(c, depth)
    # The taken path's moves do not change the fallthrough state.
    c.stack[:] = saved_stack
    c.free = saved_free
    c.cache_restore(saved_cache)
    a.bind(skip)


def visit_br_table(c, imm):
    labels, default = imm
    a = c.a
    if c.fuel_on:
        c.fuel_flush()
    r = c.pop_reg()
    f0 = c.frames[-1 - default]
    n = len(f0.arity)
    c.canonicalize_top(n)          # every target copies slot to slot
    frames = c.frames
    targets = []
    stubs = {}
    for depth in list(labels) + [default]:
        lab = stubs.get(depth)
        if lab is None:
            f = frames[-1 - depth]
            if (f.kind != FRAME_FUNC and f.res_reg < 0 and len(c.stack) - n == f.base
                    and (f.hcache is None or conforms(c, f.hcache))):
                lab = _label_of(c, f)
                f.branched = True
            else:
                lab = a.new_label()
            stubs[depth] = lab
        targets.append(lab)
    dflt = targets.pop()
    if targets:
        a.alu_ri(7, 4, r, len(targets))  # cmp r, count
        a.jcc(c.cc.CC_AE, dflt)
        a.jump_table(r, c.scratch, targets)
    else:
        a.jmp(dflt)
    c.free |= 1 << r
    saved = list(c.stack)
    saved_free = c.free
    saved_cache = c.cache_snapshot()
    for depth, lab in stubs.items():
        f = frames[-1 - depth]
        if lab == f.label:
            continue
        a.bind(lab)
        c.stack[:] = saved
        c.free = saved_free
        c.cache_restore(saved_cache)
        _branch_to(c, depth)
    c.stack[:] = saved
    c.free = saved_free
    c.cache_restore(saved_cache)
    c.set_unreachable()


def visit_drop(c, imm):
    e = c.stack.pop()
    if e[0] == K_REG:
        c.free_reg(e[2])


def visit_select(c, imm):
    cc, const = _pop_condition(c)
    stack = c.stack
    if cc is None:
        b = stack.pop()
        if const:
            if b[0] == K_REG:
                c.free_reg(b[2])
        else:
            a_ = stack.pop()
            if a_[0] == K_REG:
                c.free_reg(a_[2])
            # b moves down one index: a K_MEM needs its value moved with it.
            if b[0] == K_MEM:
                r = c.alloc(b[1])
                c.load_value(b, len(stack) + 1, r)
                b = (K_REG, b[1], r)
            stack.append(b)
        return
    t = stack[-1][1]
    asm = c.a
    rb = c.pop_reg()
    ra = c.pop_reg()
    if IS_FLOAT[t]:
        skip = asm.new_label()
        asm.jcc(cc, skip)
        asm.movaps(ra, rb)
        asm.bind(skip)
    else:
        asm.cmov(cc ^ 1, TSIZE[t], ra, rb)
    c.free |= 1 << rb
    c.stack.append((K_REG, t, ra))


def register(table):
    table[op.UNREACHABLE] = visit_unreachable
    table[op.NOP] = visit_nop
    table[op.BLOCK] = visit_block
    table[op.LOOP] = visit_loop
    table[op.IF] = visit_if
    table[op.ELSE] = visit_else
    table[op.END] = visit_end
    table[op.BR] = visit_br
    table[op.BR_IF] = visit_br_if
    table[op.BR_TABLE_OP] = visit_br_table
    table[op.RETURN] = visit_return
    table[op.DROP] = visit_drop
    table[op.SELECT] = visit_select
    table[op.SELECT_TYPED] = visit_select
