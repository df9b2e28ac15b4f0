"""AVX (VEX.128) encodings of the two-source SSE operations (``vex``/``vex_m``),
decoded back with capstone for register, memory (REX-extended base/index)
and RIP-relative operands, with the 2- and 3-byte VEX prefixes."""

import pytest

capstone = pytest.importorskip("capstone")

from pywinch.errors import AssemblerError
from pywinch.isa.x64 import simd as sx
from pywinch.isa.x64.asm import Assembler
from pywinch.isa.x64.regs import RIP

MD = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
REGS = [(16, 17, 18), (31, 16, 25), (24, 30, 17), (16, 31, 31)]
MEMS = [(5, -0x20, 3, 1, "rbp + rbx - 0x20"), (13, 0x200, 12, 2, "r13 + r12*2 + 0x200"), (0, 0, sx.NO_REG, 1, "rax"),
        (12, 8, sx.NO_REG, 1, "r12 + 8"), (1, 0x7F, 9, 8, "rcx + r9*8 + 0x7f")]


def _dis(code):
    return [f"{i.mnemonic} {i.op_str}" for i in MD.disasm(code, 0)]


def x(r):
    return f"xmm{r - 16}"


@pytest.mark.parametrize("op", sx.VEX_OPS, ids=[o[0] for o in sx.VEX_OPS])
def test_vex_forms_decode(op):
    name = "v" + op[0]
    for d, s1, s2 in REGS:
        a = Assembler()
        a.vex(op, d, s1, s2)
        assert _dis(a.finalize()) == [f"{name} {x(d)}, {x(s1)}, {x(s2)}"]
        for base, disp, index, scale, text in MEMS:
            a = Assembler()
            a.vex_m(op, d, s1, base, disp, index, scale)
            code = a.finalize()
            assert _dis(code) == [f"{name} {x(d)}, {x(s1)}, xmmword ptr [{text}]"], code.hex()
    a = Assembler()
    lab = a.const_u128(0x1234)
    a.vex_m(op, 20, 21, RIP, lab)
    a.ret()
    code = a.finalize()
    ins = next(MD.disasm(code, 0))
    assert ins.mnemonic == name
    target = ins.address + ins.size + int(ins.op_str.split("rip + ")[1].rstrip("]"), 16)
    assert code[target:target + 16] == (0x1234).to_bytes(16, "little")


@pytest.mark.parametrize("op", sx.VEX_IMM_OPS, ids=[o[0] for o in sx.VEX_IMM_OPS])
def test_vex_imm_forms_decode(op):
    a = Assembler()
    a.vex(op, 17, 26, 19, 0x15)
    a.vex_m(op, 25, 16, 13, 0x40, 10, 4, imm=0x15)
    ins = list(MD.disasm(a.finalize(), 0))
    assert len(ins) == 2 and all(i.mnemonic.startswith("v") for i in ins)
    assert ins[0].op_str.startswith("xmm1, xmm10, xmm3")
    # cmpps/cmppd show the predicate in the mnemonic instead of an immediate.
    assert ins[1].op_str.startswith("xmm9, xmm0, ") and "ptr [r13 + r10*4 + 0x40]" in ins[1].op_str
    assert ins[1].bytes[-1] == 0x15


def test_vex_rejects_gprs():
    with pytest.raises(AssemblerError):
        Assembler().vex(sx.PSHUFB, 16, 3, 17)
    with pytest.raises(AssemblerError):
        Assembler().vex_m(sx.PSHUFB, 2, 16, 5, 0)
