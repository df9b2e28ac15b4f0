"""Functions assembled with the x86-64 assembler, run from executable memory via ctypes."""

from __future__ import annotations

import ctypes
import math
import random
import struct

import pytest

from pywinch.isa.x64 import asm as A
from pywinch.isa.x64 import cpu
from pywinch.isa.x64 import sse as S
from pywinch.isa.x64.asm import Assembler, link_rel32
from pywinch.isa.x64.regs import (
    CC_AE, CC_B, CC_E, CC_G, CC_GE, CC_L, CC_NE, CC_P, NO_REG, R8, R9, R10, R11, R12, R13, R14, R15, RAX, RBP,
    RBX, RCX, RDI, RDX, RIP, RSI, RSP, XMM0, XMM1, XMM2, XMM8, XMM15,
)
from pywinch.runtime.code import CodeMemory

i64 = ctypes.c_int64
u64 = ctypes.c_uint64
f64 = ctypes.c_double
f32 = ctypes.c_float

MASK64 = (1 << 64) - 1


def s64(v):
    v &= MASK64
    return v - (1 << 64) if v >> 63 else v


def build(a, restype, *argtypes, offset=0):
    mem = CodeMemory(a.finalize())
    return mem.func(offset, restype, *argtypes)


def test_add():
    a = Assembler()
    a.mov_rr(8, RAX, RDI)
    a.alu_rr(A.ADD, 8, RAX, RSI)
    a.ret()
    f = build(a, i64, i64, i64)
    assert f(1, 2) == 3
    assert f(-5, 2) == -3
    assert f(2**62, 2**62) == -(2**63)


def test_loop_sum_with_labels():
    # rax = sum(1..n): a backward conditional branch and a forward exit.
    a = Assembler()
    top, done = a.new_label(), a.new_label()
    a.alu_rr(A.XOR, 4, RAX, RAX)
    a.test_rr(8, RDI, RDI)
    a.jcc(CC_E, done)
    a.bind(top)
    a.alu_rr(A.ADD, 8, RAX, RDI)
    a.dec(8, RDI)
    a.jcc(CC_NE, top)
    a.bind(done)
    a.ret()
    f = build(a, i64, i64)
    for n in (0, 1, 2, 10, 1000):
        assert f(n) == n * (n + 1) // 2


def test_long_forward_and_backward_branches():
    # Branches across > 127 bytes force rel32 in both directions.
    a = Assembler()
    top, out = a.new_label(), a.new_label()
    a.mov_ri(8, RAX, 0)
    a.bind(top)
    a.alu_ri(A.ADD, 8, RAX, 3)
    a.alu_ri(A.CMP, 8, RAX, 300)
    a.jcc(CC_GE, out)
    a.nop(200)
    a.jmp(top)
    a.bind(out)
    a.ret()
    assert build(a, i64)() == 300


def test_calls_and_frames():
    # f(x) = g(x) * 2 + 1 with g(x) = x + 10 called through a label, a frame and callee-saved rbx.
    a = Assembler()
    g = a.new_label()
    a.push_r(RBP)
    a.mov_rr(8, RBP, RSP)
    a.push_r(RBX)
    a.push_r(R12)          # keeps rsp 16-aligned at the call
    a.mov_rr(8, RBX, RDI)
    a.call(g)              # forward call
    a.lea(8, RAX, RAX, 1, RAX, 1)
    a.pop_r(R12)
    a.pop_r(RBX)
    a.pop_r(RBP)
    a.ret()
    a.align(16)
    a.bind(g)
    a.lea(8, RAX, RBX, 10)
    a.ret()
    f = build(a, i64, i64)
    assert f(5) == 31
    assert f(-10) == 1


