"""Integer operators: i32/i64 arithmetic, bitwise, shifts, rotates, bit
counts, comparisons, eqz, and the integer width/sign conversions.

Uses the FuncCompiler interface only (pop_operand, to_reg, claim, pop_into,
push_reg, trap_if; see context.py).
"""

from __future__ import annotations

from ..errors import TrapCode
from ..isa.x64 import cpu
from ..wasm import opcodes as op
from ..wasm.types import I32, I64
from ..isa.x64.gpr import (MOV_RR4, MOV_RR8, ALU_MI8, ALU_MI8_D32, ALU_MI32, ALU_MI32_D32, ALU_RI8, ALU_RI32, ALU_RM_FRAME8, ALU_RM_FRAME32,
                           ALU_RR, D8, FRAME_LOAD8, FRAME_LOAD32, PACK_I32, SHIFT1, SHIFTI, TEST_RR4)
from .context import K_CMP, K_CONST, K_LOCAL, K_MEM, K_REG, MASK, TSIZE, fits_simm32, imm32_of, simm32

ADD, OR, ADC, SBB, AND, SUB, XOR, CMP = range(8)
ROL, ROR, SHL, SHR, SAR = 0, 1, 4, 5, 7

_M = (1 << 64) - 1


def _sx(v, bits):
    return v - (1 << bits) if v >> (bits - 1) else v


def _fold(c, ea, eb, t, fn):
    c.stack.append((K_CONST, t, fn(ea[2], eb[2]) & MASK[t]))


