"""SIMD visitors: integer lane arithmetic, comparisons, min/max, averages,
abs/neg, multiplications (extmul, dot, q15mulr), pairwise adds, narrowing
and widening.

SSE4.1 lacks 64-bit lane multiply, abs and signed compare (pcmpgtq is
SSE4.2) and unsigned compares at every width; those are emulated below.
"""

from __future__ import annotations

from ..isa.x64 import cpu
from ..isa.x64 import simd as sx
from ..isa.x64 import sse
from ..wasm import opcodes as op
from .simd_common import ONES, binop, binop_swapped, check_cpu, copy, op3, op3_const, op_const, push, splat_bits, vreg

FD = op.FD_BASE


def _simple(o):
    return lambda c, imm: binop(c, o)


def _swapped(o):
    return lambda c, imm: binop_swapped(c, o)


def _not(c, r):
    op_const(c, sse.PXOR, r, ONES)


# --- comparisons ----------------------------------------------------------------------

def _make_ne(eq):
    def visit(c, imm):
        binop(c, eq)
        _not(c, c.stack[-1][2])
    return visit


def _make_le_s(gt):
    """a <= b  ==  not (a > b)."""
    def visit(c, imm):
        binop(c, gt)
        _not(c, c.stack[-1][2])
    return visit


def _make_ge_s(gt):
    """a >= b  ==  not (b > a)."""
    def visit(c, imm):
        binop_swapped(c, gt)
        _not(c, c.stack[-1][2])
    return visit


def _make_unsigned(minmax, eq, negate):
    """a >= b (u) == (max(a, b) == a); a <= b (u) == (min(a, b) == a); the
    strict forms negate the other one.  Computed in b's register."""
    def visit(c, imm):
        check_cpu(c)
        b = vreg(c)
        x = vreg(c)
        c.a.sse(minmax, b, x)
        c.a.sse(eq, b, x)
        c.free |= 1 << x
        if negate:
            _not(c, b)
        push(c, b)
    return visit


def _gt_s64(c, x, y):
    """x := (x > y) per signed 64-bit lane (y kept); pcmpgtq needs SSE4.2."""
    a = c.a
    if cpu.has(cpu.SSE42):
        a.sse(sx.PCMPGTQ, x, y)
        return
    # Equal high halves: the sign of y - x (the borrow of the low halves) decides;
    # else the signed compare of the high halves.  Then broadcast the high dwords.
    eq = c.alloc_xmm()
    d = c.alloc_xmm()
    op3(c, sse.PCMPEQD, eq, x, y)
    op3(c, sse.PSUBQ, d, y, x)
    a.sse(sse.PAND, d, eq)
    a.sse(sx.PCMPGTD, x, y)
    a.sse(sse.POR, x, d)
    a.sse_imm(sse.PSHUFD, x, x, 0xF5)
    c.free |= 1 << eq | 1 << d


def _make_cmp64(swap, negate):
    def visit(c, imm):
        check_cpu(c)
        b = vreg(c)
        x = vreg(c)
        if swap:
            x, b = b, x
        _gt_s64(c, x, b)
        c.free |= 1 << b
        if negate:
            _not(c, x)
        push(c, x)
    return visit


# --- unary ----------------------------------------------------------------------------

def _make_neg(sub):
    def visit(c, imm):
        check_cpu(c)
        x = vreg(c)
        r = c.alloc_xmm()
        c.a.sse(sse.PXOR, r, r)
        c.a.sse(sub, r, x)
        c.free |= 1 << x
        push(c, r)
    return visit


def _make_unary(o):
    def visit(c, imm):
        check_cpu(c)
        x = vreg(c)
        c.a.sse(o, x, x)
        push(c, x)
    return visit


def visit_i64x2_abs(c, imm):
    check_cpu(c)
    x = vreg(c)
    s = c.alloc_xmm()
    a = c.a
    a.sse_imm(sse.PSHUFD, s, x, 0xF5)       # high dwords of each lane
    a.sse_shift_imm(sx.PSRAD_I, s, 31)      # the lane's sign, all bits
    a.sse(sse.PXOR, x, s)
    a.sse(sse.PSUBQ, x, s)
    c.free |= 1 << s
    push(c, x)


