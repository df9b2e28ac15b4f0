"""SIMD visitors: bitwise operations, bitselect, any_true/all_true (as flags a
following br_if/if/select consumes), bitmask, lane shifts, popcnt.

SSE has no 8-bit lane shifts (16-bit shifts plus a byte mask, or widening
for the arithmetic one) and no 64-bit arithmetic right shift (logical shift
and sign fix-up with ``(x ^ m) - m``).
"""

from __future__ import annotations

from ..isa.x64 import simd as sx
from ..isa.x64 import sse
from ..wasm import opcodes as op
from ..wasm.types import I32
from .context import K_CMP, K_CONST
from .simd_common import ONES, binop, binop_swapped, check_cpu, op3, op_const, push, splat_bits, vreg

FD = op.FD_BASE


def visit_not(c, imm):
    check_cpu(c)
    x = vreg(c)
    op_const(c, sse.PXOR, x, ONES)
    push(c, x)


def visit_bitselect(c, imm):
    check_cpu(c)
    m = vreg(c)
    y = vreg(c)
    x = vreg(c)
    a = c.a
    # ((x ^ y) & m) ^ y
    a.sse(sse.PXOR, x, y)
    a.sse(sse.PAND, x, m)
    a.sse(sse.PXOR, x, y)
    c.free |= 1 << m | 1 << y
    push(c, x)


def _flags(c, cc):
    c.stack.append((K_CMP, I32, cc))
    c.flags_live = True


def visit_any_true(c, imm):
    check_cpu(c)
    x = vreg(c)
    c.a.sse(sse.PTEST, x, x)
    c.free |= 1 << x
    _flags(c, c.cc.CC_NE)


def _make_all_true(eq):
    def visit(c, imm):
        check_cpu(c)
        x = vreg(c)
        z = c.alloc_xmm()
        a = c.a
        a.sse(sse.PXOR, z, z)
        a.sse(eq, z, x)             # lanes equal to zero
        a.sse(sse.PTEST, z, z)
        c.free |= 1 << x | 1 << z
        _flags(c, c.cc.CC_E)
    return visit


def _make_bitmask(kind):
    def visit(c, imm):
        check_cpu(c)
        x = vreg(c)
        g = c.alloc_gpr()
        a = c.a
        if kind == 1:
            a.pmovmskb(g, x)
        elif kind == 2:
            a.sse(sx.PACKSSWB, x, x)        # signed saturation keeps each sign
            a.pmovmskb(g, x)
            a.shift_ri(5, 4, g, 8)          # shr: the copy in the high byte goes
        elif kind == 4:
            a.movmskps(g, x)
        else:
            a.movmskpd(g, x)
        c.free |= 1 << x
        c.push_reg(I32, g)
    return visit


# --- shifts -------------------------------------------------------------------------

def _count(c, mask, extra=0):
    """Pop the shift count: ``(True, n)`` for a constant, else ``(False, xmm)``
    holding ``(count & mask) + extra`` in its low 64 bits."""
    e = c.stack[-1]
    if e[0] == K_CONST:
        c.stack.pop()
        return True, (e[2] & mask) + extra
    g = c.pop_reg()
    a = c.a
    a.alu_ri(4, 4, g, mask)                 # and
    if extra:
        a.alu_ri(0, 4, g, extra)            # add
    x = c.alloc_xmm()
    a.movd(x, g)
    c.free |= 1 << g
    return False, x


def _shift(c, x, imm_op, reg_op, cnt):
    is_imm, n = cnt
    if is_imm:
        c.a.sse_shift_imm(imm_op, x, n)
    else:
        c.a.sse(reg_op, x, n)


def _make_shift(mask, imm_op, reg_op):
    def visit(c, imm):
        check_cpu(c)
        cnt = _count(c, mask)
        x = vreg(c)
        _shift(c, x, imm_op, reg_op, cnt)
        if not cnt[0]:
            c.free |= 1 << cnt[1]
        push(c, x)
    return visit


def _make_i8_logical(left):
    """16-bit shift, then mask off the bits that crossed from the neighbouring byte."""
    imm_op, reg_op = (sx.PSLLW_I, sx.PSLLW) if left else (sx.PSRLW_I, sx.PSRLW)

    def visit(c, imm):
        check_cpu(c)
        cnt = _count(c, 7)
        x = vreg(c)
        a = c.a
        if cnt[0]:
            n = cnt[1]
            a.sse_shift_imm(imm_op, x, n)
            byte = (0xFF << n) & 0xFF if left else 0xFF >> n
            op_const(c, sse.PAND, x, splat_bits(byte, 8))
        else:
            n = cnt[1]
            m = c.alloc_xmm()
            # m = the byte mask: 0x00FF words shifted the same way, byte 0 broadcast.
            a.sse(sse.PCMPEQD, m, m)
            a.sse_shift_imm(sx.PSRLW_I, m, 8)
            a.sse(reg_op, m, n)
            op_const(c, sx.PSHUFB, m, 0)
            a.sse(reg_op, x, n)
            a.sse(sse.PAND, x, m)
            c.free |= 1 << m | 1 << n
        push(c, x)
    return visit