def _make_binop(t, alu_op, commutative, fold):
    size = TSIZE[t]
    not_mask = MASK[t] if alu_op == XOR else -1         # x ^ -1 is a not
    load8, load32 = FRAME_LOAD8[size], FRAME_LOAD32[size]
    mov_rr = MOV_RR8 if size == 8 else MOV_RR4
    ri8, ri32 = ALU_RI8[size], ALU_RI32[size]
    op4 = alu_op << 4

    def visit(c, imm):
        stack = c.stack
        # pop_operand, inlined: this is the hottest visitor.
        eb = stack[-1]
        if eb[0] == K_CONST and eb[2] != not_mask:
            # local/register OP constant: three quarters of all binops, emitted
            # here from isa/x64's tables (no pops, no calls).
            ea = stack[-2]
            ka = ea[0]
            if ka == K_LOCAL or ka == K_REG:
                imm = eb[2] if size == 4 else simm32(eb[2], t)
                if imm is not None:
                    if size == 4 and imm > 0x7FFFFFFF:
                        imm -= 0x100000000
                    if ka == K_REG:
                        ra = ea[2]
                        del stack[-1]
                        if -128 <= imm <= 127:
                            c.a.buf += ri8[op4 | ra] + D8[imm & 0xFF]
                        else:
                            c.a.buf += ri32[op4 | ra] + PACK_I32(imm)
                        # a new entry (not ea): a local.tee's cache keys on the entry's identity
                        stack[-1] = (K_REG, t, ra)
                        return
                    del stack[-2:]
                    free = c.free
                    for ra in c.gpr_alloc:
                        if free >> ra & 1:
                            c.free = free & ~(1 << ra)
                            break
                    else:
                        ra = c.alloc_gpr()
                    rc = c.lreg[ea[2]]      # after the allocation, which may evict it
                    d = c.ldisp[ea[2]]
                    # mov ra, [rbp + d]; op ra, imm (8- or 32-bit forms of each)
                    if rc >= 0:
                        ld = mov_rr[rc << 4 | ra]
                    elif -128 <= d <= 127:
                        ld = load8[ra] + D8[d & 0xFF]
                    elif -0x80000000 <= d <= 0x7FFFFFFF:
                        ld = load32[ra] + PACK_I32(d)
                    else:
                        ld = None
                    if ld is None:
                        c.a.load_alu_ri(alu_op, size, ra, c.fp, d, imm)
                    elif -128 <= imm <= 127:
                        c.a.buf += ld + ri8[op4 | ra] + D8[imm & 0xFF]
                    else:
                        c.a.buf += ld + ri32[op4 | ra] + PACK_I32(imm)
                    stack.append((K_REG, t, ra))
                    return
        if eb[0] >= K_MEM:
            eb = (K_REG, t, c.pop_reg())
        else:
            stack.pop()
        ea = stack[-1]
        if ea[0] >= K_MEM:
            ea = (K_REG, t, c.pop_reg())
        else:
            stack.pop()
        if eb[0] == K_CONST:
            if ea[0] == K_CONST and fold is not None:
                _fold(c, ea, eb, t, fold)
                return
        elif commutative and ea[0] == K_CONST:
            ea, eb = eb, ea
        # The common encodings below are appended from isa/x64's tables (a call
        # to the checked encoder costs more than the encoding).
        a = c.a
        k = ea[0]
        if k == K_REG:
            ra = ea[2]
        elif k == K_LOCAL:
            free = c.free           # alloc_gpr inlined
            for ra in c.gpr_alloc:
                if free >> ra & 1:
                    c.free = free & ~(1 << ra)
                    break
            else:
                ra = c.alloc_gpr()
            rc = c.lreg[ea[2]]
            d = c.ldisp[ea[2]]
            if rc >= 0:
                a.buf += mov_rr[rc << 4 | ra]
            elif -128 <= d <= 127:
                a.buf += FRAME_LOAD8[size][ra] + D8[d & 0xFF]
            elif -0x80000000 <= d <= 0x7FFFFFFF:
                a.buf += FRAME_LOAD32[size][ra] + PACK_I32(d)
            else:
                a.load(size, ra, c.fp, d)
        else:
            ra = c.to_reg(ea)
        k = eb[0]
        imm = simm32(eb[2], t) if k == K_CONST else None
        if imm is not None:
            if alu_op == XOR and eb[2] == MASK[t]:
                a.not_(size, ra)                                   # x ^ -1
            else:
                if size == 4 and imm > 0x7FFFFFFF:
                    imm -= 0x100000000
                if -128 <= imm <= 127:
                    a.buf += ALU_RI8[size][alu_op << 4 | ra] + D8[imm & 0xFF]
                else:
                    a.alu_ri(alu_op, size, ra, imm)
        elif k == K_LOCAL:
            d = c.ldisp[eb[2]]
            rc = c.lreg[eb[2]]
            if rc >= 0:
                a.buf += ALU_RR[size][alu_op << 8 | rc << 4 | ra]
            elif -128 <= d <= 127:
                a.buf += ALU_RM_FRAME8[size][alu_op << 8 | ra << 4 | 5] + D8[d & 0xFF]
            elif -0x80000000 <= d <= 0x7FFFFFFF:
                a.buf += ALU_RM_FRAME32[size][alu_op << 8 | ra << 4 | 5] + PACK_I32(d)
            else:
                a.alu_rm(alu_op, size, ra, c.fp, d)
        else:
            rb = eb[2] if k == K_REG else c.to_reg(eb)
            a.buf += ALU_RR[size][alu_op << 8 | rb << 4 | ra]
            c.free |= 1 << rb
        stack.append((K_REG, t, ra))
    return visit


def _make_mul(t):
    size = TSIZE[t]

    def visit(c, imm):
        eb = c.pop_operand()
        ea = c.pop_operand()
        if eb[0] == K_CONST:
            if ea[0] == K_CONST:
                _fold(c, ea, eb, t, lambda x, y: x * y)
                return
        elif ea[0] == K_CONST:
            ea, eb = eb, ea
        a = c.a
        if eb[0] == K_CONST and fits_simm32(eb[2], t):
            rs = c.to_reg(ea)
            a.imul_rri(size, rs, rs, imm32_of(eb[2], t))
            c.stack.append((K_REG, t, rs))
            return
        ra = c.to_reg(ea)
        if eb[0] == K_LOCAL and c.lreg[eb[2]] >= 0:
            a.imul_rr(size, ra, c.lreg[eb[2]])
        elif eb[0] == K_LOCAL:
            a.imul_rm(size, ra, c.fp, c.local_disp(eb[2]))
        else:
            rb = c.to_reg(eb)
            a.imul_rr(size, ra, rb)
            c.free |= 1 << rb
        c.stack.append((K_REG, t, ra))
    return visit


