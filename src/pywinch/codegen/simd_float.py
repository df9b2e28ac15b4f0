"""SIMD visitors: f32x4/f64x2 arithmetic, comparisons, min/max (Wasm NaN and
signed-zero rules), pmin/pmax, rounding, and every conversion between
float and integer lanes (trunc_sat, convert, demote, promote).

The min/max and unsigned conversion sequences are the classic SSE ones
(as in Cranelift's x64 backend), reasoned out in the comments.
"""

from __future__ import annotations

from ..isa.x64 import simd as sx
from ..isa.x64 import sse
from ..wasm import opcodes as op
from .simd_common import ONES, binop, binop_swapped, check_cpu, op3, op_const, push, splat_bits, vreg

FD = op.FD_BASE

_F32_SIGN = splat_bits(0x80000000, 32)
_F64_SIGN = splat_bits(1 << 63, 64)


def _simple(o):
    return lambda c, imm: binop(c, o)


def _make_unary(fn):
    def visit(c, imm):
        check_cpu(c)
        x = vreg(c)
        fn(c, x)
        push(c, x)
    return visit


def _make_cmp(cmp, pred, swap):
    def visit(c, imm):
        check_cpu(c)
        b = vreg(c)
        x = vreg(c)
        if swap:
            x, b = b, x
        c.a.sse_imm(cmp, x, b, pred)
        c.free |= 1 << b
        push(c, x)
    return visit


def _make_min(mn, cmp, orp, andn, psrl, nan_shift):
    """min(a, b): minps returns its second operand when either is NaN or both
    are zero, so min(a,b) | min(b,a) gives -0 for {-0, +0} and a NaN when one
    is NaN; NaN lanes are then made canonical (payload cleared)."""
    def visit(c, imm):
        check_cpu(c)
        b = vreg(c)
        x = vreg(c)
        a = c.a
        t = c.alloc_xmm()
        op3(c, mn, t, x, b)         # t = min(a, b)
        a.sse(mn, b, x)             # b = min(b, a)
        a.sse(orp, b, t)
        op3(c, cmp, t, b, b, sse.CMP_UNORD)
        a.sse(orp, b, t)            # NaN lanes: all ones
        a.sse_shift_imm(psrl, t, nan_shift)
        a.sse(andn, t, b)           # clear the payload below the quiet bit
        c.free |= 1 << x | 1 << b
        push(c, t)
    return visit


def _make_max(mx, cmp, xorp, orp, sub, andn, psrl, nan_shift):
    """max(a, b): max(a,b) ^ max(b,a) is the sign bit for {-0, +0} (and NaN
    bits); or-ing it in then subtracting it turns -0 into +0 and keeps NaNs;
    NaN lanes are made canonical."""
    def visit(c, imm):
        check_cpu(c)
        b = vreg(c)
        x = vreg(c)
        a = c.a
        t = c.alloc_xmm()
        op3(c, mx, t, x, b)         # t = max(a, b)
        a.sse(mx, b, x)             # b = max(b, a)
        a.sse(xorp, b, t)           # b = the differing bits
        a.sse(orp, t, b)
        a.sse(sub, t, b)
        op3(c, cmp, b, t, t, sse.CMP_UNORD)
        a.sse_shift_imm(psrl, b, nan_shift)
        a.sse(andn, b, t)
        c.free |= 1 << x | 1 << t
        push(c, b)
    return visit


def _round(rop, mode):
    return _make_unary(lambda c, x: c.a.sse_imm(rop, x, x, mode))


# --- conversions ----------------------------------------------------------------------

def visit_trunc_sat_f32_s(c, imm):
    check_cpu(c)
    x = vreg(c)
    t = c.alloc_xmm()
    a = c.a
    op3(c, sse.CMPPS, t, x, x, sse.CMP_EQ)   # t = not-NaN lanes
    a.sse(sse.ANDPS, x, t)                   # NaN -> 0
    a.sse(sse.PXOR, t, x)                    # sign bit of t: x >= 0
    a.sse(sx.CVTTPS2DQ, x, x)                # out of range -> 0x80000000
    a.sse(sse.PAND, t, x)                    # sign set: x >= 0 but the result is negative
    a.sse_shift_imm(sx.PSRAD_I, t, 31)
    a.sse(sse.PXOR, x, t)                    # those become 0x7fffffff
    c.free |= 1 << t
    push(c, x)