# --- multiplication ---------------------------------------------------------------------

def visit_i64x2_mul(c, imm):
    check_cpu(c)
    b = vreg(c)
    x = vreg(c)
    a = c.a
    t1 = copy(c, x)
    t2 = copy(c, b)
    a.sse_shift_imm(sx.PSRLQ_I, t1, 32)
    a.sse(sx.PMULUDQ, t1, b)                # hi(x) * lo(b)
    a.sse_shift_imm(sx.PSRLQ_I, t2, 32)
    a.sse(sx.PMULUDQ, t2, x)                # lo(x) * hi(b)
    a.sse(sse.PADDQ, t1, t2)
    a.sse_shift_imm(sx.PSLLQ_I, t1, 32)
    a.sse(sx.PMULUDQ, x, b)                 # lo(x) * lo(b)
    a.sse(sse.PADDQ, x, t1)
    c.free |= 1 << b | 1 << t1 | 1 << t2
    push(c, x)


def visit_q15mulr(c, imm):
    binop(c, sx.PMULHRSW)
    x = c.stack.pop()[2]        # owned again: allocating the temporary cannot spill it
    # 0x8000 * 0x8000 overflows to 0x8000: those lanes must saturate to 0x7fff.
    t = c.alloc_xmm()
    op3_const(c, sse.PCMPEQW, t, x, splat_bits(0x8000, 16))
    c.a.sse(sse.PXOR, x, t)
    c.free |= 1 << t
    push(c, x)


def _high_to_low(c, r):
    c.a.sse_imm(sse.PSHUFD, r, r, 0xEE)


def _make_extmul16(high, ext):
    """i16x8.extmul_*_i8x16: widen both halves, then pmullw."""
    def visit(c, imm):
        check_cpu(c)
        b = vreg(c)
        x = vreg(c)
        if high:
            _high_to_low(c, x)
            _high_to_low(c, b)
        c.a.sse(ext, x, x)
        c.a.sse(ext, b, b)
        c.a.sse(sx.PMULLW, x, b)
        c.free |= 1 << b
        push(c, x)
    return visit


def _make_extmul32(high, mulh):
    """i32x4.extmul_*_i16x8: the low and high 16 bits of each product, interleaved."""
    def visit(c, imm):
        check_cpu(c)
        b = vreg(c)
        x = vreg(c)
        lo = c.alloc_xmm()
        a = c.a
        op3(c, sx.PMULLW, lo, x, b)
        a.sse(mulh, x, b)
        a.sse(sx.PUNPCKHWD if high else sx.PUNPCKLWD, lo, x)
        c.free |= 1 << b | 1 << x
        push(c, lo)
    return visit


def _make_extmul64(high, mul):
    """i64x2.extmul_*_i32x4: lanes to dwords 0 and 2, then pmul(u)dq."""
    def visit(c, imm):
        check_cpu(c)
        b = vreg(c)
        x = vreg(c)
        sel = 0xFA if high else 0x50
        a = c.a
        a.sse_imm(sse.PSHUFD, x, x, sel)
        a.sse_imm(sse.PSHUFD, b, b, sel)
        a.sse(mul, x, b)
        c.free |= 1 << b
        push(c, x)
    return visit


# --- pairwise adds ------------------------------------------------------------------------

def visit_extadd16_s(c, imm):
    check_cpu(c)
    x = vreg(c)
    r = c.alloc_xmm()
    c.a.load_fconst(16, r, splat_bits(1, 8))
    c.a.sse(sx.PMADDUBSW, r, x)          # unsigned 1 * signed byte, pairs summed
    c.free |= 1 << x
    push(c, r)


def visit_extadd16_u(c, imm):
    check_cpu(c)
    x = vreg(c)
    op_const(c, sx.PMADDUBSW, x, splat_bits(1, 8))    # unsigned byte * signed 1
    push(c, x)