def test_call_register_absolute_and_memory():
    # Call another CodeMemory's function through an absolute address in a register, and through memory.
    callee = Assembler()
    callee.lea(8, RAX, RDI, 0, RDI, 2)   # 3 * x
    callee.ret()
    mem1 = CodeMemory(callee.finalize())
    a = Assembler()
    a.push_r(RBX)
    a.mov_rr(8, RBX, RDI)
    a.mov_ri(8, R11, mem1.address())
    a.call_r(R11)
    a.mov_rr(8, RDI, RAX)
    slot = a.const_u64(mem1.address())
    a.call_m(RIP, slot)
    a.alu_rr(A.ADD, 8, RAX, RBX)
    a.pop_r(RBX)
    a.ret()
    f = build(a, i64, i64)
    assert f(7) == 9 * 7 + 7


def test_call_extern_linked_blob():
    # Two separately assembled functions laid out in one blob; call_extern + link_rel32.
    g = Assembler()
    g.mov_rr(8, RAX, RDI)
    g.imul_rri(8, RAX, RAX, 100)
    g.ret()
    f = Assembler()
    f.push_r(RBP)
    at = f.call_extern("g")
    f.alu_ri(A.ADD, 8, RAX, 1)
    f.pop_r(RBP)
    f.ret()
    fcode = bytearray(f.finalize())
    fcode += b"\xcc" * (-len(fcode) & 15)
    g_at = len(fcode)
    blob = fcode + g.finalize()
    link_rel32(blob, at, g_at)
    mem = CodeMemory(blob)
    fn = mem.func(0, i64, i64)
    assert fn(4) == 401


def test_division_and_remainder():
    a = Assembler()
    # rdi / rsi signed -> rax; remainder in [rdx] via r8 pointer... here return quotient*1000 + rem
    a.mov_rr(8, RAX, RDI)
    a.mov_rr(8, RCX, RSI)
    a.cqo()
    a.idiv(8, RCX)
    a.imul_rri(8, RAX, RAX, 1000)
    a.alu_rr(A.ADD, 8, RAX, RDX)
    a.ret()
    f = build(a, i64, i64, i64)
    assert f(47, 5) == 9 * 1000 + 2
    assert f(-47, 5) == -9 * 1000 - 2
    b = Assembler()
    b.mov_rr(4, RAX, RDI)
    b.alu_rr(A.XOR, 4, RDX, RDX)
    b.div(4, RSI)
    b.ret()
    g = build(b, ctypes.c_uint32, ctypes.c_uint32, ctypes.c_uint32)
    assert g(0xFFFFFFFF, 16) == 0x0FFFFFFF


@pytest.mark.parametrize("op,ref", [
    (A.SHL, lambda x, n: x << n), (A.SHR, lambda x, n: x >> n), (A.SAR, lambda x, n: s64(x) >> n),
    (A.ROL, lambda x, n: (x << n | x >> (64 - n)) if n else x),
    (A.ROR, lambda x, n: (x >> n | x << (64 - n)) if n else x),
])
def test_shifts_match_python(op, ref):
    by_cl = Assembler()
    by_cl.mov_rr(8, RAX, RDI)
    by_cl.mov_rr(4, RCX, RSI)
    by_cl.shift_cl(op, 8, RAX)
    by_cl.ret()
    f = build(by_cl, u64, u64, u64)
    rng = random.Random(op)
    for _ in range(50):
        x = rng.getrandbits(64)
        n = rng.randrange(64)
        assert f(x, n) == ref(x, n) & MASK64
        imm = Assembler()
        imm.mov_rr(8, RAX, RDI)
        imm.shift_ri(op, 8, RAX, n)
        imm.ret()
        assert build(imm, u64, u64)(x) == ref(x, n) & MASK64