def _make_compare(t, cc):
    size = TSIZE[t]
    bits = 8 * size
    signed = cc in (12, 13, 14, 15)          # l, ge, le, g
    from ..isa.x64.regs import swap_cc
    pyop = {4: lambda x, y: x == y, 5: lambda x, y: x != y, 12: lambda x, y: x < y, 13: lambda x, y: x >= y,
            14: lambda x, y: x <= y, 15: lambda x, y: x > y, 2: lambda x, y: x < y, 3: lambda x, y: x >= y,
            6: lambda x, y: x <= y, 7: lambda x, y: x > y}[cc]
    swapped = swap_cc(cc)

    def visit(c, imm):
        stack = c.stack
        # pop_operand twice, inlined (comparisons are a tenth of all operators).
        eb = stack[-1]
        if eb[0] >= K_MEM:
            eb = (K_REG, t, c.pop_reg())
        else:
            stack.pop()
        ea = stack[-1]
        if ea[0] >= K_MEM:
            ea = (K_REG, t, c.pop_reg())
        else:
            stack.pop()
        cond = cc
        if ea[0] == K_CONST:
            if eb[0] == K_CONST:
                x, y = ea[2], eb[2]
                if signed:
                    x, y = _sx(x, bits), _sx(y, bits)
                stack.append((K_CONST, I32, 1 if pyop(x, y) else 0))
                return
            ea, eb = eb, ea
            cond = swapped
        a = c.a
        kb = eb[0]
        if kb == K_CONST:
            imm = eb[2]
            if size == 8:
                imm = simm32(imm, t)
        else:
            imm = None
        # Common encodings appended from isa/x64's tables, as in binops.
        if imm is not None:
            if size == 4 and imm > 0x7FFFFFFF:
                imm -= 0x100000000
            if ea[0] == K_LOCAL and c.lreg[ea[2]] >= 0:
                ra = c.lreg[ea[2]]          # read only: the cache keeps it
                if imm == 0:
                    if size == 4:
                        a.buf += TEST_RR4[ra << 4 | ra]
                    else:
                        a.test_rr(size, ra, ra)
                elif -128 <= imm <= 127:
                    a.buf += ALU_RI8[size][CMP << 4 | ra] + D8[imm & 0xFF]
                else:
                    a.alu_ri(CMP, size, ra, imm)
            elif ea[0] == K_LOCAL:
                # cmp [rbp + d], imm: disp8/disp32 and imm8/imm32 forms
                d = c.ldisp[ea[2]]
                if -128 <= d <= 127:
                    if -128 <= imm <= 127:
                        a.buf += ALU_MI8[size][CMP << 4 | 5] + D8[d & 0xFF] + D8[imm & 0xFF]
                    else:
                        a.buf += ALU_MI32[size][CMP << 4 | 5] + D8[d & 0xFF] + PACK_I32(imm)
                elif -0x80000000 <= d <= 0x7FFFFFFF:
                    if -128 <= imm <= 127:
                        a.buf += ALU_MI8_D32[size][CMP << 4 | 5] + PACK_I32(d) + D8[imm & 0xFF]
                    else:
                        a.buf += ALU_MI32_D32[size][CMP << 4 | 5] + PACK_I32(d) + PACK_I32(imm)
                else:
                    a.alu_mi(CMP, size, imm, c.fp, d)
            else:
                ra = ea[2] if ea[0] == K_REG else c.to_reg(ea)
                if imm == 0:
                    if size == 4:
                        a.buf += TEST_RR4[ra << 4 | ra]
                    else:
                        a.test_rr(size, ra, ra)          # same flags as cmp ra, 0
                elif -128 <= imm <= 127:
                    a.buf += ALU_RI8[size][CMP << 4 | ra] + D8[imm & 0xFF]
                else:
                    a.alu_ri(CMP, size, ra, imm)
                c.free |= 1 << ra
        else:
            ka = ea[0]
            if ka == K_REG:
                ra = ea[2]
            elif ka == K_LOCAL and c.lreg[ea[2]] >= 0 and (kb == K_REG or kb == K_LOCAL):
                # Read only, and nothing is allocated before the compare: borrow it.
                ra = c.lreg[ea[2]]
                ka = -1
            elif ka == K_LOCAL:
                free = c.free           # alloc_gpr inlined
                for ra in c.gpr_alloc:
                    if free >> ra & 1:
                        c.free = free & ~(1 << ra)
                        break
                else:
                    ra = c.alloc_gpr()
                d = c.ldisp[ea[2]]
                if -128 <= d <= 127:
                    a.buf += FRAME_LOAD8[size][ra] + D8[d & 0xFF]
                elif -0x80000000 <= d <= 0x7FFFFFFF:
                    a.buf += FRAME_LOAD32[size][ra] + PACK_I32(d)
                else:
                    a.load(size, ra, c.fp, d)
            else:
                ra = c.to_reg(ea)
            if kb == K_LOCAL and c.lreg[eb[2]] >= 0:
                a.buf += ALU_RR[size][CMP << 8 | c.lreg[eb[2]] << 4 | ra]
            elif kb == K_LOCAL:
                d = c.ldisp[eb[2]]
                if -128 <= d <= 127:
                    a.buf += ALU_RM_FRAME8[size][CMP << 8 | ra << 4 | 5] + D8[d & 0xFF]
                elif -0x80000000 <= d <= 0x7FFFFFFF:
                    a.buf += ALU_RM_FRAME32[size][CMP << 8 | ra << 4 | 5] + PACK_I32(d)
                else:
                    a.alu_rm(CMP, size, ra, c.fp, d)
            else:
                rb = eb[2] if kb == K_REG else c.to_reg(eb)
                a.buf += ALU_RR[size][CMP << 8 | rb << 4 | ra]
                c.free |= 1 << rb
            if ka != -1:
                c.free |= 1 << ra
        stack.append((K_CMP, I32, cond))
        c.flags_live = True
    return visit


