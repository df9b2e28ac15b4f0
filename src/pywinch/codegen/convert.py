"""Conversions between floats and integers: trapping and saturating
truncations, int-to-float (signed and unsigned), demote/promote,
reinterpretations.

Uses the FuncCompiler interface only (see context.py).
"""

from __future__ import annotations

from ..errors import TrapCode
from ..isa.x64 import sse
from ..wasm import opcodes as op
from ..wasm.types import F32, F64, I32, I64
from .context import K_CONST, K_REG, TSIZE

CMP, XOR, AND, OR = 7, 6, 4, 1
SHR = 5

# Lower bound per (float type, int size) for signed truncation, and whether
# the bound itself is valid (x >= lo) or not (x > lo).
_LOWER = {
    (F32, 4): (0xCF000000, True),               # -2^31
    (F64, 4): (0xC1E0000000200000, False),      # -2147483649.0
    (F32, 8): (0xDF000000, True),               # -2^63
    (F64, 8): (0xC3E0000000000000, True),       # -2^63
}
_TWO63 = {F32: 0x5F000000, F64: 0x43E0000000000000}


def _ops(a, ft):
    if ft == F32:
        return a.cvttss2si, sse.UCOMISS, sse.SUBSS
    return a.cvttsd2si, sse.UCOMISD, sse.SUBSD


def _make_trunc_s(ft, it, sat):
    isz = TSIZE[it]
    fsz = TSIZE[ft]
    lo_bits, lo_inclusive = _LOWER[(ft, isz)]

    def visit(c, imm):
        a = c.a
        cc = c.cc
        x = c.pop_reg()
        r = c.alloc_gpr()
        t = c.alloc_xmm()           # before any branch: allocation may spill
        cvtt, ucomi, _sub = _ops(a, ft)
        done = a.new_label()
        cvtt(isz, r, x)
        a.alu_ri(CMP, isz, r, 1)
        a.jcc(cc.CC_NO, done)                      # not the 0x80..0 sentinel
        a.sse(ucomi, x, x)
        if sat:
            zero = a.new_label()
            a.jcc(cc.CC_P, zero)
            a.xorps(t, t)
            a.sse(ucomi, x, t)
            a.jcc(cc.CC_BE, done)                  # negative overflow: the sentinel is INT_MIN
            a.mov_ri(isz, r, (1 << (8 * isz - 1)) - 1)
            a.jmp(done)
            a.bind(zero)
            a.mov_ri(4, r, 0)
        else:
            c.trap_if(cc.CC_P, TrapCode.BAD_CONVERSION_TO_INTEGER)
            a.load_fconst(fsz, t, lo_bits)
            a.sse(ucomi, x, t)
            c.trap_if(cc.CC_B if lo_inclusive else cc.CC_BE, TrapCode.INTEGER_OVERFLOW)
            a.xorps(t, t)
            a.sse(ucomi, x, t)
            c.trap_if(cc.CC_A, TrapCode.INTEGER_OVERFLOW)
        a.bind(done)
        c.free |= 1 << t
        c.free |= 1 << x
        c.stack.append((K_REG, it, r))
    return visit


def _make_trunc_u32(ft, sat):
    def visit(c, imm):
        a = c.a
        cc = c.cc
        s = c.scratch
        x = c.pop_reg()
        r = c.alloc_gpr()
        t = c.alloc_xmm()           # before any branch: allocation may spill
        cvtt, ucomi, _sub = _ops(a, ft)
        if not sat:
            a.sse(ucomi, x, x)
            c.trap_if(cc.CC_P, TrapCode.BAD_CONVERSION_TO_INTEGER)
            cvtt(8, r, x)
            a.mov_rr(8, s, r)
            a.shift_ri(SHR, 8, s, 32)
            c.trap_if(cc.CC_NE, TrapCode.INTEGER_OVERFLOW)
        else:
            done = a.new_label()
            neg = a.new_label()
            zero = a.new_label()
            cvtt(8, r, x)
            a.sse(ucomi, x, x)
            a.jcc(cc.CC_P, zero)
            a.test_rr(8, r, r)
            a.jcc(cc.CC_S, neg)
            a.mov_ri(4, s, 0xFFFFFFFF)
            a.alu_rr(CMP, 8, r, s)
            a.cmov(cc.CC_A, 8, r, s)
            a.jmp(done)
            a.bind(neg)
            a.xorps(t, t)
            a.sse(ucomi, x, t)
            a.mov_ri(4, r, 0xFFFFFFFF)
            a.jcc(cc.CC_A, done)
            a.bind(zero)
            a.mov_ri(4, r, 0)
            a.bind(done)
        c.free |= 1 << t
        c.free |= 1 << x
        c.stack.append((K_REG, I32, r))
    return visit


