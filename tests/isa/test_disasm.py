"""The human-readable listing used by ``pywinch explore`` and snapshot tests."""

import pytest

pytest.importorskip("iced_x86")  # the expected text is iced's Intel syntax

from pywinch.isa.x64.asm import Assembler  # noqa: E402
from pywinch.isa.x64.disasm import disassemble, format_code  # noqa: E402
from pywinch.isa.x64.regs import RAX, RBP, RIP, XMM0  # noqa: E402


def test_listing_with_labels_and_constant_pool():
    a = Assembler()
    top = a.new_label()
    a.bind(top)
    a.load(8, RAX, RBP, -16)
    a.alu_ri(0, 8, RAX, -1)
    a.jcc(5, top)
    a.load(8, XMM0, RIP, a.const_f64(1.0))
    a.ret()
    code = a.finalize()
    assert a.code_end == 0x13
    ins = disassemble(code[:a.code_end])
    assert [t for _, _, t in ins] == [
        "mov rax, [rbp-0x10]", "add rax, -1", "jne short 0", "movsd xmm0, [0x18]", "ret"]
    text = format_code(code, labels={0: "top"}, code_end=a.code_end)
    lines = text.splitlines()
    assert lines[0] == "top:"
    assert lines[1].split() == ["0:", "48", "8b", "45", "f0", "mov", "rax,", "[rbp-0x10]"]
    assert lines[-1].endswith("; data") and "f0 3f" in lines[-1]