def visit_trunc_sat_f32_u(c, imm):
    check_cpu(c)
    x = vreg(c)
    t1 = c.alloc_xmm()
    t2 = c.alloc_xmm()
    a = c.a
    a.sse(sse.XORPS, t1, t1)
    a.sse(sse.MAXPS, x, t1)                  # NaN and negatives -> 0
    a.load_fconst(16, t1, splat_bits(0x4F000000, 32))   # 2^31
    a.movaps(t2, x)
    a.sse(sx.CVTTPS2DQ, t2, t2)              # below 2^31: the result; above: 0x80000000
    a.sse(sse.SUBPS, x, t1)                  # x - 2^31
    a.sse_imm(sse.CMPPS, t1, x, sse.CMP_LE)  # x >= 2^32: overflow lanes
    a.sse(sx.CVTTPS2DQ, x, x)
    a.sse(sse.PXOR, x, t1)                   # overflow -> 0x7fffffff
    a.sse(sse.PXOR, t1, t1)
    a.sse(sx.PMAXSD, x, t1)                  # x < 2^31: the high part is 0
    a.sse(sse.PADDD, x, t2)
    c.free |= 1 << t1 | 1 << t2
    push(c, x)


def visit_convert_i32_u(c, imm):
    check_cpu(c)
    x = vreg(c)
    lo = c.alloc_xmm()
    a = c.a
    # Low 16 bits convert exactly; the high part halved converts exactly too;
    # the final add rounds once.
    a.movaps(lo, x)
    a.sse_shift_imm(sx.PSLLD_I, lo, 16)
    a.sse_shift_imm(sx.PSRLD_I, lo, 16)
    a.sse(sse.PSUBD, x, lo)
    a.sse(sx.CVTDQ2PS, lo, lo)
    a.sse_shift_imm(sx.PSRLD_I, x, 1)
    a.sse(sx.CVTDQ2PS, x, x)
    a.sse(sse.ADDPS, x, x)
    a.sse(sse.ADDPS, x, lo)
    c.free |= 1 << lo
    push(c, x)


def visit_trunc_sat_f64_s_zero(c, imm):
    check_cpu(c)
    x = vreg(c)
    t = c.alloc_xmm()
    a = c.a
    op3(c, sse.CMPPD, t, x, x, sse.CMP_EQ)   # not-NaN lanes
    op_const(c, sse.ANDPD, t, splat_bits(0x41DFFFFFFFC00000, 64))   # 2147483647.0 there, else 0
    a.sse(sse.MINPD, x, t)                   # clamp high; NaN -> 0 (minpd returns t)
    a.sse(sx.CVTTPD2DQ, x, x)                # low out of range -> INT_MIN; upper lanes 0
    c.free |= 1 << t
    push(c, x)


def visit_trunc_sat_f64_u_zero(c, imm):
    check_cpu(c)
    x = vreg(c)
    z = c.alloc_xmm()
    a = c.a
    a.sse(sse.XORPD, z, z)
    a.sse(sse.MAXPD, x, z)                   # NaN and negatives -> 0
    op_const(c, sse.MINPD, x, splat_bits(0x41EFFFFFFFE00000, 64))   # 4294967295.0
    a.sse_imm(sse.ROUNDPD, x, x, sse.ROUND_TRUNC)
    op_const(c, sse.ADDPD, x, splat_bits(0x4330000000000000, 64))   # 2^52: the integer in the low dword
    a.sse_imm(sse.SHUFPS, x, z, 0x88)        # dwords 0 and 2, then zeros
    c.free |= 1 << z
    push(c, x)


def visit_convert_low_u(c, imm):
    check_cpu(c)
    x = vreg(c)
    # Each u32 under the exponent of 2^52 is the double 2^52 + u; subtract 2^52.
    op_const(c, sse.UNPCKLPS, x, splat_bits(0x43300000, 32))
    op_const(c, sse.SUBPD, x, splat_bits(0x4330000000000000, 64))
    push(c, x)


def _conv(o):
    return _make_unary(lambda c, x: c.a.sse(o, x, x))


