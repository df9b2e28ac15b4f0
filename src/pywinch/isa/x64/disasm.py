"""Disassembly of x86-64 code for humans (``pywinch explore``, snapshot tests).

pywinch itself needs no disassembler; this module uses one when installed:
iced-x86 (``pip install iced-x86``), else capstone.  Without either it raises
:class:`~pywinch.errors.UnsupportedError` saying what to install.
"""

from __future__ import annotations

from ...errors import UnsupportedError


def _iced(code: bytes, base: int):
    from iced_x86 import Decoder, Formatter, FormatterSyntax

    fmt = Formatter(FormatterSyntax.INTEL)
    fmt.first_operand_char_index = 0
    fmt.space_after_operand_separator = True
    fmt.hex_prefix = "0x"
    fmt.hex_suffix = ""
    fmt.uppercase_hex = False
    fmt.signed_immediate_operands = True
    out = []
    for ins in Decoder(64, code, ip=base):
        off = ins.ip - base
        out.append((ins.ip, code[off:off + ins.len], fmt.format(ins)))
    return out


def _capstone(code: bytes, base: int):
    import capstone

    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    md.skipdata = True
    return [(i.address, bytes(i.bytes), f"{i.mnemonic} {i.op_str}".strip()) for i in md.disasm(code, base)]


def disassemble(code: bytes, base: int = 0) -> list[tuple[int, bytes, str]]:
    """``[(address, instruction bytes, Intel-syntax text), ...]`` for ``code`` loaded at ``base``."""
    code = bytes(code)
    try:
        return _iced(code, base)
    except ImportError:
        pass
    try:
        return _capstone(code, base)
    except ImportError:
        raise UnsupportedError("disassembly needs iced-x86 or capstone (pip install iced-x86)") from None


def format_code(code: bytes, base: int = 0, labels: dict[int, str] | None = None,
                code_end: int | None = None) -> str:
    """A listing: one ``address: bytes  text`` line per instruction, ``labels`` (address -> name) above.

    Bytes from ``code_end`` on (``Assembler.code_end``: the constant pool) are
    shown as data, 16 per line.
    """
    code = bytes(code)
    end = len(code) if code_end is None else code_end
    lines = []
    labels = labels or {}
    for addr, raw, text in disassemble(code[:end], base):
        if addr in labels:
            lines.append(f"{labels[addr]}:")
        lines.append(f"  {addr:6x}: {raw.hex(' '):<30} {text}")
    for off in range(end, len(code), 16):
        lines.append(f"  {base + off:6x}: {code[off:off + 16].hex(' '):<47} ; data")
    return "\n".join(lines)