def test_alu_immediates_and_memory_operands():
    # Every ALU op, register/immediate/memory forms, against Python.
    ops = {A.ADD: lambda x, y: x + y, A.SUB: lambda x, y: x - y, A.AND: lambda x, y: x & y,
           A.OR: lambda x, y: x | y, A.XOR: lambda x, y: x ^ y}
    buf = (ctypes.c_uint64 * 4)()
    rng = random.Random(1)
    for op, ref in ops.items():
        for imm in (1, -1, 127, -128, 1000, -100000, 0x7FFFFFFF):
            a = Assembler()
            a.mov_rr(8, RAX, RDI)
            a.alu_ri(op, 8, RAX, imm)        # rax = x op imm
            a.alu_mi(op, 8, imm, RSI, 8)     # [rsi+8] op= imm
            a.alu_mr(op, 8, RAX, RSI, 0, RDX, 8)  # [rsi + 1*8] op= rax  (rdx = 1)
            a.alu_rm(op, 4, RAX, RSI, 16)    # eax op= [rsi+16] (32-bit, zero-extends)
            a.ret()
            f = build(a, u64, u64, ctypes.c_void_p, u64)
            x = rng.getrandbits(64)
            m1, m2 = rng.getrandbits(64), rng.getrandbits(64)
            buf[1], buf[2] = m1, m2
            r = f(x, ctypes.addressof(buf), 1)
            r1 = ref(x, imm) & MASK64
            mem1 = ref(ref(m1, imm) & MASK64, r1) & MASK64
            assert buf[1] == mem1
            assert r == ref(r1 & 0xFFFFFFFF, m2 & 0xFFFFFFFF) & 0xFFFFFFFF


def test_extending_loads_and_stores():
    data = (ctypes.c_uint8 * 16)(*range(0xF0, 0x100))
    out = (ctypes.c_uint64 * 8)()
    a = Assembler()
    a.load_zx(1, RAX, RDI, 1)
    a.store(8, RAX, RSI, 0)
    a.load_sx(1, 8, RAX, RDI, 1)
    a.store(8, RAX, RSI, 8)
    a.load_zx(2, RAX, RDI, 2)
    a.store(8, RAX, RSI, 16)
    a.load_sx(2, 8, RAX, RDI, 2)
    a.store(8, RAX, RSI, 24)
    a.load_sx(4, 8, RAX, RDI, 4)
    a.store(8, RAX, RSI, 32)
    a.load_sx(1, 4, RAX, RDI, 1)     # sign-extend to 32 bits, upper half zero
    a.store(8, RAX, RSI, 40)
    a.mov_ri(8, RCX, -1)
    a.store(8, RCX, RSI, 48)
    a.store(2, RDI, RSI, 48)         # partial store keeps the other bytes
    a.store_imm(1, 0x7F, RSI, 55)
    a.store_imm(8, -2, RSI, 56)
    a.ret()
    f = build(a, None, ctypes.c_void_p, ctypes.c_void_p)
    ptr = ctypes.addressof(data)
    f(ptr, ctypes.addressof(out))
    raw = bytes(data)
    assert out[0] == raw[1]
    assert out[1] == struct.unpack("<b", raw[1:2])[0] & MASK64
    assert out[2] == struct.unpack("<H", raw[2:4])[0]
    assert out[3] == struct.unpack("<h", raw[2:4])[0] & MASK64
    assert out[4] == struct.unpack("<i", raw[4:8])[0] & MASK64
    assert out[5] == struct.unpack("<b", raw[1:2])[0] & 0xFFFFFFFF
    assert out[6] == 0x7FFFFF_FFFFFF_0000 | (ptr & 0xFFFF)
    assert out[7] == (-2) & MASK64


def test_setcc_cmov_and_compare():
    # (a < b signed) + 2*(a < b unsigned) + 4*max(a,b)
    a = Assembler()
    a.alu_rr(A.CMP, 8, RDI, RSI)
    a.setcc(CC_L, RAX)
    a.movzx_rr(1, RAX, RAX)
    a.setcc(CC_B, R8)
    a.movzx_rr(1, R8, R8)
    a.lea(8, RAX, RAX, 0, R8, 2)
    a.mov_rr(8, R9, RSI)
    a.cmov(CC_G, 8, R9, RDI)
    a.lea(8, RAX, RAX, 0, R9, 4)
    a.ret()
    f = build(a, i64, i64, i64)
    for x, y in ((1, 2), (2, 1), (-1, 1), (1, -1), (5, 5)):
        want = (x < y) + 2 * ((x & MASK64) < (y & MASK64)) + 4 * max(x, y)
        assert f(x, y) == want


