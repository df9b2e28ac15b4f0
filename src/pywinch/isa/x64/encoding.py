"""Encoding primitives shared by the x86-64 assembler modules (private to isa/x64).

Byte tables and small helpers: operand-size prefixes, SIB scale bits, packers,
immediate ranges, and the error helper that names the instruction.
"""

from __future__ import annotations

import struct

from ...errors import AssemblerError
from .regs import name as reg_name

_pack_i32 = struct.Struct("<i").pack
_pack_u32 = struct.Struct("<I").pack
_pack_u16 = struct.Struct("<H").pack
_pack_u64 = struct.Struct("<Q").pack
_pack_f32 = struct.Struct("<f").pack
_pack_f64 = struct.Struct("<d").pack

# Operand-size prefix and REX.W bit per size.
_OPSZ = {1: (b"", 0), 2: (b"\x66", 0), 4: (b"", 0), 8: (b"", 8)}
_SS = {1: 0x00, 2: 0x40, 4: 0x80, 8: 0xC0}
_D8 = [bytes((i,)) for i in range(256)]
_ZERO4 = b"\0\0\0\0"

# Immediate ranges a size-N immediate field can hold (signed or unsigned bits).
_IMM_LO = {1: -0x80, 2: -0x8000, 4: -0x80000000, 8: -0x80000000}
_IMM_HI = {1: 0xFF, 2: 0xFFFF, 4: 0xFFFFFFFF, 8: 0x7FFFFFFF}


def _bad(insn: str, msg: str):
    raise AssemblerError(f"{insn}: {msg}")


def _gpr_name(r, size=8):
    try:
        return reg_name(r, size)
    except (ValueError, TypeError):
        return repr(r)


def _opsz(insn, size):
    r = _OPSZ.get(size)
    if r is None:
        raise AssemblerError(f"{insn}: bad operand size {size!r}")
    return r


def _signed(size, imm):
    """``imm`` (given signed or unsigned) as the signed value of its operand size."""
    if size == 4 and imm > 0x7FFFFFFF:
        return imm - 0x100000000
    if size == 2 and imm > 0x7FFF:
        return imm - 0x10000
    return imm


def _imm_bytes(size, imm):
    if size == 1:
        return _D8[imm & 0xFF]
    if size == 2:
        return _pack_u16(imm & 0xFFFF)
    return _pack_u32(imm & 0xFFFFFFFF)


def _rr_bytes(pfx, w, opc, reg, rm, byte_regs=False):
    rex = w | (reg & 8) >> 1 | (rm & 8) >> 3
    out = pfx
    if rex or (byte_regs and (4 <= reg < 8 or 4 <= rm < 8)):
        out += bytes((0x40 | rex,))
    return out + opc + bytes((0xC0 | (reg & 7) << 3 | (rm & 7),))