def register(table):
    S = _simple
    for base, cmp in ((0x41, sse.CMPPS), (0x47, sse.CMPPD)):
        table[FD + base] = _make_cmp(cmp, sse.CMP_EQ, False)
        table[FD + base + 1] = _make_cmp(cmp, sse.CMP_NEQ, False)
        table[FD + base + 2] = _make_cmp(cmp, sse.CMP_LT, False)
        table[FD + base + 3] = _make_cmp(cmp, sse.CMP_LT, True)
        table[FD + base + 4] = _make_cmp(cmp, sse.CMP_LE, False)
        table[FD + base + 5] = _make_cmp(cmp, sse.CMP_LE, True)
    # f32x4
    table[FD + 0x67] = _round(sse.ROUNDPS, sse.ROUND_CEIL)
    table[FD + 0x68] = _round(sse.ROUNDPS, sse.ROUND_FLOOR)
    table[FD + 0x69] = _round(sse.ROUNDPS, sse.ROUND_TRUNC)
    table[FD + 0x6A] = _round(sse.ROUNDPS, sse.ROUND_NEAREST)
    table[FD + 0xE0] = _make_unary(lambda c, x: op_const(c, sse.ANDPS, x, _F32_SIGN ^ ONES))
    table[FD + 0xE1] = _make_unary(lambda c, x: op_const(c, sse.XORPS, x, _F32_SIGN))
    table[FD + 0xE3] = _conv(sse.SQRTPS)
    table[FD + 0xE4] = S(sse.ADDPS)
    table[FD + 0xE5] = S(sse.SUBPS)
    table[FD + 0xE6] = S(sse.MULPS)
    table[FD + 0xE7] = S(sse.DIVPS)
    table[FD + 0xE8] = _make_min(sse.MINPS, sse.CMPPS, sse.ORPS, sse.ANDNPS, sx.PSRLD_I, 10)
    table[FD + 0xE9] = _make_max(sse.MAXPS, sse.CMPPS, sse.XORPS, sse.ORPS, sse.SUBPS, sse.ANDNPS,
                                 sx.PSRLD_I, 10)
    table[FD + 0xEA] = lambda c, imm: binop_swapped(c, sse.MINPS)   # pmin: b < a ? b : a
    table[FD + 0xEB] = lambda c, imm: binop_swapped(c, sse.MAXPS)   # pmax: a < b ? b : a
    # f64x2
    table[FD + 0x74] = _round(sse.ROUNDPD, sse.ROUND_CEIL)
    table[FD + 0x75] = _round(sse.ROUNDPD, sse.ROUND_FLOOR)
    table[FD + 0x7A] = _round(sse.ROUNDPD, sse.ROUND_TRUNC)
    table[FD + 0x94] = _round(sse.ROUNDPD, sse.ROUND_NEAREST)
    table[FD + 0xEC] = _make_unary(lambda c, x: op_const(c, sse.ANDPD, x, _F64_SIGN ^ ONES))
    table[FD + 0xED] = _make_unary(lambda c, x: op_const(c, sse.XORPD, x, _F64_SIGN))
    table[FD + 0xEF] = _conv(sse.SQRTPD)
    table[FD + 0xF0] = S(sse.ADDPD)
    table[FD + 0xF1] = S(sse.SUBPD)
    table[FD + 0xF2] = S(sse.MULPD)
    table[FD + 0xF3] = S(sse.DIVPD)
    table[FD + 0xF4] = _make_min(sse.MINPD, sse.CMPPD, sse.ORPD, sse.ANDNPD, sx.PSRLQ_I, 13)
    table[FD + 0xF5] = _make_max(sse.MAXPD, sse.CMPPD, sse.XORPD, sse.ORPD, sse.SUBPD, sse.ANDNPD,
                                 sx.PSRLQ_I, 13)
    table[FD + 0xF6] = lambda c, imm: binop_swapped(c, sse.MINPD)
    table[FD + 0xF7] = lambda c, imm: binop_swapped(c, sse.MAXPD)
    # conversions
    table[FD + 0x5E] = _conv(sx.CVTPD2PS)
    table[FD + 0x5F] = _conv(sx.CVTPS2PD)
    table[FD + 0xF8] = visit_trunc_sat_f32_s
    table[FD + 0xF9] = visit_trunc_sat_f32_u
    table[FD + 0xFA] = _conv(sx.CVTDQ2PS)
    table[FD + 0xFB] = visit_convert_i32_u
    table[FD + 0xFC] = visit_trunc_sat_f64_s_zero
    table[FD + 0xFD] = visit_trunc_sat_f64_u_zero
    table[FD + 0xFE] = _conv(sx.CVTDQ2PD)
    table[FD + 0xFF] = visit_convert_low_u
