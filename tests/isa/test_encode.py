"""Every encoder form of the x86-64 assembler, decoded back with iced-x86.

The combinations are enumerated, not sampled: every register in every
operand position, every operand size, every condition code and ALU/shift
operation, and the addressing modes (all 16 bases with no/8-bit/32-bit
displacements, every index but rsp with every scale, base-less and
RIP-relative operands).  The full cross product of registers x addressing
modes is checked for the plain load; for the other memory forms the register
field and the addressing modes are each enumerated (they are encoded by
independent bits).  Instructions are batched into one buffer per form and
decoded in one pass.
"""

from __future__ import annotations

import re

import pytest

iced = pytest.importorskip("iced_x86")
from iced_x86 import Decoder, Formatter, FormatterSyntax, MemorySizeExt, OpKind, Register  # noqa: E402

from pywinch.errors import AssemblerError  # noqa: E402
from pywinch.isa.x64 import asm as A  # noqa: E402
from pywinch.isa.x64 import sse as S  # noqa: E402
from pywinch.isa.x64.asm import Assembler  # noqa: E402
from pywinch.isa.x64.regs import (  # noqa: E402
    CC_NAMES, GPRS, NO_REG, R12, R13, RAX, RBP, RCX, RIP, RSP, R15, XMMS, name,
)

# ------------------------------------------------------------------ decoding
_FMT = Formatter(FormatterSyntax.INTEL)
_FMT.use_pseudo_ops = False
# iced names the low byte of r8..r15 "r8l"; pywinch (and Intel) say "r8b".
_REG = {v: re.sub(r"^(r\d+)l$", r"\1b", k.lower()) for k, v in vars(Register).items() if isinstance(v, int)}
_IMM_BITS = {
    OpKind.IMMEDIATE8: 8, OpKind.IMMEDIATE8_2ND: 8, OpKind.IMMEDIATE16: 16, OpKind.IMMEDIATE32: 32,
    OpKind.IMMEDIATE64: 64, OpKind.IMMEDIATE8TO16: 16, OpKind.IMMEDIATE8TO32: 32,
    OpKind.IMMEDIATE8TO64: 64, OpKind.IMMEDIATE32TO64: 64,
}
_KIND = {v: k.lower() for k, v in vars(OpKind).items() if isinstance(v, int)}
_BRANCH = (OpKind.NEAR_BRANCH64, OpKind.NEAR_BRANCH32, OpKind.NEAR_BRANCH16)