def _make_trunc_u64(ft, sat):
    fsz = TSIZE[ft]

    def visit(c, imm):
        a = c.a
        cc = c.cc
        s = c.scratch
        x = c.pop_reg()
        r = c.alloc_gpr()
        t = c.alloc_xmm()
        cvtt, ucomi, sub = _ops(a, ft)
        done = a.new_label()
        big = a.new_label()
        a.sse(ucomi, x, x)
        if sat:
            zero = a.new_label()
            a.jcc(cc.CC_P, zero)
        else:
            c.trap_if(cc.CC_P, TrapCode.BAD_CONVERSION_TO_INTEGER)
        a.load_fconst(fsz, t, _TWO63[ft])
        a.sse(ucomi, x, t)
        a.jcc(cc.CC_AE, big)
        cvtt(8, r, x)
        a.test_rr(8, r, r)
        if sat:
            a.jcc(cc.CC_NS, done)
            a.bind(zero)
            a.mov_ri(4, r, 0)
            a.jmp(done)
        else:
            c.trap_if(cc.CC_S, TrapCode.INTEGER_OVERFLOW)
            a.jmp(done)
        a.bind(big)
        a.sse(sub, x, t)
        cvtt(8, r, x)
        a.test_rr(8, r, r)
        if sat:
            mx = a.new_label()
            a.jcc(cc.CC_S, mx)
            a.mov_ri(8, s, 1 << 63)
            a.alu_rr(XOR, 8, r, s)
            a.jmp(done)
            a.bind(mx)
            a.mov_ri(8, r, 0xFFFFFFFFFFFFFFFF)
        else:
            c.trap_if(cc.CC_S, TrapCode.INTEGER_OVERFLOW)
            a.mov_ri(8, s, 1 << 63)
            a.alu_rr(XOR, 8, r, s)
        a.bind(done)
        c.free |= 1 << t
        c.free |= 1 << x
        c.stack.append((K_REG, I64, r))
    return visit


def _make_convert(it, ft, signed):
    isz = TSIZE[it]

    def visit(c, imm):
        a = c.a
        r = c.pop_reg()
        x = c.alloc_xmm()
        cvt = a.cvtsi2ss if ft == F32 else a.cvtsi2sd
        a.xorps(x, x)              # break the dependency on x's old value
        if signed:
            cvt(isz, x, r)
        elif isz == 4:
            cvt(8, x, r)           # zero-extended i32 is a non-negative i64
        else:
            s = c.scratch
            cc = c.cc
            big = a.new_label()
            done = a.new_label()
            a.test_rr(8, r, r)
            a.jcc(cc.CC_S, big)
            cvt(8, x, r)
            a.jmp(done)
            a.bind(big)
            # Halve with the low bit kept sticky, convert, double: correctly rounded.
            a.mov_rr(8, s, r)
            a.shift_ri(SHR, 8, s, 1)
            a.alu_ri(AND, 8, r, 1)
            a.alu_rr(OR, 8, s, r)
            cvt(8, x, s)
            a.sse(sse.ADDSS if ft == F32 else sse.ADDSD, x, x)
            a.bind(done)
        c.free |= 1 << r
        c.stack.append((K_REG, ft, x))
    return visit


def _make_fconv(ft_from, ft_to):
    def visit(c, imm):
        r = c.pop_reg()
        c.a.sse(sse.CVTSD2SS if ft_to == F32 else sse.CVTSS2SD, r, r)
        c.stack.append((K_REG, ft_to, r))
    return visit


def _make_reinterpret(t_to):
    size = TSIZE[t_to]

    def visit(c, imm):
        e = c.stack[-1]
        if e[0] != K_REG:
            # Constants, locals and spilled values hold the raw bits already.
            c.stack[-1] = (e[0], t_to, e[2])
            return
        c.stack.pop()
        src = e[2]
        dst = c.alloc(t_to)
        (c.a.movd if size == 4 else c.a.movq)(dst, src)
        c.free |= 1 << src
        c.stack.append((K_REG, t_to, dst))
    return visit


def register(table):
    table[0xA8] = _make_trunc_s(F32, I32, False)
    table[0xA9] = _make_trunc_u32(F32, False)
    table[0xAA] = _make_trunc_s(F64, I32, False)
    table[0xAB] = _make_trunc_u32(F64, False)
    table[0xAE] = _make_trunc_s(F32, I64, False)
    table[0xAF] = _make_trunc_u64(F32, False)
    table[0xB0] = _make_trunc_s(F64, I64, False)
    table[0xB1] = _make_trunc_u64(F64, False)
    table[0xB2] = _make_convert(I32, F32, True)
    table[0xB3] = _make_convert(I32, F32, False)
    table[0xB4] = _make_convert(I64, F32, True)
    table[0xB5] = _make_convert(I64, F32, False)
    table[0xB6] = _make_fconv(F64, F32)
    table[0xB7] = _make_convert(I32, F64, True)
    table[0xB8] = _make_convert(I32, F64, False)
    table[0xB9] = _make_convert(I64, F64, True)
    table[0xBA] = _make_convert(I64, F64, False)
    table[0xBB] = _make_fconv(F32, F64)
    table[0xBC] = _make_reinterpret(I32)
    table[0xBD] = _make_reinterpret(I64)
    table[0xBE] = _make_reinterpret(F32)
    table[0xBF] = _make_reinterpret(F64)
    fc = op.FC_BASE
    table[fc + 0] = _make_trunc_s(F32, I32, True)
    table[fc + 1] = _make_trunc_u32(F32, True)
    table[fc + 2] = _make_trunc_s(F64, I32, True)
    table[fc + 3] = _make_trunc_u32(F64, True)
    table[fc + 4] = _make_trunc_s(F32, I64, True)
    table[fc + 5] = _make_trunc_u64(F32, True)
    table[fc + 6] = _make_trunc_s(F64, I64, True)
    table[fc + 7] = _make_trunc_u64(F64, True)