def _make_eqz(t):
    size = TSIZE[t]
    cmp_frame8 = ALU_MI8[size][CMP << 4 | 5]      # cmp [rbp + disp8], imm8 minus both

    def visit(c, imm):
        e = c.stack[-1]
        k = e[0]
        if k == K_CMP:
            c.stack[-1] = (K_CMP, I32, e[2] ^ 1)
            return
        if k == K_CONST:
            c.stack[-1] = (K_CONST, I32, 1 if e[2] == 0 else 0)
            return
        # cmp [local], 0 / test r, r appended from isa/x64's tables when short
        if k == K_LOCAL and c.lreg[e[2]] >= 0:
            c.stack.pop()
            r = c.lreg[e[2]]
            if size == 4:
                c.a.buf += TEST_RR4[r << 4 | r]
            else:
                c.a.test_rr(size, r, r)
        elif k == K_LOCAL:
            c.stack.pop()
            d = c.ldisp[e[2]]
            if -128 <= d <= 127:
                c.a.buf += cmp_frame8 + D8[d & 0xFF] + b"\0"
            else:
                c.a.alu_mi(CMP, size, 0, c.fp, d)
        else:
            r = e[2] if k == K_REG else None
            if r is not None:
                c.stack.pop()
            else:
                r = c.pop_reg()
            if size == 4:
                c.a.buf += TEST_RR4[r << 4 | r]
            else:
                c.a.test_rr(size, r, r)
            c.free |= 1 << r
        c.stack.append((K_CMP, I32, 4))   # e: equal to zero
        c.flags_live = True
    return visit


def _make_shift(t, sop, fold):
    size = TSIZE[t]
    bits = 8 * size
    shift1, shifti = SHIFT1[size], SHIFTI[size]
    op4 = sop << 4

    def visit(c, imm):
        stack = c.stack
        eb = stack[-1]
        if eb[0] == K_CONST:
            stack.pop()
            n = eb[2] & (bits - 1)
            ea = stack[-1]
            if ea[0] == K_CONST and fold is not None:
                stack[-1] = (K_CONST, t, fold(ea[2], n, bits) & MASK[t])
                return
            if ea[0] == K_REG:
                stack.pop()
                ra = ea[2]
            else:
                ra = c.pop_reg()
            # shift_ri's bytes appended from isa/x64's tables
            if n == 1:
                c.a.buf += shift1[op4 | ra]
            elif n:
                c.a.buf += shifti[op4 | ra] + D8[n]
            stack.append((K_REG, t, ra))
            return
        rcx = c.claim(c.abi.SHIFT_COUNT)
        c.pop_into(rcx)
        ra = c.pop_reg()
        c.a.shift_cl(sop, size, ra)
        c.free |= 1 << rcx
        c.stack.append((K_REG, t, ra))
    return visit


