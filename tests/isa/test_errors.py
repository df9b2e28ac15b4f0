"""Bad operands raise AssemblerError naming the instruction, and emit nothing."""

from __future__ import annotations

import pytest

from pywinch.errors import AssemblerError
from pywinch.isa.x64 import asm as A
from pywinch.isa.x64 import sse as S
from pywinch.isa.x64.asm import Assembler
from pywinch.isa.x64.regs import NO_REG, R12, RAX, RBP, RCX, RIP, RSP, XMM0, XMM1, XMM15

BAD = [
    # (method, args, word expected in the message)
    ("mov_rr", (8, RAX, XMM0), "mov"),
    ("mov_rr", (8, 16, RAX), "mov"),
    ("mov_rr", (8, -1, RAX), "mov"),
    ("mov_rr", (3, RAX, RCX), "mov"),
    ("mov_ri", (4, RAX, 1 << 32), "mov"),
    ("mov_ri", (4, RAX, -(1 << 31) - 1), "mov"),
    ("mov_ri", (1, RAX, 256), "mov"),
    ("mov_ri", (2, RAX, -0x8001), "mov"),
    ("mov_ri", (8, RAX, 1 << 64), "mov"),
    ("mov_ri", (8, XMM0, 1), "mov"),
    ("movabs", (XMM0, 1), "movabs"),
    ("movabs", (RAX, -(1 << 63) - 1), "movabs"),
    ("alu_ri", (A.ADD, 8, RAX, 1 << 31), "add"),
    ("alu_ri", (A.SUB, 8, RAX, -(1 << 31) - 1), "sub"),
    ("alu_ri", (A.AND, 8, RAX, 0xFFFFFFFF), "and"),
    ("alu_ri", (A.CMP, 1, RAX, 256), "cmp"),
    ("alu_ri", (A.XOR, 2, RAX, 0x10000), "xor"),
    ("alu_ri", (A.OR, 4, RAX, 1 << 32), "or"),
    ("alu_ri", (8, 4, RAX, 1), "alu"),
    ("alu_ri", (A.ADD, 4, XMM1, 1), "add"),
    ("alu_rr", (A.ADD, 8, RAX, XMM1), "add"),
    ("alu_rr", (A.ADD, 5, RAX, RCX), "add"),
    ("alu_rr", (9, 8, RAX, RCX), "alu"),
    ("alu_mi", (A.ADD, 8, 1 << 31, RBP, 0), "add"),
    ("alu_rm", (A.ADD, 8, XMM0, RBP, 0), "add"),
    ("alu_mr", (A.SUB, 8, XMM0, RBP, 0), "sub"),
    ("alu_ri32", (A.SUB, 2, RAX, 0), "sub"),
    ("test_ri", (8, RAX, 1 << 31), "test"),
    ("load", (8, RAX, RBP, 1 << 31), "mov"),
    ("load", (8, RAX, RBP, -(1 << 31) - 1), "mov"),
    ("load", (8, RAX, RBP, 0, RSP, 1), "mov"),      # rsp cannot be an index
    ("load", (8, RAX, RBP, 0, RCX, 3), "mov"),      # bad scale
    ("load", (8, RAX, XMM0, 0), "mov"),             # xmm as base
    ("load", (8, RAX, RBP, 0, XMM0, 1), "mov"),     # xmm as index
    ("load", (8, RAX, NO_REG, 0), "mov"),           # no base, no index
    ("load", (8, RAX, RIP, 12345), "mov"),          # not a label
    ("load", (8, RAX, RIP, 0, RCX, 1), "mov"),      # RIP with index
    ("load", (3, RAX, RBP, 0), "mov"),
    ("load", (2, XMM0, RBP, 0), "load"),
    ("load", (8, 99, RBP, 0), "load"),
    ("store", (16, RAX, RBP, 0), "mov"),
    ("store", (2, XMM0, RBP, 0), "store"),
    ("store_imm", (8, 1 << 31, RBP, 0), "mov"),
    ("store_imm", (1, -129, RBP, 0), "mov"),
    ("load_zx", (3, RAX, RBP, 0), "movzx"),
    ("load_zx", (1, XMM0, RBP, 0), "movzx"),
    ("load_sx", (4, 2, RAX, RBP, 0), "movsx"),
    ("load_sx", (8, 4, RAX, RBP, 0), "movsx"),
    ("movzx_rr", (1, RAX, XMM0), "movzx"),
    ("movsx_rr", (2, 1, RAX, RCX), "movsx"),
    ("lea", (2, RAX, RBP, 0), "lea"),
    ("lea", (8, XMM0, RBP, 0), "lea"),
    ("shift_ri", (A.SHL, 8, RAX, 256), "shl"),
    ("shift_ri", (A.SHL, 8, RAX, -1), "shl"),
    ("shift_ri", (6, 8, RAX, 1), "shift"),
    ("shift_cl", (A.SAR, 8, XMM0), "sar"),
    ("imul_rr", (1, RAX, RCX), "imul"),
    ("imul_rri", (8, RAX, RCX, 1 << 31), "imul"),
    ("imul_rri", (4, RAX, XMM0, 1), "imul"),
    ("neg", (8, XMM0), "neg"),
    ("div", (16, RCX), "div"),
    ("lzcnt", (1, RAX, RCX), "lzcnt"),
    ("popcnt", (8, RAX, XMM0), "popcnt"),
    ("setcc", (16, RAX), "setcc"),
    ("setcc", (4, XMM0), "sete"),
    ("cmov", (4, 1, RAX, RCX), "cmove"),
    ("cmov", (4, 8, RAX, XMM1), "cmove"),
    ("jmp_r", (XMM0,), "jmp"),
    ("call_r", (16,), "call"),
    ("push_r", (XMM0,), "push"),
    ("pop_r", (-1,), "pop"),
    ("push_i", (1 << 31,), "push"),
    ("bswap", (2, RAX), "bswap"),
    ("jmp", (5,), "jmp"),
    ("jcc", (4, 5), "jcc"),
    ("jcc", (16, 0), "jcc"),
    ("call", (7,), "call"),
    ("jmp_short", (9,), "jmp"),
    ("sse", (S.ADDSD, XMM0, RAX), "addsd"),
    ("sse", (S.ADDSD, RAX, XMM0), "addsd"),
    ("addss", (XMM0, RCX), "addss"),
    ("sse_m", (S.MULSD, RAX, RBP, 0), "mulsd"),
    ("sse_store", (S.MOVDQU_ST, RAX, RBP, 0), "movdqu"),
    ("sse_imm", (S.ROUNDSD, XMM0, XMM1, 256), "roundsd"),
    ("roundss", (XMM0, XMM1, -1), "roundss"),
    ("cmpsd", (XMM0, RAX, 1), "cmpsd"),
    ("cvtsi2sd", (2, XMM0, RAX), "cvtsi2sd"),
    ("cvtsi2sd", (8, RAX, RAX), "cvtsi2sd"),
    ("cvttsd2si", (8, XMM0, XMM1), "cvttsd2si"),
    ("movq", (RAX, RCX), "movq"),
    ("movd", (XMM0, XMM15 + 1), "movd"),
    ("nop", (-1,), "nop"),
    ("align", (3,), "align"),
    ("jump_table", (RAX, RAX, []), "jump_table"),
    ("jump_table", (RSP, RCX, []), "jump_table"),
    ("jump_table", (RAX, RCX, [77]), "jump_table"),
    ("const_u128", (1 << 128,), "const"),
    ("const_u64", (-1,), "const"),
    ("const_bytes", (b"x", 3), "const"),
    ("patch_imm32", (100, 0), "patch_imm32"),
    ("lock_alu_mr", (A.CMP, 8, RAX, RBP, 0), "cmp"),
    ("lock_xadd", (8, XMM0, RBP, 0), "xadd"),
    ("lock_cmpxchg", (3, RAX, RBP, 0), "cmpxchg"),
    ("bind", (42,), "bind"),
]


