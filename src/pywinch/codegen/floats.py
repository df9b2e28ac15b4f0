"""Float operators: f32/f64 arithmetic, min/max (NaN and -0.0 rules),
rounding, sqrt, abs/neg/copysign, comparisons.

Uses the FuncCompiler interface only (see context.py).
"""

from __future__ import annotations

from ..errors import UnsupportedError
from ..isa.x64 import cpu
from ..isa.x64 import sse
from ..wasm.types import F32, F64, I32
from .context import K_CONST, K_REG, TSIZE

_OPS = {
    F32: {"add": sse.ADDSS, "sub": sse.SUBSS, "mul": sse.MULSS, "div": sse.DIVSS, "min": sse.MINSS,
          "max": sse.MAXSS, "sqrt": sse.SQRTSS, "ucomi": sse.UCOMISS, "and": sse.ANDPS, "or": sse.ORPS,
          "round": sse.ROUNDSS},
    F64: {"add": sse.ADDSD, "sub": sse.SUBSD, "mul": sse.MULSD, "div": sse.DIVSD, "min": sse.MINSD,
          "max": sse.MAXSD, "sqrt": sse.SQRTSD, "ucomi": sse.UCOMISD, "and": sse.ANDPD, "or": sse.ORPD,
          "round": sse.ROUNDSD},
}


def _pop_xmm_or_mem(c):
    """Pop a float operand: ``(reg, 0)`` in a register the caller frees, ``(-1, disp)``
    for a local read straight from its frame slot, or ``(-2, label)`` for a
    constant read from the constant pool."""
    e = c.stack[-1]
    if e[0] == 2:       # K_LOCAL
        c.stack.pop()
        return -1, c.local_disp(e[2])
    if e[0] == K_CONST:
        c.stack.pop()
        a = c.a
        return -2, (a.const_u32(e[2]) if e[1] == F32 else a.const_u64(e[2]))
    return c.pop_reg(), 0


def _make_arith(t, name):
    o = _OPS[t][name]

    def visit(c, imm):
        rb, disp = _pop_xmm_or_mem(c)
        ra = c.pop_reg()
        if rb == -1:
            c.a.sse_m(o, ra, c.fp, disp)
        elif rb == -2:
            c.a.sse_m(o, ra, c.cc.RIP, disp)
        else:
            c.a.sse(o, ra, rb)
            c.free |= 1 << rb
        c.stack.append((K_REG, t, ra))
    return visit


def _make_minmax(t, is_min):
    ops = _OPS[t]
    mm = ops["min"] if is_min else ops["max"]
    ucomi = ops["ucomi"]
    # Equal operands: min takes the OR of the sign bits (-0 wins), max the AND.
    merge = ops["or"] if is_min else ops["and"]
    add = ops["add"]

    def visit(c, imm):
        a = c.a
        cc = c.cc
        rb = c.pop_reg()
        ra = c.pop_reg()
        nan = a.new_label()
        ne = a.new_label()
        done = a.new_label()
        a.sse(ucomi, ra, rb)
        a.jcc(cc.CC_P, nan)
        a.jcc(cc.CC_NE, ne)
        a.sse(merge, ra, rb)
        a.jmp(done)
        a.bind(nan)
        a.sse(add, ra, rb)        # a NaN operand: the sum is a quiet NaN
        a.jmp(done)
        a.bind(ne)
        a.sse(mm, ra, rb)
        a.bind(done)
        c.free |= 1 << rb
        c.stack.append((K_REG, t, ra))
    return visit


def _make_round(t, mode):
    o = _OPS[t]["round"]

    def visit(c, imm):
        if not cpu.has(cpu.SSE41):
            raise UnsupportedError("float rounding without SSE4.1 is not supported yet")
        r = c.pop_reg()
        c.a.sse_imm(o, r, r, mode | 8)   # 8: do not signal inexact
        c.stack.append((K_REG, t, r))
    return visit


def _make_sqrt(t):
    o = _OPS[t]["sqrt"]

    def visit(c, imm):
        r = c.pop_reg()
        c.a.sse(o, r, r)
        c.stack.append((K_REG, t, r))
    return visit