def test_bit_counting():
    vals = [0, 1, 2, 0x80, 0xF0F0, 1 << 63, MASK64, 0x0123456789ABCDEF]
    def unary(emit):
        a = Assembler()
        emit(a)
        a.ret()
        return build(a, u64, u64)
    bsr = unary(lambda a: a.bsr(8, RAX, RDI))
    bsf = unary(lambda a: a.bsf(8, RAX, RDI))
    for v in vals[1:]:
        assert bsr(v) == v.bit_length() - 1
        assert bsf(v) == (v & -v).bit_length() - 1
    if cpu.has(cpu.POPCNT):
        popcnt = unary(lambda a: a.popcnt(8, RAX, RDI))
        for v in vals:
            assert popcnt(v) == bin(v).count("1")
    if cpu.has(cpu.LZCNT):
        lzcnt = unary(lambda a: a.lzcnt(8, RAX, RDI))
        for v in vals:
            assert lzcnt(v) == 64 - v.bit_length()
    if cpu.has(cpu.BMI1):
        tzcnt = unary(lambda a: a.tzcnt(4, RAX, RDI))
        for v in vals:
            w = v & 0xFFFFFFFF
            assert tzcnt(v) == (32 if w == 0 else (w & -w).bit_length() - 1)
    bswap = unary(lambda a: (a.mov_rr(8, RAX, RDI), a.bswap(8, RAX)))
    assert bswap(0x0102030405060708) == 0x0807060504030201


def test_float_arithmetic():
    def binop(emit, t=f64):
        a = Assembler()
        emit(a)
        a.ret()
        return build(a, t, t, t)
    assert binop(lambda a: a.addsd(XMM0, XMM1))(1.5, 2.25) == 3.75
    assert binop(lambda a: a.subsd(XMM0, XMM1))(1.5, 2.25) == -0.75
    assert binop(lambda a: a.mulsd(XMM0, XMM1))(1.5, 2.0) == 3.0
    assert binop(lambda a: a.divsd(XMM0, XMM1))(1.0, 4.0) == 0.25
    assert binop(lambda a: a.minsd(XMM0, XMM1))(1.0, 4.0) == 1.0
    assert binop(lambda a: a.maxsd(XMM0, XMM1))(1.0, 4.0) == 4.0
    assert binop(lambda a: (a.movaps(XMM15, XMM0), a.sqrtsd(XMM0, XMM15)))(2.0, 0) == math.sqrt(2.0)
    assert binop(lambda a: a.addss(XMM0, XMM1), f32)(1.5, 2.25) == 3.75
    assert binop(lambda a: a.mulss(XMM0, XMM1), f32)(1.5, 3.0) == 4.5
    assert binop(lambda a: (a.movaps(XMM8, XMM1), a.divss(XMM0, XMM8)), f32)(1.0, 8.0) == 0.125


def test_float_conversions_and_moves():
    a = Assembler()
    a.cvtsi2sd(8, XMM0, RDI)
    a.ret()
    assert build(a, f64, i64)(-(2**53)) == -(2.0**53)
    a = Assembler()
    a.cvttsd2si(8, RAX, XMM0)
    a.ret()
    assert build(a, i64, f64)(-3.99) == -3
    assert build(a, i64, f64)(float("nan")) == -(2**63)
    a = Assembler()
    a.cvttss2si(4, RAX, XMM0)
    a.ret()
    assert build(a, ctypes.c_int32, f32)(7.9) == 7
    a = Assembler()
    a.cvtsi2ss(4, XMM0, RDI)
    a.cvtss2sd(XMM0, XMM0)
    a.ret()
    assert build(a, f64, ctypes.c_int32)(-12) == -12.0
    a = Assembler()
    a.cvtsd2ss(XMM0, XMM0)
    a.ret()
    assert build(a, f32, f64)(0.1) == struct.unpack("<f", struct.pack("<f", 0.1))[0]
    a = Assembler()
    a.movq(RAX, XMM0)
    a.ret()
    assert build(a, u64, f64)(1.0) == 0x3FF0000000000000
    a = Assembler()
    a.movq(XMM2, RDI)
    a.movd(XMM1, RSI)
    a.cvtss2sd(XMM1, XMM1)
    a.addsd(XMM2, XMM1)
    a.movaps(XMM0, XMM2)
    a.ret()
    bits_f32_half = struct.unpack("<I", struct.pack("<f", 0.5))[0]
    assert build(a, f64, u64, ctypes.c_uint32)(0x4000000000000000, bits_f32_half) == 2.5
    a = Assembler()
    a.movd(RAX, XMM0)
    a.ret()
    assert build(a, ctypes.c_uint32, f32)(1.0) == 0x3F800000