def _signed(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def canon(ins):
    ops = []
    for k in range(ins.op_count):
        kind = ins.op_kind(k)
        if kind == OpKind.REGISTER:
            ops.append(_REG[ins.op_register(k)])
        elif kind == OpKind.MEMORY:
            base = _REG[ins.memory_base] if ins.memory_base != Register.NONE else None
            index = _REG[ins.memory_index] if ins.memory_index != Register.NONE else None
            disp = ins.memory_displacement
            if base != "rip":
                disp = _signed(disp, 64)
            ops.append(("mem", MemorySizeExt.size(ins.memory_size), base, index,
                        ins.memory_index_scale if index else 1, disp))
        elif kind in _IMM_BITS:
            ops.append(_signed(ins.immediate(k), _IMM_BITS[kind]))
        elif kind in _BRANCH:
            ops.append(("target", ins.near_branch_target))
        else:
            ops.append(_KIND[kind])
    return _FMT.format_mnemonic(ins), tuple(ops)


# ------------------------------------------------------------ expectations
def R(r, size=8):
    return name(r, size) if r < 16 else name(r)


def M(size, base, disp=0, index=NO_REG, scale=1):
    """Expected memory operand; size None = implied by the mnemonic (SSE)."""
    b = None if base == NO_REG else name(base)
    i = None if index == NO_REG else name(index)
    return ("mem", size, b, i, scale if i else 1, disp)


def ML(size, label):
    """Expected RIP-relative memory operand at a label (resolved after finalize)."""
    return ("mem", size, "rip", None, 1, ("label", label))


def Imm(v, size):
    return _signed(v, size * 8)


def T(label):
    return ("target", ("label", label))


class Batch:
    """Emit many instructions into one buffer, then decode and compare all at once."""

    def __init__(self):
        self.a = Assembler()
        self.expect = []   # (start offset, mnemonic, operands)

    def __call__(self, mnemonic, ops, fn, *args):
        start = len(self.a.buf)
        fn(*args)
        self.expect.append((start, mnemonic, tuple(ops)))

    def _resolve(self, op):
        if isinstance(op, tuple) and op and isinstance(op[-1], tuple) and op[-1][:1] == ("label",):
            return op[:-1] + (self.a.label_offset(op[-1][1]),)
        return op

    def check(self):
        code = self.a.finalize()
        end = self.expect[-1][0] if self.expect else 0
        decoded = list(Decoder(64, code[:len(code)], ip=0))
        bad = []
        di = 0
        for start, mn, ops in self.expect:
            while di < len(decoded) and decoded[di].ip < start:
                di += 1
            if di >= len(decoded) or decoded[di].ip != start:
                bad.append(f"@{start:#x}: no instruction starts here (expected {mn} {ops})")
                break
            ins = decoded[di]
            got = canon(ins)
            want_ops = tuple(self._resolve(o) for o in ops)
            # SSE memory sizes are implied by the mnemonic: compare them only when given.
            got_ops = tuple(g[:1] + (None,) + g[2:] if isinstance(w, tuple) and w[:1] == ("mem",) and w[1] is None
                            and isinstance(g, tuple) else g for g, w in zip(got[1], want_ops))
            got_ops += got[1][len(want_ops):]
            if (got[0], got_ops) != (mn, want_ops):
                raw = code[start:start + ins.len].hex()
                bad.append(f"@{start:#x} {raw}: got {got[0]} {got[1]}, want {mn} {want_ops}")
                if len(bad) > 20:
                    break
        assert not bad, f"{len(bad)} mismatches (of {len(self.expect)}):\n" + "\n".join(bad)
        assert end < len(code)
        return len(self.expect)


# --------------------------------------------------------------- operands
SIZES = (1, 2, 4, 8)
INDEXES = tuple(r for r in GPRS if r != RSP)
SCALES = (1, 2, 4, 8)
DISPS = (0, 1, -1, 127, -128, 128, -129, 0x7FFFFFFF, -0x80000000)
IMMS = {
    1: (0, 1, -1, 127, -128, 0xFF, 0x80),
    2: (0, 1, -1, 127, -128, 128, -129, 0x7FFF, -0x8000, 0xFFFF),
    4: (0, 1, -1, 127, -128, 128, -129, 0x7FFFFFFF, -0x80000000, 0xFFFFFFFF, 0x80000000),
    8: (0, 1, -1, 127, -128, 128, -129, 0x7FFFFFFF, -0x80000000),
}

# Every base with every displacement class.
BASE_MODES = [(b, d, NO_REG, 1) for b in GPRS for d in DISPS]
# Every base x every index x every scale, with no/8-bit/32-bit displacement.
INDEX_MODES = [(b, d, i, s) for b in GPRS for i in INDEXES for s in SCALES for d in (0, -128, 0x12345)]
# No base: [index*scale + disp32].
NOBASE_MODES = [(NO_REG, d, i, s) for i in INDEXES for s in SCALES for d in (0, 0x1000, -8)]
FULL_MODES = BASE_MODES + INDEX_MODES + NOBASE_MODES
# Each dimension once: every base (3 displacement classes), every index, every scale.
EACH_MODES = ([(b, d, NO_REG, 1) for b in GPRS for d in (0, -128, 0x1000)]
              + [(b, 8, i, s) for b in (RAX, RSP, RBP, R12, R13, R15) for i in INDEXES for s in SCALES]
              + [(NO_REG, 0x40, i, 4) for i in INDEXES])
REG_MODES = ((RBP, -16, NO_REG, 1), (R12, 0x100, R13, 8), (RSP, 0, NO_REG, 1), (R13, 0, NO_REG, 1))


def mem_cases(regs):
    """(reg, mode) pairs: every register with a few modes, two registers with each mode."""
    for r in regs:
        for m in REG_MODES:
            yield r, m
    for r in (regs[0], regs[-1]):
        for m in EACH_MODES:
            yield r, m


def rip_labels(a):
    """A bound (backward) and an unbound (forward, bound at the end) label."""
    back = a.new_label()
    a.bind(back)
    fwd = a.new_label()
    return back, fwd


# ================================================================== tests
def test_mov_rr_all():
    b = Batch()
    for size in SIZES:
        for d in GPRS:
            for s in GPRS:
                b("mov", (R(d, size), R(s, size)), b.a.mov_rr, size, d, s)
    b.check()


def test_mov_ri_all():
    b = Batch()
    for d in GPRS:
        for size in (1, 2, 4):
            for imm in IMMS[size]:
                b("mov", (R(d, size), Imm(imm, size)), b.a.mov_ri, size, d, imm)
        for imm in (0, 1, 0xFFFFFFFF, 0x80000000, 12345):
            b("mov", (R(d, 4), Imm(imm, 4)), b.a.mov_ri, 8, d, imm)
        for imm in (-1, -128, -0x80000000):
            b("mov", (R(d, 8), imm), b.a.mov_ri, 8, d, imm)
        for imm in (1 << 32, -0x80000001, (1 << 64) - 1 - (1 << 40), -(1 << 63), 0x123456789ABCDEF0):
            b("mov", (R(d, 8), Imm(imm, 8)), b.a.mov_ri, 8, d, imm)
            b("mov", (R(d, 8), Imm(imm, 8)), b.a.movabs, d, imm)
    b.check()


def test_mov_ri_shortest_forms():
    a = Assembler()
    a.mov_ri(8, RAX, 5)
    assert len(a.buf) == 5            # mov eax, imm32 zero-extends
    a2 = Assembler()
    a2.mov_ri(8, RAX, -5)
    assert len(a2.buf) == 7           # mov rax, simm32
    a3 = Assembler()
    a3.mov_ri(8, RAX, 1 << 40)
    assert len(a3.buf) == 10          # movabs


def test_load_full_cross_product():
    """The plain 64-bit load over all 16 registers x every addressing mode."""
    b = Batch()
    for r in GPRS:
        for base, disp, index, scale in FULL_MODES:
            b("mov", (R(r, 8), M(8, base, disp, index, scale)), b.a.load, 8, r, base, disp, index, scale)
    b.check()


def test_disp_encoding_lengths():
    a = Assembler()
    for base in GPRS:
        for disp, extra in ((0, 0), (1, 1), (-128, 1), (128, 4), (-0x80000000, 4)):
            start = len(a.buf)
            a.load(4, RAX, base, disp)
            n = len(a.buf) - start
            sib = 1 if base & 7 == 4 else 0
            rex = 1 if base >= 8 else 0
            # rbp/r13 need a disp8 even for 0.
            want_extra = 1 if (disp == 0 and base & 7 == 5) else extra
            assert n == rex + 2 + sib + want_extra, (base, disp, n)


def test_gpr_loads_stores():
    b = Batch()
    a = b.a
    back, fwd = rip_labels(a)
    for size in SIZES:
        for r, (base, disp, index, scale) in mem_cases(GPRS):
            m = M(size, base, disp, index, scale)
            b("mov", (R(r, size), m), a.load, size, r, base, disp, index, scale)
            b("mov", (m, R(r, size)), a.store, size, r, base, disp, index, scale)
        for r in GPRS:
            for lab in (back, fwd):
                b("mov", (R(r, size), ML(size, lab)), a.load, size, r, RIP, lab)
                b("mov", (ML(size, lab), R(r, size)), a.store, size, r, RIP, lab)
    a.nop(3)
    a.bind(fwd)
    b.check()


def test_extending_loads():
    b = Batch()
    a = b.a
    back, fwd = rip_labels(a)
    for r, (base, disp, index, scale) in mem_cases(GPRS):
        args = (base, disp, index, scale)
        b("movzx", (R(r, 4), M(1, *args)), a.load_zx, 1, r, *args)
        b("movzx", (R(r, 4), M(2, *args)), a.load_zx, 2, r, *args)
        b("mov", (R(r, 4), M(4, *args)), a.load_zx, 4, r, *args)
        b("mov", (R(r, 8), M(8, *args)), a.load_zx, 8, r, *args)
        for dsz in (4, 8):
            b("movsx", (R(r, dsz), M(1, *args)), a.load_sx, 1, dsz, r, *args)
            b("movsx", (R(r, dsz), M(2, *args)), a.load_sx, 2, dsz, r, *args)
        b("movsxd", (R(r, 8), M(4, *args)), a.load_sx, 4, 8, r, *args)
        b("mov", (R(r, 4), M(4, *args)), a.load_sx, 4, 4, r, *args)
        b("mov", (R(r, 8), M(8, *args)), a.load_sx, 8, 8, r, *args)
    for r in GPRS:
        b("movzx", (R(r, 4), ML(1, fwd)), a.load_zx, 1, r, RIP, fwd)
        b("movsxd", (R(r, 8), ML(4, back)), a.load_sx, 4, 8, r, RIP, back)
    a.bind(fwd)
    b.check()


def test_extending_moves():
    b = Batch()
    a = b.a
    for d in GPRS:
        for s in GPRS:
            b("movzx", (R(d, 4), R(s, 1)), a.movzx_rr, 1, d, s)
            b("movzx", (R(d, 4), R(s, 2)), a.movzx_rr, 2, d, s)
            b("mov", (R(d, 4), R(s, 4)), a.movzx_rr, 4, d, s)
            b("mov", (R(d, 8), R(s, 8)), a.movzx_rr, 8, d, s)
            for dsz in (4, 8):
                b("movsx", (R(d, dsz), R(s, 1)), a.movsx_rr, 1, dsz, d, s)
                b("movsx", (R(d, dsz), R(s, 2)), a.movsx_rr, 2, dsz, d, s)
            b("movsxd", (R(d, 8), R(s, 4)), a.movsx_rr, 4, 8, d, s)
            b("mov", (R(d, 4), R(s, 4)), a.movsx_rr, 4, 4, d, s)
    b.check()


def test_store_imm_and_lea():
    b = Batch()
    a = b.a
    back, fwd = rip_labels(a)
    for size in SIZES:
        for _r, (base, disp, index, scale) in mem_cases((RAX,)):
            for imm in IMMS[size]:
                b("mov", (M(size, base, disp, index, scale), Imm(imm, size)), a.store_imm, size, imm,
                  base, disp, index, scale)
        for lab in (back, fwd):
            for imm in (0, -1, 0x7F):
                b("mov", (ML(size, lab), Imm(imm, size)), a.store_imm, size, imm, RIP, lab)
    for size in (4, 8):
        for r, (base, disp, index, scale) in mem_cases(GPRS):
            b("lea", (R(r, size), M(0, base, disp, index, scale)), a.lea, size, r, base, disp, index, scale)
        for r in GPRS:
            b("lea", (R(r, size), ML(0, fwd)), a.lea, size, r, RIP, fwd)
    for r in GPRS:
        b("lea", (R(r, 8), ML(0, back)), a.lea_label, r, back)
    a.bind(fwd)
    b.check()


def test_alu_rr_all():
    b = Batch()
    for op in range(8):
        for size in SIZES:
            for d in GPRS:
                for s in GPRS:
                    b(A.ALU_NAMES[op], (R(d, size), R(s, size)), b.a.alu_rr, op, size, d, s)
    b.check()


def test_alu_ri_all():
    b = Batch()
    for op in range(8):
        for size in SIZES:
            for d in GPRS:
                for imm in IMMS[size]:
                    b(A.ALU_NAMES[op], (R(d, size), Imm(imm, size)), b.a.alu_ri, op, size, d, imm)
        for size in (4, 8):
            for d in GPRS:
                b(A.ALU_NAMES[op], (R(d, size), Imm(-7, size)), b.a.alu_ri32, op, size, d, -7)
    b.check()


def test_alu_imm8_short_form():
    for size, d, imm, n in ((8, RCX, 5, 4), (8, RCX, 500, 7), (4, RCX, 5, 3), (4, R12, -128, 4),
                            (4, RAX, 500, 5), (8, RAX, 500, 6), (4, RCX, 0xFFFFFFFF, 3), (2, RCX, 0xFFFF, 4),
                            (1, RCX, 0xFF, 3)):
        a = Assembler()
        a.alu_ri(A.ADD, size, d, imm)
        assert len(a.buf) == n, (size, d, imm, a.buf.hex())


def test_load_alu_ri_is_load_then_alu_ri():
    """The fused local-op-constant form emits exactly ``load`` + ``alu_ri`` (both checked above)."""
    for op in range(8):
        for size in (4, 8):
            for d in GPRS:
                for base in GPRS:
                    for disp in (-8, -128, 127, 0, 200, -0x1000):
                        for imm in (0, 5, -1, 127, -128, 300, 0xFFFFFFF0 if size == 4 else -16):
                            fused, ref = Assembler(), Assembler()
                            fused.load_alu_ri(op, size, d, base, disp, imm)
                            ref.load(size, d, base, disp)
                            ref.alu_ri(op, size, d, imm)
                            assert fused.buf == ref.buf, (op, size, d, base, disp, imm)


def test_fast_path_heads_match_the_generic_encoder():
    """Every precomputed head of the load/store/lea fast paths, against the generic
    ModRM encoder (``_rm``) for the same operands, with no, 8- and 32-bit displacements."""
    from pywinch.isa.x64 import gpr
    gp_ops = {"load": {8: (b"", 8, b"\x8b"), 4: (b"", 0, b"\x8b"), 2: (b"\x66", 0, b"\x8b")},
              "store": {8: (b"", 8, b"\x89"), 4: (b"", 0, b"\x89"), 2: (b"\x66", 0, b"\x89")},
              "lea": {8: (b"", 8, b"\x8d"), 4: (b"", 0, b"\x8d")}}
    xmm_ops = {"load": gpr._XMM_LOAD, "store": gpr._XMM_STORE}
    tables = {"load": (gpr._LOAD_D0, gpr._LOAD_D8, gpr._LOAD_D32),
              "store": (gpr._STORE_D0, gpr._STORE_D8, gpr._STORE_D32),
              "lea": (None, gpr._LEA_D8, gpr._LEA_D32)}
    for kind, (d0, d8, d32) in tables.items():
        for (size, r, base), head in d8.items():
            if r < 16:
                pfx, w, opc = gp_ops[kind][size]
            else:
                _name, pfx, opc = xmm_ops[kind][size]
                w = 0
            for disp, table in ((0, d0), (-100, d8), (0x12345, d32)):
                if table is None:
                    continue
                ref = Assembler()
                ref._rm(kind, pfx, w, opc, r & 15, base, disp, NO_REG, 1)
                tail = b"" if table is d0 else bytes([disp & 0xFF]) if table is d8 else disp.to_bytes(4, "little")
                assert table[size, r, base] + tail == bytes(ref.buf), (kind, size, r, base, disp)
                fast = Assembler()
                getattr(fast, kind)(size, r, base, disp)
                assert fast.buf == ref.buf, (kind, size, r, base, disp)


def test_copy_mem_is_load_then_store():
    """The fused slot-to-slot copy emits exactly ``load`` + ``store`` (both checked above)."""
    for size in (1, 2, 4, 8):
        for tmp in GPRS:
            for sb in GPRS:
                for db in (RBP, RSP, R12, R13, RAX):
                    for sd, dd in ((-8, -16), (0, 8), (-128, 127), (200, -8), (-16, -0x1000), (0, 0)):
                        fused, ref = Assembler(), Assembler()
                        fused.copy_mem(size, tmp, sb, sd, db, dd)
                        ref.load(size, tmp, sb, sd)
                        ref.store(size, tmp, db, dd)
                        assert fused.buf == ref.buf, (size, tmp, sb, sd, db, dd)


def test_alu_memory_forms():
    b = Batch()
    a = b.a
    back, fwd = rip_labels(a)
    for op in range(8):
        mn = A.ALU_NAMES[op]
        for size in SIZES:
            for r, (base, disp, index, scale) in mem_cases(GPRS):
                m = M(size, base, disp, index, scale)
                b(mn, (R(r, size), m), a.alu_rm, op, size, r, base, disp, index, scale)
                b(mn, (m, R(r, size)), a.alu_mr, op, size, r, base, disp, index, scale)
            for _r, (base, disp, index, scale) in mem_cases((RAX,)):
                for imm in (IMMS[size][2], IMMS[size][-1]):
                    b(mn, (M(size, base, disp, index, scale), Imm(imm, size)), a.alu_mi, op, size, imm,
                      base, disp, index, scale)
            for lab in (back, fwd):
                b(mn, (ML(size, lab), Imm(IMMS[size][-1], size)), a.alu_mi, op, size, IMMS[size][-1], RIP, lab)
                b(mn, (R(RCX, size), ML(size, lab)), a.alu_rm, op, size, RCX, RIP, lab)
    a.bind(fwd)
    b.check()


def test_test_forms():
    b = Batch()
    a = b.a
    for size in SIZES:
        for x in GPRS:
            for y in GPRS:
                b("test", (R(x, size), R(y, size)), a.test_rr, size, x, y)
            for imm in IMMS[size]:
                b("test", (R(x, size), Imm(imm, size)), a.test_ri, size, x, imm)
        for r, (base, disp, index, scale) in mem_cases(GPRS):
            m = M(size, base, disp, index, scale)
            b("test", (m, R(r, size)), a.test_mr, size, r, base, disp, index, scale)
            b("test", (m, Imm(IMMS[size][-1], size)), a.test_mi, size, IMMS[size][-1], base, disp, index, scale)
    b.check()


def test_unary_muldiv_all():
    b = Batch()
    a = b.a
    for size in SIZES:
        for r in GPRS:
            b("neg", (R(r, size),), a.neg, size, r)
            b("not", (R(r, size),), a.not_, size, r)
            b("inc", (R(r, size),), a.inc, size, r)
            b("dec", (R(r, size),), a.dec, size, r)
            b("mul", (R(r, size),), a.mul, size, r)
            b("imul", (R(r, size),), a.imul1, size, r)
            b("div", (R(r, size),), a.div, size, r)
            b("idiv", (R(r, size),), a.idiv, size, r)
    for size in (2, 4, 8):
        for d in GPRS:
            for s in GPRS:
                b("imul", (R(d, size), R(s, size)), a.imul_rr, size, d, s)
                for imm in (3, -1, 0x1234, IMMS[size][-1]):
                    b("imul", (R(d, size), R(s, size), Imm(imm, size)), a.imul_rri, size, d, s, imm)
        for r, (base, disp, index, scale) in mem_cases(GPRS):
            b("imul", (R(r, size), M(size, base, disp, index, scale)), a.imul_rm, size, r, base, disp, index, scale)
    b("cdq", (), a.cdq)
    b("cqo", (), a.cqo)
    b("cdq", (), a.sign_extend_ax, 4)
    b("cqo", (), a.sign_extend_ax, 8)
    b.check()


def test_shifts_all():
    b = Batch()
    a = b.a
    for op in (A.ROL, A.ROR, A.RCL, A.RCR, A.SHL, A.SHR, A.SAR):
        mn = A.SHIFT_NAMES[op]
        for size in SIZES:
            for r in GPRS:
                b(mn, (R(r, size), "cl"), a.shift_cl, op, size, r)
                for n in (0, 1, 2, 31, 63, 255):
                    b(mn, (R(r, size), Imm(n, 1)), a.shift_ri, op, size, r, n)
    for r in GPRS:
        b("shl", (R(r, 4), 3), a.shl_ri, 4, r, 3)
        b("shr", (R(r, 8), 3), a.shr_ri, 8, r, 3)
        b("sar", (R(r, 2), 3), a.sar_ri, 2, r, 3)
    b.check()


def test_bit_counting_all():
    b = Batch()
    a = b.a
    for mn, fn in (("lzcnt", a.lzcnt), ("tzcnt", a.tzcnt), ("popcnt", a.popcnt), ("bsr", a.bsr), ("bsf", a.bsf)):
        for size in (2, 4, 8):
            for d in GPRS:
                for s in GPRS:
                    b(mn, (R(d, size), R(s, size)), fn, size, d, s)
    for size in (4, 8):
        for r in GPRS:
            b("bswap", (R(r, size),), a.bswap, size, r)
    for size in SIZES:
        for x in GPRS:
            for y in GPRS:
                b("xchg", (R(x, size), R(y, size)), a.xchg_rr, size, x, y)
    b.check()


def test_conditions_all():
    b = Batch()
    a = b.a
    for cc in range(16):
        for r in GPRS:
            b("set" + CC_NAMES[cc], (R(r, 1),), a.setcc, cc, r)
            # setcc_zx is two instructions: check the pair.
            start = len(a.buf)
            a.setcc_zx(cc, r)
            b.expect.append((start, "set" + CC_NAMES[cc], (R(r, 1),)))
            b.expect.append((start + (4 if r >= 4 else 3), "movzx", (R(r, 4), R(r, 1))))
        for size in (2, 4, 8):
            for d in GPRS:
                for s in GPRS:
                    b("cmov" + CC_NAMES[cc], (R(d, size), R(s, size)), a.cmov, cc, size, d, s)
            for r, (base, disp, index, scale) in mem_cases(GPRS):
                b("cmov" + CC_NAMES[cc], (R(r, size), M(size, base, disp, index, scale)), a.cmov_rm, cc, size, r,
                  base, disp, index, scale)
    b.check()


def test_branches():
    b = Batch()
    a = b.a
    back = a.new_label()
    a.bind(back)
    fwd = a.new_label()
    far_back = a.new_label()
    for cc in range(16):
        b("j" + CC_NAMES[cc], (T(back),), a.jcc, cc, back)
        b("j" + CC_NAMES[cc], (T(fwd),), a.jcc, cc, fwd)
    b("jmp", (T(back),), a.jmp, back)
    b("jmp", (T(fwd),), a.jmp, fwd)
    b("call", (T(back),), a.call, back)
    b("call", (T(fwd),), a.call, fwd)
    for r in GPRS:
        b("jmp", (R(r),), a.jmp_r, r)
        b("call", (R(r),), a.call_r, r)
        b("push", (R(r),), a.push_r, r)
        b("pop", (R(r),), a.pop_r, r)
    for _r, (base, disp, index, scale) in mem_cases((RAX,)):
        m = M(8, base, disp, index, scale)
        b("jmp", (m,), a.jmp_m, base, disp, index, scale)
        b("call", (m,), a.call_m, base, disp, index, scale)
        b("push", (m,), a.push_m, base, disp, index, scale)
        b("pop", (m,), a.pop_m, base, disp, index, scale)
    b("jmp", (ML(8, back),), a.jmp_m, RIP, back)
    b("call", (ML(8, fwd),), a.call_m, RIP, fwd)
    for imm in (0, 1, -1, 127, -128, 128, -129, 0x7FFFFFFF, -0x80000000):
        b("push", (imm,), a.push_i, imm)
    a.bind(far_back)
    a.nop(200)
    for cc in range(16):
        b("j" + CC_NAMES[cc], (T(far_back),), a.jcc, cc, far_back)
    b("jmp", (T(far_back),), a.jmp, far_back)
    short = a.new_label()
    for cc in range(16):
        b("j" + CC_NAMES[cc], (T(short),), a.jcc_short, cc, short)
    b("jmp", (T(short),), a.jmp_short, short)
    a.bind(short)
    b("ret", (), a.ret)
    b("ud2", (), a.ud2)
    b("int3", (), a.int3)
    b("cpuid", (), a.cpuid)
    b("xgetbv", (), a.xgetbv)
    b("mfence", (), a.mfence)
    b("leave", (), a.leave)
    b("rep stosq", ("memory_esrdi", "rax"), a.rep_stosq)
    b("rep stosb", ("memory_esrdi", "al"), a.rep_stosb)
    b("rep movsb", ("memory_esrdi", "memory_seg_rsi"), a.rep_movsb)
    a.bind(fwd)
    b("ret", (), a.ret)
    b.check()


def test_branch_sizes():
    a = Assembler()
    top = a.new_label()
    a.bind(top)
    a.jcc(4, top)
    a.jmp(top)
    assert len(a.buf) == 4                       # both short backward
    fwd = a.new_label()
    a.jcc(4, fwd)
    a.jmp(fwd)
    assert len(a.buf) == 4 + 6 + 5               # forward: rel32
    a.bind(fwd)
    a.nop(130)
    start = len(a.buf)
    a.jmp(top)
    assert len(a.buf) - start == 5               # too far back: rel32


def test_call_extern_relocation():
    a = Assembler()
    a.nop(3)
    at = a.call_extern("f1")
    assert a.relocs == [(at, "f1")] and at == 4
    code = bytearray(a.finalize())
    A.link_rel32(code, at, 0x100)
    ins = next(iter(Decoder(64, bytes(code), ip=0)))
    ins = list(Decoder(64, bytes(code), ip=0))[1]
    assert canon(ins) == ("call", (("target", 0x100),))


def test_nops():
    for n in range(0, 40):
        a = Assembler()
        a.nop(n)
        assert len(a.buf) == n
        ins = list(Decoder(64, bytes(a.buf), ip=0))
        # 66 90 is the SDM's 2-byte NOP; iced spells it "xchg ax,ax".
        assert all(_FMT.format_mnemonic(i) == "nop" or _FMT.format(i) == "xchg ax,ax" for i in ins)
        assert sum(i.len for i in ins) == n
        assert len(ins) == (n + 8) // 9
    for align in (1, 2, 4, 8, 16, 32):
        for pre in range(0, 33):
            a = Assembler()
            a.nop(pre)
            a.align(align)
            assert len(a.buf) % align == 0 and len(a.buf) - pre < align


# ---------------------------------------------------------------- SSE
def test_sse_register_forms_all():
    b = Batch()
    a = b.a
    for op in S.SSE_OPS:
        for d in XMMS:
            for s in XMMS:
                b(op[0], (R(d), R(s)), a.sse, op, d, s)
    for op in S.SSE_IMM_OPS:
        for d in XMMS:
            for s in XMMS:
                b(op[0], (R(d), R(s), Imm(0x0B, 1)), a.sse_imm, op, d, s, 0x0B)
    b.check()


def test_sse_memory_forms():
    b = Batch()
    a = b.a
    back, fwd = rip_labels(a)
    for op in S.SSE_OPS:
        for x, (base, disp, index, scale) in mem_cases(XMMS):
            b(op[0], (R(x), M(None, base, disp, index, scale)), a.sse_m, op, x, base, disp, index, scale)
        for lab in (back, fwd):
            b(op[0], (R(XMMS[15]), ML(None, lab)), a.sse_m, op, XMMS[15], RIP, lab)
    for op in S.SSE_STORE_OPS:
        for x, (base, disp, index, scale) in mem_cases(XMMS):
            b(op[0], (M(None, base, disp, index, scale), R(x)), a.sse_store, op, x, base, disp, index, scale)
        b(op[0], (ML(None, fwd), R(XMMS[3])), a.sse_store, op, XMMS[3], RIP, fwd)
    for op in S.SSE_IMM_OPS:
        for x, (base, disp, index, scale) in mem_cases(XMMS):
            b(op[0], (R(x), M(None, base, disp, index, scale), 9), a.sse_imm_m, op, x, 9, base, disp, index, scale)
        for lab in (back, fwd):
            b(op[0], (R(XMMS[8]), ML(None, lab), 0xFF - 256), a.sse_imm_m, op, XMMS[8], 0xFF, RIP, lab)
    # load/store dispatch on the register class.
    for x, (base, disp, index, scale) in mem_cases(XMMS):
        args = (base, disp, index, scale)
        for size, mn in ((4, "movss"), (8, "movsd"), (16, "movdqu")):
            b(mn, (R(x), M(size, *args)), a.load, size, x, *args)
            b(mn, (M(size, *args), R(x)), a.store, size, x, *args)
    for size, mn in ((4, "movss"), (8, "movsd"), (16, "movdqu")):
        b(mn, (R(XMMS[0]), ML(size, fwd)), a.load, size, XMMS[0], RIP, fwd)
    a.bind(fwd)
    b.check()


def test_sse_named_methods():
    b = Batch()
    a = b.a
    names = ("addss addsd subss subsd mulss mulsd divss divsd minss minsd maxss maxsd sqrtss sqrtsd "
             "ucomiss ucomisd comiss comisd cvtss2sd cvtsd2ss andps andpd andnps andnpd orps orpd "
             "xorps xorpd pxor movaps").split()
    for mn in names:
        fn = getattr(a, mn)
        for d in XMMS:
            for s in XMMS:
                b(mn, (R(d), R(s)), fn, d, s)
    for d in XMMS:
        for s in XMMS:
            b("movss", (R(d), R(s)), a.movss_rr, d, s)
            b("movsd", (R(d), R(s)), a.movsd_rr, d, s)
            b("movq", (R(d), R(s)), a.movq, d, s)
            for mode in (S.ROUND_NEAREST, S.ROUND_FLOOR, S.ROUND_CEIL, S.ROUND_TRUNC):
                b("roundss", (R(d), R(s), mode), a.roundss, d, s, mode)
                b("roundsd", (R(d), R(s), mode), a.roundsd, d, s, mode)
            for pred in range(8):
                b("cmpss", (R(d), R(s), pred), a.cmpss, d, s, pred)
                b("cmpsd", (R(d), R(s), pred), a.cmpsd, d, s, pred)
    b.check()


def test_gpr_xmm_conversions_all():
    b = Batch()
    a = b.a
    for x in XMMS:
        for g in GPRS:
            for size in (4, 8):
                b("cvtsi2ss", (R(x), R(g, size)), a.cvtsi2ss, size, x, g)
                b("cvtsi2sd", (R(x), R(g, size)), a.cvtsi2sd, size, x, g)
                b("cvttss2si", (R(g, size), R(x)), a.cvttss2si, size, g, x)
                b("cvttsd2si", (R(g, size), R(x)), a.cvttsd2si, size, g, x)
            b("movd", (R(x), R(g, 4)), a.movd, x, g)
            b("movd", (R(g, 4), R(x)), a.movd, g, x)
            b("movq", (R(x), R(g, 8)), a.movq, x, g)
            b("movq", (R(g, 8), R(x)), a.movq, g, x)
    b.check()


def test_named_alu_wrappers():
    b = Batch()
    a = b.a
    wrappers = "add_rr sub_rr and_rr or_rr xor_rr cmp_rr adc_rr sbb_rr add_ri sub_ri and_ri or_ri xor_ri cmp_ri"
    assert all(hasattr(a, w) for w in wrappers.split())
    for mn in ("add", "sub", "and", "or", "xor", "cmp", "adc", "sbb"):
        rr = getattr(a, mn + "_rr")
        for size in SIZES:
            for d in GPRS:
                for s in GPRS:
                    b(mn, (R(d, size), R(s, size)), rr, size, d, s)
        if hasattr(a, mn + "_ri"):
            ri = getattr(a, mn + "_ri")
            for size in SIZES:
                for d in GPRS:
                    b(mn, (R(d, size), Imm(-2, size)), ri, size, d, -2)
    b.check()


def test_every_public_method_is_covered():
    """A new encoder method must get a test here."""
    import inspect
    src = inspect.getsource(inspect.getmodule(test_every_public_method_is_covered))
    missing = [m for m in dir(Assembler)
               if not m.startswith("_") and callable(getattr(Assembler, m))
               and not re.search(rf"\b{m}\b", src)]
    # Exercised by tests of other files (labels, constant pool, jump tables, patching).
    elsewhere = {"new_label", "bind", "is_bound", "label_offset", "finalize", "patch_imm32", "patch_imm64",
                 "const_bytes", "const_f32", "const_f64", "const_u32", "const_u64", "const_u128", "jump_table",
                 "data", "pos",
                 "vex", "vex_m"}   # tests/isa/test_vex.py
    assert set(missing) <= elsewhere, sorted(set(missing) - elsewhere)


def test_atomics():
    b = Batch()
    a = b.a
    for size in SIZES:
        for r, (base, disp, index, scale) in mem_cases(GPRS):
            m = M(size, base, disp, index, scale)
            b("xchg", (m, R(r, size)), a.xchg_mr, size, r, base, disp, index, scale)
            b("lock xadd", (m, R(r, size)), a.lock_xadd, size, r, base, disp, index, scale)
            b("lock cmpxchg", (m, R(r, size)), a.lock_cmpxchg, size, r, base, disp, index, scale)
            for op in (A.ADD, A.OR, A.ADC, A.SBB, A.AND, A.SUB, A.XOR):
                b("lock " + A.ALU_NAMES[op], (m, R(r, size)), a.lock_alu_mr, op, size, r, base, disp, index, scale)
    b.check()


# ---------------------------------------------------------------- v128
from pywinch.isa.x64 import simd as V  # noqa: E402


def test_simd_register_and_memory_forms_all():
    b = Batch()
    a = b.a
    fwd = a.new_label()
    for op in V.SIMD_OPS + V.SIMD_RR_ONLY_OPS:
        for d in XMMS:
            for s in XMMS:
                b(op[0], (R(d), R(s)), a.sse, op, d, s)
    for op in V.SIMD_OPS:
        for x, (base, disp, index, scale) in mem_cases(XMMS):
            b(op[0], (R(x), M(None, base, disp, index, scale)), a.sse_m, op, x, base, disp, index, scale)
        b(op[0], (R(XMMS[9]), ML(None, fwd)), a.sse_m, op, XMMS[9], RIP, fwd)
    for op in V.SIMD_IMM_OPS:
        for d in XMMS:
            for s in XMMS:
                b(op[0], (R(d), R(s), 0x1B), a.sse_imm, op, d, s, 0x1B)
        for x, (base, disp, index, scale) in mem_cases(XMMS):
            b(op[0], (R(x), M(None, base, disp, index, scale), 5), a.sse_imm_m, op, x, 5, base, disp, index, scale)
    for op in V.SIMD_SHIFT_IMM_OPS:
        for x in XMMS:
            for n in (0, 1, 15, 63, 255):
                b(op[0], (R(x), Imm(n, 1)), a.sse_shift_imm, op, x, n)
    a.bind(fwd)
    b.check()


def test_simd_lane_moves_all():
    b = Batch()
    a = b.a
    fwd = a.new_label()
    names = {1: "b", 2: "w", 4: "d", 8: "q"}
    for size, lanes in ((1, 16), (2, 8), (4, 4), (8, 2)):
        gsize = 8 if size == 8 else 4
        for x in XMMS:
            for g in GPRS:
                for lane in (0, lanes - 1):
                    b("pinsr" + names[size], (R(x), R(g, gsize), lane), a.pinsr, size, x, g, lane)
                    b("pextr" + names[size], (R(g, gsize), R(x), lane), a.pextr, size, g, x, lane)
        for x, (base, disp, index, scale) in mem_cases(XMMS):
            m = M(size, base, disp, index, scale)
            b("pinsr" + names[size], (R(x), m, lanes - 1), a.pinsr_m, size, x, lanes - 1, base, disp, index, scale)
            b("pextr" + names[size], (m, R(x), 1), a.pextr_m, size, x, 1, base, disp, index, scale)
        b("pinsr" + names[size], (R(XMMS[2]), ML(size, fwd), 1), a.pinsr_m, size, XMMS[2], 1, RIP, fwd)
    for x in XMMS:
        for g in GPRS:
            b("movmskps", (R(g, 4), R(x)), a.movmskps, g, x)
            b("movmskpd", (R(g, 4), R(x)), a.movmskpd, g, x)
            b("pmovmskb", (R(g, 4), R(x)), a.pmovmskb, g, x)
    a.bind(fwd)
    b.check()