def _make_divrem(t, signed, rem):
    size = TSIZE[t]
    bits = 8 * size
    int_min = 1 << (bits - 1)

    def visit(c, imm):
        a = c.a
        abi = c.abi
        cc = c.cc
        eb = c.stack[-1]
        known = eb[0] == K_CONST and eb[2] != 0
        minus1 = eb[0] == K_CONST and eb[2] == MASK[t]
        rax = c.claim(abi.DIV_QUOTIENT)
        rdx = c.claim(abi.DIV_REMAINDER)
        rb = c.pop_reg()
        c.pop_into(rax)
        if not known:
            a.test_rr(size, rb, rb)
            c.trap_if(cc.CC_E, TrapCode.INTEGER_DIVISION_BY_ZERO)
        done = None
        if signed and (minus1 or eb[0] != K_CONST):
            skip = a.new_label()
            a.alu_ri(CMP, size, rb, -1)
            a.jcc(cc.CC_NE, skip)
            if rem:
                a.mov_ri(4, rdx, 0)                  # x rem_s -1 == 0 (idiv would fault)
                done = a.new_label()
                a.jmp(done)
            else:
                if size == 4:
                    a.alu_ri(CMP, 4, rax, int_min)
                else:
                    a.mov_ri(8, c.scratch, int_min)
                    a.alu_rr(CMP, 8, rax, c.scratch)
                c.trap_if(cc.CC_E, TrapCode.INTEGER_OVERFLOW)
            a.bind(skip)
        if signed:
            a.sign_extend_ax(size)
            a.idiv(size, rb)
        else:
            a.mov_ri(4, rdx, 0)
            a.div(size, rb)
        if done is not None:
            a.bind(done)
        c.free |= 1 << rb
        if rem:
            c.free |= 1 << rax
            c.stack.append((K_REG, t, rdx))
        else:
            c.free |= 1 << rdx
            c.stack.append((K_REG, t, rax))
    return visit


def _popcnt_fallback(c, size, r):
    """SWAR population count of ``r`` in place (CPUs without popcnt)."""
    a = c.a
    s = c.scratch
    t = c.alloc_gpr()
    m = (1 << (8 * size)) - 1
    k1, k2, k4, h01 = 0x5555555555555555 & m, 0x3333333333333333 & m, 0x0F0F0F0F0F0F0F0F & m, 0x0101010101010101 & m
    a.mov_rr(size, t, r)
    a.shift_ri(SHR, size, t, 1)
    a.mov_ri(size, s, k1)
    a.alu_rr(AND, size, t, s)
    a.alu_rr(SUB, size, r, t)             # x - ((x >> 1) & k1)
    a.mov_ri(size, s, k2)
    a.mov_rr(size, t, r)
    a.alu_rr(AND, size, t, s)
    a.shift_ri(SHR, size, r, 2)
    a.alu_rr(AND, size, r, s)
    a.alu_rr(ADD, size, r, t)             # (x & k2) + ((x >> 2) & k2)
    a.mov_rr(size, t, r)
    a.shift_ri(SHR, size, t, 4)
    a.alu_rr(ADD, size, r, t)
    a.mov_ri(size, s, k4)
    a.alu_rr(AND, size, r, s)
    a.mov_ri(size, s, h01)
    a.imul_rr(size, r, s)
    a.shift_ri(SHR, size, r, 8 * size - 8)
    c.free |= 1 << t


def _make_bitcount(t, kind):
    size = TSIZE[t]
    bits = 8 * size

    def visit(c, imm):
        e = c.stack[-1]
        if e[0] == K_CONST:
            v = e[2]
            if kind == "clz":
                n = bits - v.bit_length()
            elif kind == "ctz":
                n = bits if v == 0 else (v & -v).bit_length() - 1
            else:
                n = bin(v).count("1")
            c.stack[-1] = (K_CONST, t, n)
            return
        r = c.pop_reg()
        a = c.a
        s = c.scratch
        cc = c.cc
        if kind == "clz":
            if cpu.has(cpu.LZCNT):
                a.lzcnt(size, r, r)
            else:
                a.bsr(size, r, r)
                a.mov_ri(4, s, 2 * bits - 1)
                a.cmov(cc.CC_E, size, r, s)
                a.alu_ri(XOR, size, r, bits - 1)
        elif kind == "ctz":
            if cpu.has(cpu.BMI1):
                a.tzcnt(size, r, r)
            else:
                a.bsf(size, r, r)
                a.mov_ri(4, s, bits)
                a.cmov(cc.CC_E, size, r, s)
        else:
            if cpu.has(cpu.POPCNT):
                a.popcnt(size, r, r)
            else:
                _popcnt_fallback(c, size, r)
        c.stack.append((K_REG, t, r))
    return visit


