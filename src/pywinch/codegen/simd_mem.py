"""SIMD visitors: v128 memory accesses (plain, extending, splat, zero, lane),
v128.const, splats, lane extraction and replacement, shuffle and swizzle.

Memory operands come from ``_addr``: on a guarded memory (``variables.heap_guard``)
an access with ``offset + size`` within a disp32 is unchecked, and each visitor
records the one instruction that touches memory as its trap site (the fault
handler reports that pc + 1); otherwise ``variables._address`` checks bounds.
"""

from __future__ import annotations

from ..errors import TrapCode
from ..isa.x64 import simd as sx
from ..isa.x64 import sse
from ..wasm import opcodes as op
from ..wasm.types import F32, F64, I32, I64, V128
from .context import K_CONST
from .simd_common import check_cpu, make, op_const, push, splat_bits, vreg
from .variables import _address, _guarded_base, _guarded_const, _guarded_site, heap_guard

FD = op.FD_BASE


def _addr(c, memarg, size):
    """``(base, disp, index, temps, guarded)`` of an access (pops the address):
    ``[base + index + disp]``, ``temps`` to free after it.  ``guarded``: no
    bounds check was emitted, so the caller must pass the pc of the instruction
    that touches memory to ``_guarded_site``.  Memory 0 with its base pinned in
    a register: addressed through that register (no load of the base)."""
    offset = memarg[1]
    if offset <= 0x7FFFFFFF - size and heap_guard(c):
        if c.stack[-1][0] != K_CONST:
            addr = c.pop_reg()      # a zero-extended u32 (every i32 producer writes 32 bits)
            mbase, base_disp, hr = _guarded_base(c, memarg[2])
            if hr < 0:
                c.a.load(8, c.scratch, mbase, base_disp)
                hr = c.scratch
            return hr, offset, addr, (addr,), True
        at = _guarded_const(c, memarg, size)
        if at is not None:
            return at[0], at[1], -1, (), True
        # A constant address past a disp32: checked below.
    if offset <= 0x7FFFFFF0 and c.stack[-1][0] != K_CONST:
        fast = c.mc.fast_memory.get(memarg[2])
        if fast is not None and fast[2] >= 0:
            addr = c.pop_reg()
            a = c.a
            a.heap_check(addr, offset + size, c.vmctx, fast[0], c.scratch)
            c.trap_stubs.append((a.jcc_fixup(c.cc.CC_A), TrapCode.HEAP_OUT_OF_BOUNDS, c.offset))
            c.uses_heap = True
            return fast[2], offset, addr, (addr,), False
    return _address(c, memarg, size) + (False,)


def _free(c, temps):
    for r in temps:
        c.free |= 1 << r


# --- loads and stores ----------------------------------------------------------------

def visit_load(c, memarg):
    base, disp, index, temps, guarded = _addr(c, memarg, 16)
    _free(c, temps)
    r = c.alloc_xmm()
    a = c.a
    pos = len(a.buf)
    a.load(16, r, base, disp, index)
    if guarded:
        _guarded_site(c, pos)
    push(c, r)


_EXTEND = {0x01: sx.PMOVSXBW, 0x02: sx.PMOVZXBW, 0x03: sx.PMOVSXWD, 0x04: sx.PMOVZXWD,
           0x05: sx.PMOVSXDQ, 0x06: sx.PMOVZXDQ}


def _make_load_extend(o):
    def visit(c, memarg):
        check_cpu(c)
        base, disp, index, temps, guarded = _addr(c, memarg, 8)
        _free(c, temps)
        r = c.alloc_xmm()
        a = c.a
        pos = len(a.buf)
        a.sse_m(o, r, base, disp, index)     # pmovsx/zx m64: no alignment requirement
        if guarded:
            _guarded_site(c, pos)
        push(c, r)
    return visit


def _splat_reg(c, r, size):
    """Broadcast lane 0 (``size`` bytes) of XMM ``r`` to every lane."""
    a = c.a
    if size == 1:
        op_const(c, sx.PSHUFB, r, 0)
    elif size == 2:
        a.sse_imm(sx.PSHUFLW, r, r, 0)
        a.sse_imm(sse.PSHUFD, r, r, 0)
    elif size == 4:
        a.sse_imm(sse.PSHUFD, r, r, 0)
    else:
        a.sse_imm(sse.PSHUFD, r, r, 0x44)