def test_float_compare_and_round():
    # ucomisd + setcc: 1 if a == b (ordered), with the NaN parity check.
    a = Assembler()
    a.ucomisd(XMM0, XMM1)
    a.setcc(CC_E, RAX)
    a.setcc(CC_P, RCX)
    a.alu_rr(A.AND, 1, RCX, RCX)
    a.movzx_rr(1, RAX, RAX)
    a.movzx_rr(1, RCX, RCX)
    a.not_(4, RCX)
    a.alu_rr(A.AND, 4, RAX, RCX)
    a.ret()
    eq = build(a, i64, f64, f64)
    assert eq(1.0, 1.0) == 1 and eq(1.0, 2.0) == 0 and eq(float("nan"), float("nan")) == 0
    a = Assembler()
    a.cmpsd(XMM0, XMM1, S.CMP_LT)
    a.movq(RAX, XMM0)
    a.ret()
    lt = build(a, u64, f64, f64)
    assert lt(1.0, 2.0) == MASK64 and lt(2.0, 1.0) == 0
    if cpu.has(cpu.SSE41):
        for mode, ref in ((S.ROUND_FLOOR, math.floor), (S.ROUND_CEIL, math.ceil), (S.ROUND_TRUNC, math.trunc),
                          (S.ROUND_NEAREST, round)):
            a = Assembler()
            a.roundsd(XMM0, XMM0, mode)
            a.ret()
            f = build(a, f64, f64)
            for v in (2.5, -2.5, 3.5, -0.7, 1.2):
                assert f(v) == float(ref(v)), (mode, v)
            a = Assembler()
            a.roundss(XMM0, XMM0, mode)
            a.ret()
            assert build(a, f32, f32)(-2.5) == float(ref(-2.5))


def test_constant_pool():
    # f64 abs via andpd with a 128-bit mask, plus f64/f32 constants, deduplicated.
    a = Assembler()
    mask = a.const_u128((1 << 127 | (1 << 63)) ^ ((1 << 128) - 1))
    assert a.const_u128((1 << 127 | (1 << 63)) ^ ((1 << 128) - 1)) == mask
    a.sse_m(S.ANDPD, XMM0, RIP, mask)
    a.sse_m(S.ADDSD, XMM0, RIP, a.const_f64(0.5))
    a.load(4, XMM1, RIP, a.const_f32(2.0))
    a.cvtss2sd(XMM1, XMM1)
    a.mulsd(XMM0, XMM1)
    a.ret()
    code = a.finalize()
    f = CodeMemory(code).func(0, f64, f64)
    assert f(-3.0) == 7.0
    assert f(1.25) == 3.5
    assert a.label_offset(mask) % 16 == 0


def test_jump_table():
    # switch (i) { case 0: 10; case 1: 20; case 2: 30; case 3: 20; default: -1 }
    a = Assembler()
    c0, c1, c2, default, out = (a.new_label() for _ in range(5))
    back_case = a.new_label()
    a_start = a.new_label()
    a.jmp(a_start)
    a.bind(back_case)               # a target bound before the table (negative offset)
    a.mov_ri(8, RAX, 20)
    a.jmp(out)
    a.bind(a_start)
    a.mov_rr(4, RCX, RDI)
    a.alu_ri(A.CMP, 4, RCX, 4)
    a.jcc(CC_AE, default)
    a.jump_table(RCX, R11, [c0, back_case, c2, back_case])
    for lab, v in ((c0, 10), (c2, 30), (default, -1)):
        a.bind(lab)
        a.mov_ri(8, RAX, v)
        a.jmp(out)
    a.bind(out)
    a.ret()
    f = build(a, i64, ctypes.c_uint32)
    assert [f(i) for i in range(6)] == [10, 20, 30, 20, -1, -1]
    assert [f(i) for i in (0xFFFFFFFF, 1000)] == [-1, -1]