@pytest.mark.parametrize("method,args,word", BAD, ids=[f"{m}{a}" for m, a, _ in BAD])
def test_bad_operand_raises_and_emits_nothing(method, args, word):
    a = Assembler()
    a.new_label()        # label 0 exists (unbound) for the branch cases
    a.nop(3)
    before = bytes(a.buf)
    with pytest.raises(AssemblerError) as exc:
        getattr(a, method)(*args)
    assert str(exc.value).startswith(word), str(exc.value)
    assert bytes(a.buf) == before


def test_unbound_label_at_finalize():
    a = Assembler()
    lab = a.new_label()
    a.jcc(4, lab)
    with pytest.raises(AssemblerError, match=r"jcc: label 0 used at offset 0x2 is never bound"):
        a.finalize()
    a2 = Assembler()
    lab = a2.new_label()
    a2.load(8, RAX, RIP, lab)
    a2.load(8, XMM0, RIP, a2.const_f64(2.0))
    before = bytes(a2.buf)
    with pytest.raises(AssemblerError, match="mov: label"):
        a2.finalize()
    assert bytes(a2.buf) == before          # nothing emitted; fixable and finalizable again
    a2.bind(lab)
    a2.ret()
    assert len(a2.finalize()) > len(before)
    a3 = Assembler()
    a3.new_label()   # never used: fine
    a3.ret()
    assert a3.finalize() == b"\xc3"