def _make_load_splat(size):
    def visit(c, memarg):
        check_cpu(c)
        base, disp, index, temps, guarded = _addr(c, memarg, size)
        _free(c, temps)
        r = c.alloc_xmm()
        a = c.a
        pos = len(a.buf)
        if size >= 4:
            a.load(size, r, base, disp, index)
        else:
            a.pinsr_m(size, r, 0, base, disp, index)
        if guarded:
            _guarded_site(c, pos)
        _splat_reg(c, r, size)
        push(c, r)
    return visit


def _make_load_zero(size):
    def visit(c, memarg):
        base, disp, index, temps, guarded = _addr(c, memarg, size)
        _free(c, temps)
        r = c.alloc_xmm()
        a = c.a
        pos = len(a.buf)
        a.load(size, r, base, disp, index)   # movss/movsd from memory zero the rest
        if guarded:
            _guarded_site(c, pos)
        push(c, r)
    return visit


def visit_store(c, memarg):
    v = vreg(c)
    base, disp, index, temps, guarded = _addr(c, memarg, 16)
    a = c.a
    pos = len(a.buf)
    a.store(16, v, base, disp, index)
    if guarded:
        _guarded_site(c, pos)
    c.free |= 1 << v
    _free(c, temps)


def _make_load_lane(size):
    def visit(c, imm):
        check_cpu(c)
        v = vreg(c)
        base, disp, index, temps, guarded = _addr(c, imm[:3], size)
        a = c.a
        pos = len(a.buf)
        a.pinsr_m(size, v, imm[3], base, disp, index)
        if guarded:
            _guarded_site(c, pos)
        _free(c, temps)
        push(c, v)
    return visit


def _make_store_lane(size):
    def visit(c, imm):
        check_cpu(c)
        v = vreg(c)
        base, disp, index, temps, guarded = _addr(c, imm[:3], size)
        a = c.a
        pos = len(a.buf)
        a.pextr_m(size, v, imm[3], base, disp, index)
        if guarded:
            _guarded_site(c, pos)
        c.free |= 1 << v
        _free(c, temps)
    return visit


# --- constants, splats, lanes -------------------------------------------------------

def visit_const(c, bits):
    c.stack.append((K_CONST, V128, bits))


def _make_splat(size, t):
    width = 8 * size

    def visit(c, imm):
        check_cpu(c)
        e = c.stack[-1]
        if e[0] == K_CONST:
            c.stack.pop()
            c.stack.append((K_CONST, V128, splat_bits(e[2], width)))
            return
        if t == F32 or t == F64:
            r = c.pop_reg()      # the scalar is already in lane 0 of an XMM register
        else:
            g = c.pop_reg()
            r = c.alloc_xmm()
            if size == 8:
                c.a.movq(r, g)
            else:
                c.a.movd(r, g)
            c.free |= 1 << g
        _splat_reg(c, r, size)
        push(c, r)
    return visit


def _make_extract(size, signed, t):
    def visit(c, lane):
        check_cpu(c)
        e = c.stack[-1]
        if e[0] == K_CONST:
            c.stack.pop()
            w = 8 * size
            v = (e[2] >> (w * lane)) & ((1 << w) - 1)
            if signed and v >> (w - 1):
                v = (v - (1 << w)) & 0xFFFFFFFF
            c.stack.append((K_CONST, t, v))
            return
        x = vreg(c)
        a = c.a
        if t == F32:
            if lane:
                a.sse_imm(sse.PSHUFD, x, x, lane)
            c.push_reg(F32, x)
            return
        if t == F64:
            if lane:
                a.sse(sx.MOVHLPS, x, x)
            c.push_reg(F64, x)
            return
        g = c.alloc_gpr()
        if size == 8:
            if lane:
                a.pextr(8, g, x, lane)
            else:
                a.movq(g, x)
        elif size == 4:
            if lane:
                a.pextr(4, g, x, lane)
            else:
                a.movd(g, x)
        else:
            a.pextr(size, g, x, lane)
            if signed:
                a.movsx_rr(size, 4, g, g)       # a 32-bit write zeroes the upper half
        c.free |= 1 << x
        c.push_reg(t, g)
    return visit