# --- width and sign conversions ----------------------------------------------------------


def _make_extend(t, from_size, signed):
    """Sign-extension operators and i64.extend_i32_s/u, i32.wrap_i64."""
    size = TSIZE[t]
    fbits = 8 * from_size

    def visit(c, imm):
        e = c.stack[-1]
        if e[0] == K_CONST:
            v = e[2] & ((1 << fbits) - 1)
            if signed:
                v = _sx(v, fbits)
            c.stack[-1] = (K_CONST, t, v & MASK[t])
            return
        if e[0] == K_LOCAL and from_size == 4 and not signed:
            # A 4-byte read of the local (slot or cached register) zero-extends: one mov.
            c.stack[-1] = (K_LOCAL, I32, e[2])
            c.stack.append((K_REG, t, c.pop_reg()))
            return
        r = c.pop_reg()
        if signed:
            c.a.movsx_rr(from_size, size, r, r)
        elif from_size == 4:
            c.a.mov_rr(4, r, r)
        c.stack.append((K_REG, t, r))
    return visit


def _rotl(x, n, bits):
    return (x << n | x >> (bits - n)) if n else x


def _rotr(x, n, bits):
    return (x >> n | x << (bits - n)) if n else x


def _shr_s(x, n, bits):
    return _sx(x, bits) >> n


def register(table):
    for t, base, eqz, cmp_base, cnt_base in ((I32, 0x6A, 0x45, 0x46, 0x67), (I64, 0x7C, 0x50, 0x51, 0x79)):
        table[eqz] = _make_eqz(t)
        # eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u
        for i, cc in enumerate((4, 5, 12, 2, 15, 7, 14, 6, 13, 3)):
            table[cmp_base + i] = _make_compare(t, cc)
        table[cnt_base] = _make_bitcount(t, "clz")
        table[cnt_base + 1] = _make_bitcount(t, "ctz")
        table[cnt_base + 2] = _make_bitcount(t, "popcnt")
        table[base] = _make_binop(t, ADD, True, lambda x, y: x + y)
        table[base + 1] = _make_binop(t, SUB, False, lambda x, y: x - y)
        table[base + 2] = _make_mul(t)
        table[base + 3] = _make_divrem(t, True, False)
        table[base + 4] = _make_divrem(t, False, False)
        table[base + 5] = _make_divrem(t, True, True)
        table[base + 6] = _make_divrem(t, False, True)
        table[base + 7] = _make_binop(t, AND, True, lambda x, y: x & y)
        table[base + 8] = _make_binop(t, OR, True, lambda x, y: x | y)
        table[base + 9] = _make_binop(t, XOR, True, lambda x, y: x ^ y)
        table[base + 10] = _make_shift(t, SHL, lambda x, n, b: x << n)
        table[base + 11] = _make_shift(t, SAR, _shr_s)
        table[base + 12] = _make_shift(t, SHR, lambda x, n, b: x >> n)
        table[base + 13] = _make_shift(t, ROL, _rotl)
        table[base + 14] = _make_shift(t, ROR, _rotr)
    table[0xA7] = _make_extend(I32, 4, False)      # i32.wrap_i64
    table[0xAC] = _make_extend(I64, 4, True)       # i64.extend_i32_s
    table[0xAD] = _make_extend(I64, 4, False)      # i64.extend_i32_u
    table[0xC0] = _make_extend(I32, 1, True)
    table[0xC1] = _make_extend(I32, 2, True)
    table[0xC2] = _make_extend(I64, 1, True)
    table[0xC3] = _make_extend(I64, 2, True)
    table[0xC4] = _make_extend(I64, 4, True)