def test_patch_imm32_frame_size():
    a = Assembler()
    a.push_r(RBP)
    a.mov_rr(8, RBP, RSP)
    at = a.alu_ri32(A.SUB, 8, RSP)
    a.store(8, RDI, RBP, -8)
    a.mov_rr(8, RAX, RBP)
    a.alu_rr(A.SUB, 8, RAX, RSP)
    a.mov_rr(8, RSP, RBP)
    a.pop_r(RBP)
    a.ret()
    a.patch_imm32(at, 48)
    assert build(a, i64, i64)(0) == 48


def test_movabs_and_patch_imm64():
    a = Assembler()
    at = a.movabs(RAX, 0)
    a.ret()
    a.patch_imm64(at, 0xDEADBEEFCAFEBABE)
    assert build(a, u64)() == 0xDEADBEEFCAFEBABE
    for v in (0, 1, 0xFFFFFFFF, 1 << 32, -1, -(2**31), -(2**31) - 1, 2**63 - 1, 2**64 - 1):
        a = Assembler()
        a.mov_ri(8, R15, v)
        a.mov_rr(8, RAX, R15)
        a.ret()
        assert build(a, u64)() == v & MASK64


def test_all_registers_round_trip():
    # Move a value through every GPR (with 8-bit and 16-bit partial writes) and every XMM register.
    a = Assembler()
    for r in (RBX, R12, R13, R14, R15, RBP):
        a.push_r(r)
    chain = [RDI, RAX, RCX, RDX, RBX, RSI, R8, R9, R10, R11, R12, R13, R14, R15, RBP]
    for src, dst in zip(chain, chain[1:]):
        a.mov_rr(8, dst, src)
    a.mov_ri(1, RBP, 0x5A)        # bpl needs a REX prefix
    a.mov_ri(2, R13, 0x1234)
    a.movq(XMM0, RBP)
    xmms = list(range(XMM0, XMM15 + 1))
    for src, dst in zip(xmms, xmms[1:]):
        a.movaps(dst, src)
    a.movq(RAX, XMM15)
    a.alu_rr(A.XOR, 8, RAX, R13)
    for r in (RBP, R15, R14, R13, R12, RBX):
        a.pop_r(r)
    a.ret()
    f = build(a, u64, u64)
    x = 0x1122334455667788
    want = ((x & ~0xFF) | 0x5A) ^ ((x & ~0xFFFF) | 0x1234)
    assert f(x) == want


def test_code_memory_is_w_xor_x_and_freed():
    a = Assembler()
    a.mov_ri(8, RAX, 42)
    a.ret()
    mem = CodeMemory(a.finalize())
    assert mem.address() % 4096 == 0
    perms = None
    with open("/proc/self/maps") as fh:
        for line in fh:
            lo, hi = (int(x, 16) for x in line.split()[0].split("-"))
            if lo <= mem.addr < hi:
                perms = line.split()[1]
    assert perms is not None and perms.startswith("r-x"), perms
    f = mem.func(0, i64)
    assert f() == 42
    assert mem.read() == a.finalize()
    mem.free()
    assert mem.freed
    mem.free()  # idempotent


def test_code_memory_released_with_owner():
    import gc
    import weakref
    a = Assembler()
    a.ret()
    mem = CodeMemory(a.finalize())
    addr = mem.addr
    ref = weakref.ref(mem)
    del mem
    gc.collect()
    assert ref() is None
    with open("/proc/self/maps") as fh:
        mapped = any(int(l.split()[0].split("-")[0], 16) <= addr < int(l.split()[0].split("-")[1], 16)
                     and l.split()[1].startswith("r-x") for l in fh)
    assert not mapped


