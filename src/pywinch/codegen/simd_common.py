"""Shared helpers of the SIMD (v128) visitors (simd_mem, simd_int, simd_float,
simd_bits).

A v128 on the value stack is an ordinary entry of type V128: a constant
(128-bit ``bits``), an XMM register, a lazy local read or a 16-byte frame
slot (context.py).  Lowerings target SSE4.1 (with SSSE3), the x86-64 level
every SIMD visitor assumes; :func:`check_cpu` refuses to compile SIMD code
on an older CPU rather than emit instructions that would fault.

Packed SSE instructions with a memory operand need 16-byte alignment: only
constant-pool operands (always aligned) are used that way; other operands are
loaded into registers with unaligned moves.  With AVX the VEX forms are used
where they save an instruction: three operands (no copy before a destructive
operation) and unaligned memory operands (a v128 local read in place).
"""

from __future__ import annotations

from ..errors import UnsupportedError
from ..isa.x64 import cpu
from ..isa.x64 import simd as sx
from ..isa.x64 import sse
from ..isa.x64.simd import VEX_IDS
from ..wasm.types import V128
from .context import K_CONST, K_LOCAL, K_REG

ONES = (1 << 128) - 1


def splat_bits(value, width):
    """The 128-bit pattern of ``value`` repeated in every ``width``-bit lane."""
    value &= (1 << width) - 1
    bits = 0
    for i in range(128 // width):
        bits |= value << (i * width)
    return bits


def check_cpu(c):
    """SSSE3 and SSE4.1 are required (checked once per module)."""
    mc = c.mc
    ok = mc.__dict__.get("simd_cpu_ok")
    if ok is None:
        ok = mc.simd_cpu_ok = cpu.has(cpu.SSSE3) and cpu.has(cpu.SSE41)
        mc.simd_avx = cpu.has(cpu.AVX)
    if not ok:
        raise UnsupportedError("SIMD (v128) instructions without SSSE3 and SSE4.1 are not supported yet")


def vreg(c):
    """Pop the top v128 into an XMM register the caller owns."""
    return c.pop_reg()


def push(c, r):
    c.stack.append((K_REG, V128, r))


def op_const(c, op, dst, bits):
    """``op dst, [rip + const]``."""
    c.a.sse_m(op, dst, c.cc.RIP, c.a.const_u128(bits))


def apply(c, op, dst, e):
    """``op dst, <popped entry e>`` (a register entry is freed, a constant is read
    from the constant pool, anything else is loaded first)."""
    k = e[0]
    if k == K_REG:
        c.a.sse(op, dst, e[2])
        c.free |= 1 << e[2]
    elif k == K_CONST:
        c.a.sse_m(op, dst, c.cc.RIP, c.a.const_u128(e[2]))
    elif k == K_LOCAL and c.mc.simd_avx and id(op) in VEX_IDS:
        c.a.vex_m(op, dst, dst, c.fp, c.local_disp(e[2]))
    else:
        r = c.to_reg(e)
        c.a.sse(op, dst, r)
        c.free |= 1 << r


# Operations whose operands commute (float min/max do not: NaN and -0 order).
_COMMUTATIVE = frozenset(id(o) for o in (
    sse.PAND, sse.POR, sse.PXOR, sse.ANDPS, sse.ORPS, sse.XORPS, sse.ANDPD, sse.ORPD, sse.XORPD,
    sse.PADDB, sse.PADDW, sse.PADDD, sse.PADDQ, sse.PCMPEQB, sse.PCMPEQW, sse.PCMPEQD, sse.PCMPEQQ,
    sse.ADDPS, sse.ADDPD, sse.MULPS, sse.MULPD,
    sx.PADDSB, sx.PADDSW, sx.PADDUSB, sx.PADDUSW, sx.PMULLW, sx.PMULLD, sx.PMULHW, sx.PMULHUW, sx.PMULUDQ,
    sx.PMULDQ, sx.PMADDWD, sx.PMULHRSW, sx.PMINSB, sx.PMINSW, sx.PMINSD, sx.PMINUB, sx.PMINUW, sx.PMINUD,
    sx.PMAXSB, sx.PMAXSW, sx.PMAXSD, sx.PMAXUB, sx.PMAXUW, sx.PMAXUD, sx.PAVGB, sx.PAVGW))


def binop(c, op):
    """``a op b`` with the result in a's register (or in b's, when the operation
    commutes and only b is in a register: a is then read from memory)."""
    check_cpu(c)
    stack = c.stack
    if (id(op) in _COMMUTATIVE and stack[-1][0] == K_REG and (stack[-2][0] == K_CONST or (
            stack[-2][0] == K_LOCAL and c.mc.simd_avx))):
        binop_swapped(c, op)
        return
    e = c.pop_operand()
    dst = c.pop_reg()
    apply(c, op, dst, e)
    push(c, dst)


def binop_swapped(c, op):
    """``b op a`` (for ``andnot`` and the reversed comparisons)."""
    check_cpu(c)
    b = c.pop_reg()
    e = c.pop_operand()
    apply(c, op, b, e)
    push(c, b)


def op3(c, op, dst, src1, src2, imm=None):
    """``dst = src1 op src2`` (a copy then the SSE form, or one VEX instruction)."""
    a = c.a
    if c.mc.simd_avx:
        a.vex(op, dst, src1, src2, imm)
        return
    if dst != src1:
        a.movaps(dst, src1)
    if imm is None:
        a.sse(op, dst, src2)
    else:
        a.sse_imm(op, dst, src2, imm)


def op3_const(c, op, dst, src1, bits):
    """``dst = src1 op <constant bits>``."""
    a = c.a
    if c.mc.simd_avx:
        a.vex_m(op, dst, src1, c.cc.RIP, a.const_u128(bits))
        return
    if dst != src1:
        a.movaps(dst, src1)
    a.sse_m(op, dst, c.cc.RIP, a.const_u128(bits))


def copy(c, src):
    """A fresh XMM register holding a copy of ``src``."""
    t = c.alloc_xmm()
    c.a.movaps(t, src)
    return t


def make(fn):
    """A visitor ``fn(c, imm)`` preceded by the CPU check."""
    def visit(c, imm):
        check_cpu(c)
        fn(c, imm)
    return visit