def visit_extadd32_s(c, imm):
    check_cpu(c)
    x = vreg(c)
    op_const(c, sx.PMADDWD, x, splat_bits(1, 16))
    push(c, x)


def visit_extadd32_u(c, imm):
    check_cpu(c)
    x = vreg(c)
    # Bias to signed, pmaddwd, then add back 2 * 0x8000 per pair.
    op_const(c, sse.PXOR, x, splat_bits(0x8000, 16))
    op_const(c, sx.PMADDWD, x, splat_bits(1, 16))
    op_const(c, sse.PADDD, x, splat_bits(0x10000, 32))
    push(c, x)


# --- widening ---------------------------------------------------------------------------------

def _make_extend(high, ext):
    def visit(c, imm):
        check_cpu(c)
        x = vreg(c)
        if high:
            _high_to_low(c, x)
        c.a.sse(ext, x, x)
        push(c, x)
    return visit


def register(table):
    S = _simple
    for base, (add, sub, eq, gt) in (
            (0x23, (sse.PADDB, sse.PSUBB, sse.PCMPEQB, sx.PCMPGTB)),
            (0x2D, (sse.PADDW, sse.PSUBW, sse.PCMPEQW, sx.PCMPGTW)),
            (0x37, (sse.PADDD, sse.PSUBD, sse.PCMPEQD, sx.PCMPGTD))):
        mx, mn = {0x23: (sx.PMAXUB, sx.PMINUB), 0x2D: (sx.PMAXUW, sx.PMINUW),
                  0x37: (sx.PMAXUD, sx.PMINUD)}[base]
        table[FD + base] = S(eq)
        table[FD + base + 1] = _make_ne(eq)
        table[FD + base + 2] = _swapped(gt)                       # lt_s: b > a
        table[FD + base + 3] = _make_unsigned(mx, eq, True)       # lt_u: not ge_u
        table[FD + base + 4] = S(gt)                              # gt_s
        table[FD + base + 5] = _make_unsigned(mn, eq, True)       # gt_u: not le_u
        table[FD + base + 6] = _make_le_s(gt)
        table[FD + base + 7] = _make_unsigned(mn, eq, False)      # le_u
        table[FD + base + 8] = _make_ge_s(gt)
        table[FD + base + 9] = _make_unsigned(mx, eq, False)      # ge_u
    table[FD + 0xD6] = S(sse.PCMPEQQ)
    table[FD + 0xD7] = _make_ne(sse.PCMPEQQ)
    table[FD + 0xD8] = _make_cmp64(True, False)      # lt_s
    table[FD + 0xD9] = _make_cmp64(False, False)     # gt_s
    table[FD + 0xDA] = _make_cmp64(False, True)      # le_s
    table[FD + 0xDB] = _make_cmp64(True, True)       # ge_s

    # i8x16
    table[FD + 0x60] = _make_unary(sx.PABSB)
    table[FD + 0x61] = _make_neg(sse.PSUBB)
    table[FD + 0x65] = S(sx.PACKSSWB)
    table[FD + 0x66] = S(sx.PACKUSWB)
    table[FD + 0x6E] = S(sse.PADDB)
    table[FD + 0x6F] = S(sx.PADDSB)
    table[FD + 0x70] = S(sx.PADDUSB)
    table[FD + 0x71] = S(sse.PSUBB)
    table[FD + 0x72] = S(sx.PSUBSB)
    table[FD + 0x73] = S(sx.PSUBUSB)
    table[FD + 0x76] = S(sx.PMINSB)
    table[FD + 0x77] = S(sx.PMINUB)
    table[FD + 0x78] = S(sx.PMAXSB)
    table[FD + 0x79] = S(sx.PMAXUB)
    table[FD + 0x7B] = S(sx.PAVGB)
    table[FD + 0x7C] = visit_extadd16_s
    table[FD + 0x7D] = visit_extadd16_u
    table[FD + 0x7E] = visit_extadd32_s
    table[FD + 0x7F] = visit_extadd32_u
    # i16x8
    table[FD + 0x80] = _make_unary(sx.PABSW)
    table[FD + 0x81] = _make_neg(sse.PSUBW)
    table[FD + 0x82] = visit_q15mulr
    table[FD + 0x85] = S(sx.PACKSSDW)
    table[FD + 0x86] = S(sx.PACKUSDW)
    table[FD + 0x87] = _make_extend(False, sx.PMOVSXBW)
    table[FD + 0x88] = _make_extend(True, sx.PMOVSXBW)
    table[FD + 0x89] = _make_extend(False, sx.PMOVZXBW)
    table[FD + 0x8A] = _make_extend(True, sx.PMOVZXBW)
    table[FD + 0x8E] = S(sse.PADDW)
    table[FD + 0x8F] = S(sx.PADDSW)
    table[FD + 0x90] = S(sx.PADDUSW)
    table[FD + 0x91] = S(sse.PSUBW)
    table[FD + 0x92] = S(sx.PSUBSW)
    table[FD + 0x93] = S(sx.PSUBUSW)
    table[FD + 0x95] = S(sx.PMULLW)
    table[FD + 0x96] = S(sx.PMINSW)
    table[FD + 0x97] = S(sx.PMINUW)
    table[FD + 0x98] = S(sx.PMAXSW)
    table[FD + 0x99] = S(sx.PMAXUW)
    table[FD + 0x9B] = S(sx.PAVGW)
    table[FD + 0x9C] = _make_extmul16(False, sx.PMOVSXBW)
    table[FD + 0x9D] = _make_extmul16(True, sx.PMOVSXBW)
    table[FD + 0x9E] = _make_extmul16(False, sx.PMOVZXBW)
    table[FD + 0x9F] = _make_extmul16(True, sx.PMOVZXBW)
    # i32x4
    table[FD + 0xA0] = _make_unary(sx.PABSD)
    table[FD + 0xA1] = _make_neg(sse.PSUBD)
    table[FD + 0xA7] = _make_extend(False, sx.PMOVSXWD)
    table[FD + 0xA8] = _make_extend(True, sx.PMOVSXWD)
    table[FD + 0xA9] = _make_extend(False, sx.PMOVZXWD)
    table[FD + 0xAA] = _make_extend(True, sx.PMOVZXWD)
    table[FD + 0xAE] = S(sse.PADDD)
    table[FD + 0xB1] = S(sse.PSUBD)
    table[FD + 0xB5] = S(sx.PMULLD)
    table[FD + 0xB6] = S(sx.PMINSD)
    table[FD + 0xB7] = S(sx.PMINUD)
    table[FD + 0xB8] = S(sx.PMAXSD)
    table[FD + 0xB9] = S(sx.PMAXUD)
    table[FD + 0xBA] = S(sx.PMADDWD)
    table[FD + 0xBC] = _make_extmul32(False, sx.PMULHW)
    table[FD + 0xBD] = _make_extmul32(True, sx.PMULHW)
    table[FD + 0xBE] = _make_extmul32(False, sx.PMULHUW)
    table[FD + 0xBF] = _make_extmul32(True, sx.PMULHUW)
    # i64x2
    table[FD + 0xC0] = visit_i64x2_abs
    table[FD + 0xC1] = _make_neg(sse.PSUBQ)
    table[FD + 0xC7] = _make_extend(False, sx.PMOVSXDQ)
    table[FD + 0xC8] = _make_extend(True, sx.PMOVSXDQ)
    table[FD + 0xC9] = _make_extend(False, sx.PMOVZXDQ)
    table[FD + 0xCA] = _make_extend(True, sx.PMOVZXDQ)
    table[FD + 0xCE] = S(sse.PADDQ)
    table[FD + 0xD1] = S(sse.PSUBQ)
    table[FD + 0xD5] = visit_i64x2_mul
    table[FD + 0xDC] = _make_extmul64(False, sx.PMULDQ)
    table[FD + 0xDD] = _make_extmul64(True, sx.PMULDQ)
    table[FD + 0xDE] = _make_extmul64(False, sx.PMULUDQ)
    table[FD + 0xDF] = _make_extmul64(True, sx.PMULUDQ)