def _make_sign(t, kind):
    """abs, neg, copysign through the scratch GPR (bit operations on the raw bits)."""
    size = TSIZE[t]
    sign_bit = 8 * size - 1
    mask = (1 << (8 * size)) - 1

    def visit(c, imm):
        a = c.a
        s = c.scratch
        e = c.stack[-1]
        if kind != "copysign" and e[0] == K_CONST:
            v = e[2]
            v = v & ~(1 << sign_bit) if kind == "abs" else v ^ (1 << sign_bit)
            c.stack[-1] = (K_CONST, t, v & mask)
            return
        if kind == "copysign":
            rb = c.pop_reg()
            ra = c.pop_reg()
            g = c.alloc_gpr()
            mov = a.movd if size == 4 else a.movq
            mov(s, ra)
            mov(g, rb)
            a.shift_ri(7, size, g, sign_bit)        # sar: all ones if negative
            a.shift_ri(4, size, g, sign_bit)        # shl: only the sign bit left
            a.shift_ri(4, size, s, 1)               # shl 1 then shr 1 clears the sign
            a.shift_ri(5, size, s, 1)
            a.alu_rr(1, size, s, g)
            mov(ra, s)
            c.free |= 1 << g
            c.free |= 1 << rb
            c.stack.append((K_REG, t, ra))
            return
        r = c.pop_reg()
        mov = a.movd if size == 4 else a.movq
        mov(s, r)
        if kind == "abs":
            a.shift_ri(4, size, s, 1)
            a.shift_ri(5, size, s, 1)
        else:
            if size == 4:
                a.alu_ri(6, 4, s, -0x80000000)
            else:
                g = c.alloc_gpr()
                a.mov_ri(8, g, 1 << 63)
                a.alu_rr(6, 8, s, g)
                c.free |= 1 << g
        mov(r, s)
        c.stack.append((K_REG, t, r))
    return visit


def _make_compare(t, kind):
    ucomi = _OPS[t]["ucomi"]

    def visit(c, imm):
        a = c.a
        cc = c.cc
        rb = c.pop_reg()
        ra = c.pop_reg()
        if kind in ("gt", "ge"):
            a.sse(ucomi, ra, rb)
            cond = cc.CC_A if kind == "gt" else cc.CC_AE
        elif kind in ("lt", "le"):
            a.sse(ucomi, rb, ra)
            cond = cc.CC_A if kind == "lt" else cc.CC_AE
        else:
            a.sse(ucomi, ra, rb)
            c.free |= 1 << ra
            c.free |= 1 << rb
            r = c.alloc_gpr()
            s = c.scratch
            if kind == "eq":
                a.setcc(cc.CC_E, r)
                a.setcc(cc.CC_NP, s)
                a.alu_rr(4, 1, r, s)
            else:
                a.setcc(cc.CC_NE, r)
                a.setcc(cc.CC_P, s)
                a.alu_rr(1, 1, r, s)
            a.movzx_rr(1, r, r)
            c.stack.append((K_REG, I32, r))
            return
        c.free |= 1 << ra
        c.free |= 1 << rb
        c.stack.append((4, I32, cond))     # K_CMP
        c.flags_live = True
    return visit


def register(table):
    for t, unary, binary, cmp in ((F32, 0x8B, 0x92, 0x5B), (F64, 0x99, 0xA0, 0x61)):
        for i, kind in enumerate(("eq", "ne", "lt", "gt", "le", "ge")):
            table[cmp + i] = _make_compare(t, kind)
        table[unary] = _make_sign(t, "abs")
        table[unary + 1] = _make_sign(t, "neg")
        table[unary + 2] = _make_round(t, 2)     # ceil
        table[unary + 3] = _make_round(t, 1)     # floor
        table[unary + 4] = _make_round(t, 3)     # trunc
        table[unary + 5] = _make_round(t, 0)     # nearest
        table[unary + 6] = _make_sqrt(t)
        table[binary] = _make_arith(t, "add")
        table[binary + 1] = _make_arith(t, "sub")
        table[binary + 2] = _make_arith(t, "mul")
        table[binary + 3] = _make_arith(t, "div")
        table[binary + 4] = _make_minmax(t, True)
        table[binary + 5] = _make_minmax(t, False)
        table[binary + 6] = _make_sign(t, "copysign")