def test_short_branch_out_of_range():
    a = Assembler()
    far = a.new_label()
    a.jmp_short(far)
    a.nop(200)
    with pytest.raises(AssemblerError, match="jmp: short branch"):
        a.bind(far)
    b = Assembler()
    top = b.new_label()
    b.bind(top)
    b.nop(200)
    before = bytes(b.buf)
    with pytest.raises(AssemblerError, match="jne: short branch"):
        b.jcc_short(5, top)
    assert bytes(b.buf) == before


def test_double_bind():
    a = Assembler()
    lab = a.new_label()
    a.bind(lab)
    with pytest.raises(AssemblerError, match="already bound"):
        a.bind(lab)


def test_label_from_another_assembler_is_rejected():
    a, b = Assembler(), Assembler()
    a.new_label()
    lab = a.new_label()
    with pytest.raises(AssemblerError):
        b.jmp(lab)


def test_label_offset_unbound():
    a = Assembler()
    lab = a.new_label()
    assert not a.is_bound(lab)
    with pytest.raises(AssemblerError):
        a.label_offset(lab)


SIMD_BAD = [
    ("pinsr", (4, XMM0, RAX, 4), "pinsrd"),
    ("pinsr", (3, XMM0, RAX, 0), "pinsr"),
    ("pinsr", (1, RAX, RAX, 0), "pinsrb"),
    ("pinsr", (8, XMM0, XMM1, 0), "pinsrq"),
    ("pextr", (2, RAX, XMM0, 8), "pextrw"),
    ("pextr", (8, XMM0, XMM1, 0), "pextrq"),
    ("pextr_m", (4, RAX, 0, RBP, 0), "pextrd"),
    ("pinsr_m", (1, XMM0, 16, RBP, 0), "pinsrb"),
    ("movmskps", (XMM0, XMM1), "movmskps"),
    ("pmovmskb", (RAX, RCX), "pmovmskb"),
]


@pytest.mark.parametrize("method,args,word", SIMD_BAD, ids=[f"{m}{a}" for m, a, _ in SIMD_BAD])
def test_bad_simd_operand(method, args, word):
    a = Assembler()
    with pytest.raises(AssemblerError) as exc:
        getattr(a, method)(*args)
    assert str(exc.value).startswith(word), str(exc.value)
    assert not a.buf


def test_bad_simd_shift_count():
    from pywinch.isa.x64 import simd as V
    a = Assembler()
    with pytest.raises(AssemblerError, match="psrlq"):
        a.sse_shift_imm(V.PSRLQ_I, XMM0, 256)
    with pytest.raises(AssemblerError, match="pslld"):
        a.sse_shift_imm(V.PSLLD_I, RAX, 1)
    assert not a.buf


def test_random_integer_operands_raise_only_assembler_errors():
    """Every public method, random ints in and around every range: success or AssemblerError."""
    import inspect
    import random
    from pywinch.isa.x64 import simd as V
    rng = random.Random(20261125)
    vals = [-2**64, -2**63 - 1, -2**63, -2**31 - 1, -2**31, -129, -128, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
            12, 13, 15, 16, 17, 20, 31, 32, 33, 64, 127, 128, 255, 256, 2**31 - 1, 2**31, 2**32 - 1, 2**32,
            2**63, 2**64]
    ops = [S.ADDSD, S.ROUNDSD, S.MOVDQU_ST, V.PSLLD_I, V.PADDSB, (1, 2), "x"]
    methods = [m for m in dir(Assembler) if not m.startswith("_") and callable(getattr(Assembler, m))]
    for _ in range(8000):
        a = Assembler()
        for _ in range(3):
            a.new_label()
        m = rng.choice(methods)
        fn = getattr(a, m)
        args = []
        for p in inspect.signature(fn).parameters.values():
            if p.name == "op" and m.startswith("sse"):
                args.append(rng.choice(ops))
            elif p.name == "targets":
                args.append([rng.choice(vals) for _ in range(rng.randrange(3))])
            elif p.name == "data":
                args.append(b"\x90")
            elif p.name == "key":
                args.append("k")
            elif p.default is not p.empty and rng.random() < 0.5:
                break
            else:
                args.append(rng.choice(vals))
        try:
            fn(*args)
            if rng.random() < 0.3:
                a.finalize()
        except AssemblerError:
            pass