def test_cpu_features_and_mask(monkeypatch):
    feats = cpu.detect()
    assert cpu.SSE2 in feats
    assert cpu.features() <= feats
    # The cpuid probe agrees with the kernel's view.
    with open("/proc/cpuinfo") as fh:
        flags = next(l for l in fh if l.startswith("flags")).split()
    for feat, flag in ((cpu.POPCNT, "popcnt"), (cpu.LZCNT, "abm"), (cpu.BMI1, "bmi1"), (cpu.SSE41, "sse4_1"),
                       (cpu.SSE42, "sse4_2"), (cpu.BMI2, "bmi2"), (cpu.AVX2, "avx2")):
        assert (feat in feats) == (flag in flags), feat
    with cpu.masked("popcnt", "tzcnt"):
        assert not cpu.has(cpu.POPCNT) and not cpu.has(cpu.BMI1)
    assert cpu.features() == cpu._apply_mask(feats, __import__("os").environ.get(cpu.ENV_VAR, ""))
    assert cpu._apply_mask(feats, "-popcnt, -lzcnt") == feats - {cpu.POPCNT, cpu.LZCNT}
    assert cpu._apply_mask(feats, "-all") == {cpu.SSE2}
    from pywinch.errors import WasmError
    with pytest.raises(WasmError):
        cpu._apply_mask(feats, "-nosuch")
    with pytest.raises(WasmError):
        cpu._apply_mask(feats, "+avx512")


def test_string_ops():
    # memset-like rep stosq, memcpy-like rep movsb, through a leave-based frame.
    dst = (ctypes.c_uint64 * 4)(1, 2, 3, 4)
    src = (ctypes.c_uint8 * 5)(9, 8, 7, 6, 5)
    a = Assembler()
    a.push_r(RBP)
    a.mov_rr(8, RBP, RSP)
    a.mov_rr(8, R8, RDI)
    a.alu_rr(A.XOR, 4, RAX, RAX)
    a.mov_ri(4, RCX, 4)
    a.rep_stosq()
    a.mov_rr(8, RDI, R8)
    a.mov_ri(4, RCX, 5)
    a.rep_movsb()
    a.leave()
    a.ret()
    build(a, None, ctypes.c_void_p, ctypes.c_void_p)(ctypes.addressof(dst), ctypes.addressof(src))
    assert list(dst) == [int.from_bytes(bytes([9, 8, 7, 6, 5, 0, 0, 0]), "little"), 0, 0, 0]


def test_cpu_feature_env_mask_in_a_fresh_process():
    import os
    import subprocess
    import sys
    env = dict(os.environ, PYWINCH_CPU_FEATURES="-popcnt,-lzcnt,-sse4.1")
    out = subprocess.run(
        [sys.executable, "-c", "from pywinch.isa.x64 import cpu; print(','.join(sorted(cpu.features())))"],
        env=env, capture_output=True, text=True, check=True).stdout.strip().split(",")
    assert "popcnt" not in out and "lzcnt" not in out and "sse4.1" not in out
    assert set(out) == set(cpu.detect()) - {"popcnt", "lzcnt", "sse4.1"}