def _make_replace(size, t):
    def visit(c, lane):
        check_cpu(c)
        a = c.a
        if t == F32 or t == F64:
            s = c.pop_reg()
            x = vreg(c)
            if t == F32:
                a.sse_imm(sx.INSERTPS, x, s, lane << 4)
            elif lane == 0:
                a.movsd_rr(x, s)
            else:
                a.sse(sx.MOVLHPS, x, s)
            c.free |= 1 << s
            push(c, x)
            return
        g = c.pop_reg()
        x = vreg(c)
        a.pinsr(size, x, g, lane)
        c.free |= 1 << g
        push(c, x)
    return visit


# --- shuffle and swizzle --------------------------------------------------------------

def visit_shuffle(c, lanes):
    check_cpu(c)
    lanes = bytes(lanes)
    b = vreg(c)
    x = vreg(c)
    ma = mb = 0
    use_a = use_b = False
    for i, l in enumerate(lanes):
        if l < 16:
            ma |= l << (8 * i)
            mb |= 0x80 << (8 * i)
            use_a = True
        else:
            ma |= 0x80 << (8 * i)
            mb |= (l - 16) << (8 * i)
            use_b = True
    if not use_b:
        op_const(c, sx.PSHUFB, x, ma)
        c.free |= 1 << b
    elif not use_a:
        op_const(c, sx.PSHUFB, b, mb)
        c.free |= 1 << x
        x = b
    else:
        op_const(c, sx.PSHUFB, x, ma)
        op_const(c, sx.PSHUFB, b, mb)
        c.a.sse(sse.POR, x, b)
        c.free |= 1 << b
    push(c, x)


def visit_swizzle(c, imm):
    check_cpu(c)
    s = vreg(c)
    x = vreg(c)
    # Indices above 15 must select 0: saturating +0x70 sets their top bit (pshufb -> 0).
    op_const(c, sx.PADDUSB, s, splat_bits(0x70, 8))
    c.a.sse(sx.PSHUFB, x, s)
    c.free |= 1 << s
    push(c, x)


def register(table):
    table[FD + 0x00] = make(visit_load)
    for sub, o in _EXTEND.items():
        table[FD + sub] = _make_load_extend(o)
    for sub, size in ((0x07, 1), (0x08, 2), (0x09, 4), (0x0A, 8)):
        table[FD + sub] = _make_load_splat(size)
    table[FD + 0x0B] = make(visit_store)
    table[FD + 0x5C] = make(_make_load_zero(4))
    table[FD + 0x5D] = make(_make_load_zero(8))
    for i, size in enumerate((1, 2, 4, 8)):
        table[FD + 0x54 + i] = _make_load_lane(size)
        table[FD + 0x58 + i] = _make_store_lane(size)
    table[FD + 0x0C] = visit_const
    table[FD + 0x0D] = visit_shuffle
    table[FD + 0x0E] = visit_swizzle
    for i, (size, t) in enumerate(((1, I32), (2, I32), (4, I32), (8, I64), (4, F32), (8, F64))):
        table[FD + 0x0F + i] = _make_splat(size, t)
    table[FD + 0x15] = _make_extract(1, True, I32)
    table[FD + 0x16] = _make_extract(1, False, I32)
    table[FD + 0x17] = _make_replace(1, I32)
    table[FD + 0x18] = _make_extract(2, True, I32)
    table[FD + 0x19] = _make_extract(2, False, I32)
    table[FD + 0x1A] = _make_replace(2, I32)
    table[FD + 0x1B] = _make_extract(4, False, I32)
    table[FD + 0x1C] = _make_replace(4, I32)
    table[FD + 0x1D] = _make_extract(8, False, I64)
    table[FD + 0x1E] = _make_replace(8, I64)
    table[FD + 0x1F] = _make_extract(4, False, F32)
    table[FD + 0x20] = _make_replace(4, F32)
    table[FD + 0x21] = _make_extract(8, False, F64)
    table[FD + 0x22] = _make_replace(8, F64)