def visit_i8x16_shr_s(c, imm):
    """Each byte to the high byte of a word, arithmetic shift by n + 8, pack back."""
    check_cpu(c)
    cnt = _count(c, 7, 8)
    x = vreg(c)
    a = c.a
    lo = c.alloc_xmm()
    op3(c, sx.PUNPCKLBW, lo, x, x)
    a.sse(sx.PUNPCKHBW, x, x)
    _shift(c, lo, sx.PSRAW_I, sx.PSRAW, cnt)
    _shift(c, x, sx.PSRAW_I, sx.PSRAW, cnt)
    a.sse(sx.PACKSSWB, lo, x)
    c.free |= 1 << x
    if not cnt[0]:
        c.free |= 1 << cnt[1]
    push(c, lo)


def visit_i64x2_shr_s(c, imm):
    """Logical shift, then sign-extend: (x ^ m) - m with m = 2^63 >> n."""
    check_cpu(c)
    cnt = _count(c, 63)
    x = vreg(c)
    m = c.alloc_xmm()
    a = c.a
    if cnt[0]:
        a.sse_shift_imm(sx.PSRLQ_I, x, cnt[1])
        a.load_fconst(16, m, splat_bits((1 << 63) >> cnt[1], 64))
    else:
        a.sse(sx.PSRLQ, x, cnt[1])
        a.load_fconst(16, m, splat_bits(1 << 63, 64))
        a.sse(sx.PSRLQ, m, cnt[1])
        c.free |= 1 << cnt[1]
    a.sse(sse.PXOR, x, m)
    a.sse(sse.PSUBQ, x, m)
    c.free |= 1 << m
    push(c, x)


_POPCNT_LUT = int.from_bytes(bytes(bin(i).count("1") for i in range(16)), "little")


def visit_popcnt(c, imm):
    """Nibble lookup with pshufb: popcnt(lo nibble) + popcnt(hi nibble)."""
    check_cpu(c)
    x = vreg(c)
    hi = c.alloc_xmm()
    lut = c.alloc_xmm()
    a = c.a
    low4 = splat_bits(0x0F, 8)
    a.movaps(hi, x)
    a.sse_shift_imm(sx.PSRLW_I, hi, 4)
    op_const(c, sse.PAND, hi, low4)
    op_const(c, sse.PAND, x, low4)
    a.load_fconst(16, lut, _POPCNT_LUT)
    a.sse(sx.PSHUFB, lut, x)
    a.load_fconst(16, x, _POPCNT_LUT)
    a.sse(sx.PSHUFB, x, hi)
    a.sse(sse.PADDB, x, lut)
    c.free |= 1 << hi | 1 << lut
    push(c, x)


def register(table):
    table[FD + 0x4D] = visit_not
    table[FD + 0x4E] = lambda c, imm: binop(c, sse.PAND)
    table[FD + 0x4F] = lambda c, imm: binop_swapped(c, sse.PANDN)     # a & ~b == pandn b, a
    table[FD + 0x50] = lambda c, imm: binop(c, sse.POR)
    table[FD + 0x51] = lambda c, imm: binop(c, sse.PXOR)
    table[FD + 0x52] = visit_bitselect
    table[FD + 0x53] = visit_any_true
    table[FD + 0x63] = _make_all_true(sse.PCMPEQB)
    table[FD + 0x83] = _make_all_true(sse.PCMPEQW)
    table[FD + 0xA3] = _make_all_true(sse.PCMPEQD)
    table[FD + 0xC3] = _make_all_true(sse.PCMPEQQ)
    table[FD + 0x64] = _make_bitmask(1)
    table[FD + 0x84] = _make_bitmask(2)
    table[FD + 0xA4] = _make_bitmask(4)
    table[FD + 0xC4] = _make_bitmask(8)
    table[FD + 0x62] = visit_popcnt
    table[FD + 0x6B] = _make_i8_logical(True)
    table[FD + 0x6C] = visit_i8x16_shr_s
    table[FD + 0x6D] = _make_i8_logical(False)
    table[FD + 0x8B] = _make_shift(15, sx.PSLLW_I, sx.PSLLW)
    table[FD + 0x8C] = _make_shift(15, sx.PSRAW_I, sx.PSRAW)
    table[FD + 0x8D] = _make_shift(15, sx.PSRLW_I, sx.PSRLW)
    table[FD + 0xAB] = _make_shift(31, sx.PSLLD_I, sx.PSLLD)
    table[FD + 0xAC] = _make_shift(31, sx.PSRAD_I, sx.PSRAD)
    table[FD + 0xAD] = _make_shift(31, sx.PSRLD_I, sx.PSRLD)
    table[FD + 0xCB] = _make_shift(63, sx.PSLLQ_I, sx.PSLLQ)
    table[FD + 0xCC] = visit_i64x2_shr_s
    table[FD + 0xCD] = _make_shift(63, sx.PSRLQ_I, sx.PSRLQ)