def test_v128_lanes_and_packed_ops():
    from pywinch.isa.x64 import simd as V
    if not cpu.has(cpu.SSE41):
        pytest.skip("needs SSE4.1 (pinsrd/pextrd)")
    a_vals = (ctypes.c_uint32 * 4)(1, 2, 3, 0xFFFFFFFF)
    b_vals = (ctypes.c_uint32 * 4)(10, 20, 30, 2)
    out = (ctypes.c_uint32 * 4)()
    a = Assembler()
    a.load(16, XMM0, RDI, 0)
    a.load(16, XMM1, RSI, 0)
    a.sse(S.PADDD, XMM0, XMM1)              # lanes: 11, 22, 33, 1
    a.pinsr(4, XMM0, RCX, 1)                # lane 1 = ecx
    a.sse_shift_imm(V.PSLLD_I, XMM0, 1)     # lanes * 2
    a.store(16, XMM0, RDX, 0)
    a.pextr(4, RAX, XMM0, 2)
    a.movmskps(R8, XMM1)
    a.shift_ri(A.SHL, 8, R8, 32)
    a.alu_rr(A.OR, 8, RAX, R8)
    a.ret()
    f = build(a, u64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint32)
    r = f(ctypes.addressof(a_vals), ctypes.addressof(b_vals), ctypes.addressof(out), 100)
    assert list(out) == [22, 200, 66, 2]
    assert r == (66 | (0 << 32))        # no f32 sign bits set in b
    # pshufb reverses bytes with a constant-pool mask.
    if cpu.has(cpu.SSSE3):
        a = Assembler()
        a.load(16, XMM0, RDI, 0)
        a.sse_m(V.PSHUFB, XMM0, RIP, a.const_u128(int.from_bytes(bytes(range(15, -1, -1)), "little")))
        a.store(16, XMM0, RSI, 0)
        a.ret()
        src = (ctypes.c_uint8 * 16)(*range(16))
        dst = (ctypes.c_uint8 * 16)()
        build(a, None, ctypes.c_void_p, ctypes.c_void_p)(ctypes.addressof(src), ctypes.addressof(dst))
        assert list(dst) == list(range(15, -1, -1))


def test_atomics_execute():
    cell = (ctypes.c_uint64 * 1)(40)
    a = Assembler()
    a.mov_rr(8, RAX, RSI)
    a.lock_xadd(8, RAX, RDI, 0)        # [rdi] += rsi; rax = old
    a.ret()
    xadd = build(a, u64, ctypes.c_void_p, u64)
    assert xadd(ctypes.addressof(cell), 2) == 40 and cell[0] == 42
    a = Assembler()
    a.mov_rr(8, RAX, RSI)              # expected
    a.lock_cmpxchg(8, RDX, RDI, 0)     # replacement
    a.ret()                            # rax = old value either way
    cas = build(a, u64, ctypes.c_void_p, u64, u64)
    assert cas(ctypes.addressof(cell), 41, 7) == 42 and cell[0] == 42
    assert cas(ctypes.addressof(cell), 42, 7) == 42 and cell[0] == 7
    a = Assembler()
    a.lock_alu_mr(A.OR, 8, RSI, RDI, 0)
    a.mov_rr(8, RAX, RSI)
    a.xchg_mr(8, RAX, RDI, 0)
    a.ret()
    f = build(a, u64, ctypes.c_void_p, u64)
    assert f(ctypes.addressof(cell), 0x30) == 0x37 and cell[0] == 0x30


def test_code_memory_os_refusals(monkeypatch):
    from pywinch.errors import UnsupportedError
    from pywinch.runtime import code as code_mod
    monkeypatch.setattr(code_mod, "_mmap_fn", lambda *a: code_mod._MAP_FAILED)
    with pytest.raises(code_mod.CodeMemoryError, match="cannot map"):
        CodeMemory(b"\xc3")
    monkeypatch.undo()
    unmapped = []
    real_munmap = code_mod._munmap
    monkeypatch.setattr(code_mod, "_mprotect", lambda *a: -1)
    monkeypatch.setattr(code_mod, "_munmap", lambda addr, size: (unmapped.append(addr), real_munmap(addr, size)))
    with pytest.raises(code_mod.CodeMemoryError, match="executable"):
        CodeMemory(b"\xc3")
    assert len(unmapped) == 1            # the RW mapping is not leaked
    monkeypatch.undo()
    monkeypatch.setattr(code_mod, "_mmap_fn", None)
    with pytest.raises(UnsupportedError, match="not supported yet"):
        CodeMemory(b"\xc3")
    monkeypatch.undo()
    mem = CodeMemory(b"\xc3")
    with pytest.raises(code_mod.CodeMemoryError):
        mem.address(1)
    with pytest.raises(code_mod.CodeMemoryError):
        mem.read(0, 2)
    mem.free()
    with pytest.raises(code_mod.CodeMemoryError, match="freed"):
        mem.func(0, None)
