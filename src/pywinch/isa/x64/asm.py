"""The x86-64 assembler: instruction encoding, labels, fixups, constant pool.

One :class:`Assembler` per function (or trampoline).  Every method appends
the bytes of one instruction to ``self.buf`` (a ``bytearray``) at once; there
are no instruction objects.  ``finalize()`` appends the constant pool, checks
that every used label is bound and returns the code bytes.

Operand conventions
-------------------
* **Registers** are ints from :mod:`pywinch.isa.x64.regs`: GPRs 0..15,
  XMM registers 16..31.  A register of the wrong class raises
  :class:`~pywinch.errors.AssemblerError`.
* **Sizes** are operand sizes in bytes: 1, 2, 4 or 8 (16 for whole-XMM
  loads/stores).  32-bit operations zero the upper half of the destination
  register, as the hardware does.
* **Memory operands** are never objects: methods take the trailing arguments
  ``base, disp=0, index=NO_REG, scale=1`` meaning ``[base + index*scale + disp]``.
  ``base`` is any GPR (rsp/r12 get their SIB byte, rbp/r13 their zero
  displacement automatically), or ``NO_REG`` when there is an index (then
  ``disp`` is a 32-bit absolute offset), or ``RIP``: then ``disp`` is a
  *label* and the operand is ``[rip + label]`` (constant pool, jump tables,
  data placed in the code).  ``index`` is any GPR but rsp; ``scale`` is
  1, 2, 4 or 8; ``disp`` a signed 32-bit value (disp8 form chosen when it fits).
* **Immediates** are Python ints checked against the form: an immediate that
  the form cannot represent raises AssemblerError, never wrong bytes.  A
  size-4 immediate may be given signed or unsigned (``-1`` and ``0xFFFFFFFF``
  are the same bits); a size-8 ALU/store immediate is sign-extended from 32
  bits, so it must lie in ``[-2**31, 2**31)``; ``mov_ri`` takes any 64-bit
  value (signed or unsigned) and picks the shortest encoding.
* **Destination first**: ``alu_rr(ADD, 8, dst, src)`` is ``add dst, src``.
  Memory-destination forms name the source before the memory operand:
  ``store(size, src, base, disp)``, ``alu_mr(op, size, src, base, disp)``,
  ``alu_mi(op, size, imm, base, disp)``.

Labels and branches
-------------------
Labels are ints from :meth:`Assembler.new_label`; :meth:`Assembler.bind` sets
one to the current position.  Branch selection is simple and always correct:
a branch to an already bound label uses the 2-byte short form when the
distance fits in 8 bits, a rel32 form otherwise; a branch to a label not yet
bound (a forward branch) always uses rel32 and is patched at ``bind``.
``jmp_short``/``jcc_short`` force the 2-byte form for forward branches over
a few instructions; binding a label too far from them raises AssemblerError.

Position independence
---------------------
The code never contains its own absolute address.  The constant pool is
placed after the code (aligned to its largest entry, up to 16) and reached
RIP-relatively; jump tables hold offsets relative to the table.  The code
assumes it is loaded at a 16-byte aligned address (``runtime.code`` does so;
a module's code blob must place each function at a multiple of 16).
Calls to code outside this buffer (other functions of the module) use
:meth:`Assembler.call_extern`, which records a relocation in ``self.relocs``
for whoever lays out the blob (:func:`link_rel32`).
"""

from __future__ import annotations

import struct

from ...errors import AssemblerError
from .regs import RIP, NO_REG, RSP, RBP, R11, name as reg_name, CC_NAMES
from .sse import SseMixin

__all__ = [
    "Assembler", "link_rel32",
    "ADD", "OR", "ADC", "SBB", "AND", "SUB", "XOR", "CMP",
    "ROL", "ROR", "SHL", "SHR", "SAR",
]

# ALU operations: the /digit of opcodes 80/81/83 and the high bits of 00..3F.
ADD, OR, ADC, SBB, AND, SUB, XOR, CMP = range(8)
_ALU_NAMES = ("add", "or", "adc", "sbb", "and", "sub", "xor", "cmp")
# Shift/rotate operations: the /digit of C0/C1/D0..D3.
ROL, ROR, RCL, RCR, SHL, SHR, SAL, SAR = range(8)
_SHIFT_NAMES = ("rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar")

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

# Recommended multi-byte NOPs (Intel SDM vol. 2B, NOP).
_NOPS = (
    b"",
    b"\x90",
    b"\x66\x90",
    b"\x0f\x1f\x00",
    b"\x0f\x1f\x40\x00",
    b"\x0f\x1f\x44\x00\x00",
    b"\x66\x0f\x1f\x44\x00\x00",
    b"\x0f\x1f\x80\x00\x00\x00\x00",
    b"\x0f\x1f\x84\x00\x00\x00\x00\x00",
    b"\x66\x0f\x1f\x84\x00\x00\x00\x00\x00",
)

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


def link_rel32(buf: bytearray, at: int, target: int) -> None:
    """Patch the rel32 field at ``at`` (ending at ``at + 4``) to reach ``target``.

    For the module linker: ``at`` and ``target`` are offsets in the same blob.
    """
    rel = target - (at + 4)
    if not -0x80000000 <= rel <= 0x7FFFFFFF:
        raise AssemblerError(f"rel32 relocation at {at:#x}: target {target:#x} out of range")
    buf[at:at + 4] = _pack_i32(rel)


class Assembler(SseMixin):
    """An x86-64 code buffer with labels, fixups and a constant pool.

    Public state: ``buf`` (the bytes so far; ``len(buf)`` is the current
    offset, also ``pos``), ``relocs`` (list of ``(at, key)`` rel32 sites from
    :meth:`call_extern`).  See the module docstring for operand conventions.
    """

    __slots__ = ("buf", "relocs", "_lpos", "_lfix", "_consts", "_const_list", "_finalized")

    def __init__(self):
        self.buf = bytearray()
        self.relocs: list[tuple[int, object]] = []
        self._lpos: list[int] = []        # label -> offset, -1 while unbound
        self._lfix: list[list] = []       # label -> pending (at, base, width, insn)
        self._consts: dict[bytes, int] = {}
        self._const_list: list[tuple[int, bytes, int]] = []
        self._finalized = False

    # ------------------------------------------------------------------ state
    @property
    def pos(self) -> int:
        """The current offset (where the next instruction goes)."""
        return len(self.buf)

    def __len__(self) -> int:
        return len(self.buf)

    # ----------------------------------------------------------------- labels
    def new_label(self) -> int:
        """A fresh unbound label."""
        self._lpos.append(-1)
        self._lfix.append([])
        return len(self._lpos) - 1

    def bind(self, label: int, at: int | None = None) -> None:
        """Bind ``label`` to the current offset (or ``at``) and patch its pending uses."""
        self._check_label(label, "bind")
        if self._lpos[label] >= 0:
            _bad("bind", f"label {label} is already bound at {self._lpos[label]:#x}")
        pos = len(self.buf) if at is None else at
        if type(pos) is not int or not 0 <= pos <= len(self.buf):
            _bad("bind", f"offset {pos!r} is not within the code emitted so far")
        self._lpos[label] = pos
        fix = self._lfix[label]
        if fix:
            buf = self.buf
            for at_, base, width, insn in fix:
                rel = pos - base
                if width == 4:
                    buf[at_:at_ + 4] = _pack_i32(rel)
                elif -128 <= rel <= 127:
                    buf[at_] = rel & 0xFF
                else:
                    _bad(insn, f"short branch at {at_ - 1:#x} cannot reach label {label} at {pos:#x} "
                               f"(distance {rel})")
            self._lfix[label] = []

    def is_bound(self, label: int) -> bool:
        self._check_label(label, "is_bound")
        return self._lpos[label] >= 0

    def label_offset(self, label: int) -> int:
        """The offset of a bound label."""
        self._check_label(label, "label_offset")
        pos = self._lpos[label]
        if pos < 0:
            _bad("label_offset", f"label {label} is not bound")
        return pos

    def _check_label(self, label, insn):
        if type(label) is not int or not 0 <= label < len(self._lpos):
            _bad(insn, f"{label!r} is not a label of this assembler")

    def _use_label(self, label, at, base, width, insn):
        """Record that the ``width``-byte field at ``at`` holds ``label - base``."""
        lpos = self._lpos
        if type(label) is not int or not 0 <= label < len(lpos):
            _bad(insn, f"{label!r} is not a label of this assembler")
        pos = lpos[label]
        if pos >= 0:
            rel = pos - base
            if width == 4:
                self.buf[at:at + 4] = _pack_i32(rel)
            elif -128 <= rel <= 127:
                self.buf[at] = rel & 0xFF
            else:
                _bad(insn, f"short branch cannot reach label {label} (distance {rel})")
        else:
            self._lfix[label].append((at, base, width, insn))

    # ------------------------------------------------------- patching helpers
    def patch_imm32(self, at: int, value: int) -> None:
        """Overwrite the 32-bit immediate at ``at`` (as returned by the ``*_imm32`` forms)."""
        if not 0 <= at <= len(self.buf) - 4:
            _bad("patch_imm32", f"offset {at:#x} outside the code")
        if not -0x80000000 <= value <= 0xFFFFFFFF:
            _bad("patch_imm32", f"value {value} does not fit in 32 bits")
        self.buf[at:at + 4] = _pack_u32(value & 0xFFFFFFFF)

    def patch_imm64(self, at: int, value: int) -> None:
        if not 0 <= at <= len(self.buf) - 8:
            _bad("patch_imm64", f"offset {at:#x} outside the code")
        if not -(1 << 63) <= value < (1 << 64):
            _bad("patch_imm64", f"value {value} does not fit in 64 bits")
        self.buf[at:at + 8] = _pack_u64(value & 0xFFFFFFFFFFFFFFFF)

    # ------------------------------------------------------- core encoders
    def _rr(self, insn, pfx, w, opc, reg, rm, byte_regs=False):
        """Emit ``pfx [REX] opc ModRM(11, reg, rm)``; ``reg``/``rm`` are 0..15."""
        rex = w | (reg & 8) >> 1 | (rm & 8) >> 3
        if rex or (byte_regs and (4 <= reg < 8 or 4 <= rm < 8)):
            self.buf += pfx + _D8[0x40 | rex] + opc + _D8[0xC0 | (reg & 7) << 3 | (rm & 7)]
        else:
            self.buf += pfx + opc + _D8[0xC0 | (reg & 7) << 3 | (rm & 7)]

    def _rm(self, insn, pfx, w, opc, reg, base, disp, index, scale, imm=b"", force_rex=False):
        """Emit ``pfx [REX] opc ModRM [SIB] [disp] imm`` for a memory operand.

        ``reg`` is the hardware number (0..15) of the ModRM reg field or a /digit.
        """
        rex = w | (reg & 8) >> 1
        r3 = (reg & 7) << 3
        if base == RIP:
            if index != NO_REG:
                _bad(insn, "a RIP-relative operand cannot have an index")
            if type(disp) is not int or not 0 <= disp < len(self._lpos):
                _bad(insn, f"{disp!r} is not a label of this assembler (RIP-relative operand)")
            if rex or force_rex:
                self.buf += pfx + _D8[0x40 | rex] + opc + _D8[r3 | 5]
            else:
                self.buf += pfx + opc + _D8[r3 | 5]
            at = len(self.buf)
            self.buf += _ZERO4 + imm
            self._use_label(disp, at, at + 4 + len(imm), 4, insn)
            return
        if type(disp) is not int or not -0x80000000 <= disp <= 0x7FFFFFFF:
            _bad(insn, f"displacement {disp!r} does not fit in 32 bits")
        if index == NO_REG:
            if type(base) is not int or not 0 <= base < 16:
                _bad(insn, f"base {base!r} is not a general-purpose register")
            rex |= base >> 3
            b7 = base & 7
            if disp == 0 and b7 != 5:
                tail = _D8[r3 | b7]
            elif -128 <= disp <= 127:
                tail = _D8[0x40 | r3 | b7]
                if b7 == 4:
                    tail += b"\x24"
                tail += _D8[disp & 0xFF]
            else:
                tail = _D8[0x80 | r3 | b7]
                if b7 == 4:
                    tail += b"\x24"
                tail += _pack_i32(disp)
            if b7 == 4 and disp == 0:
                tail += b"\x24"
        else:
            if type(index) is not int or not 0 <= index < 16 or index == RSP:
                _bad(insn, f"index {_gpr_name(index)} is not a general-purpose register other than rsp")
            ss = _SS.get(scale)
            if ss is None:
                _bad(insn, f"scale {scale!r} is not 1, 2, 4 or 8")
            rex |= (index & 8) >> 2
            if base == NO_REG:
                tail = _D8[r3 | 4] + _D8[ss | (index & 7) << 3 | 5] + _pack_i32(disp)
            else:
                if type(base) is not int or not 0 <= base < 16:
                    _bad(insn, f"base {base!r} is not a general-purpose register")
                rex |= base >> 3
                b7 = base & 7
                sib = _D8[ss | (index & 7) << 3 | b7]
                if disp == 0 and b7 != 5:
                    tail = _D8[r3 | 4] + sib
                elif -128 <= disp <= 127:
                    tail = _D8[0x44 | r3] + sib + _D8[disp & 0xFF]
                else:
                    tail = _D8[0x84 | r3] + sib + _pack_i32(disp)
        if rex or force_rex:
            self.buf += pfx + _D8[0x40 | rex] + opc + tail + imm
        else:
            self.buf += pfx + opc + tail + imm

    # ============================================================ data moves
    def mov_rr(self, size: int, dst: int, src: int) -> None:
        """``mov dst, src``.  Size 4 zero-extends into the upper 32 bits."""
        if (dst | src) >> 4:
            _bad("mov", f"operands {_gpr_name(dst)}, {_gpr_name(src)} must be general-purpose registers")
        if size == 8:
            self.buf += _MOV_RR8[src << 4 | dst]
        elif size == 4:
            self.buf += _MOV_RR4[src << 4 | dst]
        elif size == 2:
            self._rr("mov", b"\x66", 0, b"\x89", src, dst)
        elif size == 1:
            self._rr("mov", b"", 0, b"\x88", src, dst, True)
        else:
            _bad("mov", f"bad operand size {size!r}")

    def mov_ri(self, size: int, dst: int, imm: int) -> None:
        """``mov dst, imm`` with the shortest encoding (flags are never touched).

        Size 8: a value in [0, 2**32) uses ``mov r32, imm32`` (zero-extends),
        a negative int32 ``mov r64, simm32``, anything else ``movabs``.
        """
        if type(dst) is not int or not 0 <= dst < 16:
            _bad("mov", f"destination {dst!r} is not a general-purpose register")
        if size == 8:
            if 0 <= imm <= 0xFFFFFFFF:
                self.buf += (_D8[0x41] + _D8[0xB8 + dst - 8] if dst >= 8 else _D8[0xB8 + dst]) + _pack_u32(imm)
            elif -0x80000000 <= imm < 0:
                self.buf += _D8[0x48 | dst >> 3] + b"\xc7" + _D8[0xC0 | dst & 7] + _pack_i32(imm)
            elif -(1 << 63) <= imm < (1 << 64):
                self.buf += _D8[0x48 | dst >> 3] + _D8[0xB8 + (dst & 7)] + _pack_u64(imm & 0xFFFFFFFFFFFFFFFF)
            else:
                _bad("mov", f"immediate {imm} does not fit in 64 bits")
            return
        lo = _IMM_LO.get(size)
        if lo is None:
            _bad("mov", f"bad operand size {size!r}")
        if not lo <= imm <= _IMM_HI[size]:
            _bad("mov", f"immediate {imm} does not fit in {size * 8} bits")
        if size == 4:
            body = _D8[0xB8 + (dst & 7)] + _pack_u32(imm & 0xFFFFFFFF)
        elif size == 2:
            body = _D8[0xB8 + (dst & 7)] + _pack_u16(imm & 0xFFFF)
        else:
            body = _D8[0xB0 + (dst & 7)] + _D8[imm & 0xFF]
        if size == 2:
            self.buf += b"\x66"
        if dst >= 8:
            self.buf += b"\x41"
        elif size == 1 and dst >= 4:
            self.buf += b"\x40"
        self.buf += body

    def movabs(self, dst: int, imm: int) -> int:
        """``movabs dst, imm64`` always in the 10-byte form; returns the offset of the imm64."""
        if type(dst) is not int or not 0 <= dst < 16:
            _bad("movabs", f"destination {dst!r} is not a general-purpose register")
        if not -(1 << 63) <= imm < (1 << 64):
            _bad("movabs", f"immediate {imm} does not fit in 64 bits")
        self.buf += _D8[0x48 | dst >> 3] + _D8[0xB8 + (dst & 7)]
        at = len(self.buf)
        self.buf += _pack_u64(imm & 0xFFFFFFFFFFFFFFFF)
        return at

    def load(self, size: int, dst: int, base: int, disp: int = 0, index: int = NO_REG, scale: int = 1) -> None:
        """``mov dst, [mem]``; an XMM ``dst`` gets movss (4), movsd (8) or movdqu (16).

        Size 1 and 2 into a GPR merge into the low bits; use :meth:`load_zx`
        or :meth:`load_sx` to extend.
        """
        if type(dst) is int and 0 <= dst < 16:
            # Fast path: a frame or vmctx slot ([base + disp8], 4 or 8 bytes).
            if index == NO_REG and -128 <= disp <= 127 and disp and (size == 8 or size == 4) \
                    and type(base) is int and 0 <= base < 16:
                self.buf += (_LD8 if size == 8 else _LD4)[dst << 4 | base] + _D8[disp & 0xFF]
                return
            if size == 8:
                self._rm("mov", b"", 8, b"\x8b", dst, base, disp, index, scale)
            elif size == 4:
                self._rm("mov", b"", 0, b"\x8b", dst, base, disp, index, scale)
            elif size == 2:
                self._rm("mov", b"\x66", 0, b"\x8b", dst, base, disp, index, scale)
            elif size == 1:
                self._rm("mov", b"", 0, b"\x8a", dst, base, disp, index, scale, b"", 4 <= dst < 8)
            else:
                _bad("mov", f"bad operand size {size!r}")
        elif type(dst) is int and 16 <= dst < 32:
            op = _XMM_LOAD.get(size)
            if op is None:
                _bad("load", f"bad size {size!r} for an XMM register (4, 8 or 16)")
            self._rm(op[0], op[1], 0, op[2], dst & 15, base, disp, index, scale)
        else:
            _bad("load", f"destination {dst!r} is not a register")

    def store(self, size: int, src: int, base: int, disp: int = 0, index: int = NO_REG, scale: int = 1) -> None:
        """``mov [mem], src``; an XMM ``src`` stores with movss/movsd/movdqu (4/8/16)."""
        if type(src) is int and 0 <= src < 16:
            if index == NO_REG and -128 <= disp <= 127 and disp and (size == 8 or size == 4) \
                    and type(base) is int and 0 <= base < 16:
                self.buf += (_ST8 if size == 8 else _ST4)[src << 4 | base] + _D8[disp & 0xFF]
                return
            if size == 8:
                self._rm("mov", b"", 8, b"\x89", src, base, disp, index, scale)
            elif size == 4:
                self._rm("mov", b"", 0, b"\x89", src, base, disp, index, scale)
            elif size == 2:
                self._rm("mov", b"\x66", 0, b"\x89", src, base, disp, index, scale)
            elif size == 1:
                self._rm("mov", b"", 0, b"\x88", src, base, disp, index, scale, b"", 4 <= src < 8)
            else:
                _bad("mov", f"bad operand size {size!r}")
        elif type(src) is int and 16 <= src < 32:
            op = _XMM_STORE.get(size)
            if op is None:
                _bad("store", f"bad size {size!r} for an XMM register (4, 8 or 16)")
            self._rm(op[0], op[1], 0, op[2], src & 15, base, disp, index, scale)
        else:
            _bad("store", f"source {src!r} is not a register")

    def load_zx(self, size: int, dst: int, base: int, disp: int = 0, index: int = NO_REG, scale: int = 1) -> None:
        """Load ``size`` bytes zero-extended to 64 bits (movzx r32 / mov r32 / mov r64)."""
        if type(dst) is not int or not 0 <= dst < 16:
            _bad("movzx", f"destination {dst!r} is not a general-purpose register")
        if size == 1:
            self._rm("movzx", b"", 0, b"\x0f\xb6", dst, base, disp, index, scale)
        elif size == 2:
            self._rm("movzx", b"", 0, b"\x0f\xb7", dst, base, disp, index, scale)
        elif size == 4:
            self._rm("mov", b"", 0, b"\x8b", dst, base, disp, index, scale)
        elif size == 8:
            self._rm("mov", b"", 8, b"\x8b", dst, base, disp, index, scale)
        else:
            _bad("movzx", f"bad source size {size!r}")

    def load_sx(self, size: int, dst_size: int, dst: int, base: int, disp: int = 0,
                index: int = NO_REG, scale: int = 1) -> None:
        """Load ``size`` bytes sign-extended to ``dst_size`` (4 or 8): movsx / movsxd / mov."""
        if type(dst) is not int or not 0 <= dst < 16:
            _bad("movsx", f"destination {dst!r} is not a general-purpose register")
        if dst_size not in (4, 8) or size > dst_size:
            _bad("movsx", f"cannot sign-extend {size!r} bytes to {dst_size!r}")
        w = 8 if dst_size == 8 else 0
        if size == 1:
            self._rm("movsx", b"", w, b"\x0f\xbe", dst, base, disp, index, scale)
        elif size == 2:
            self._rm("movsx", b"", w, b"\x0f\xbf", dst, base, disp, index, scale)
        elif size == 4:
            self._rm("movsxd" if w else "mov", b"", w, b"\x63" if w else b"\x8b", dst, base, disp, index, scale)
        elif size == 8:
            self._rm("mov", b"", 8, b"\x8b", dst, base, disp, index, scale)
        else:
            _bad("movsx", f"bad source size {size!r}")

    def movzx_rr(self, size: int, dst: int, src: int) -> None:
        """Zero-extend the low ``size`` bytes of ``src`` into all 64 bits of ``dst``."""
        if (dst | src) >> 4:
            _bad("movzx", f"operands {_gpr_name(dst)}, {_gpr_name(src)} must be general-purpose registers")
        if size == 1:
            self.buf += _MOVZX8[dst << 4 | src]
        elif size == 2:
            self._rr("movzx", b"", 0, b"\x0f\xb7", dst, src)
        elif size == 4:
            self.buf += _MOV_RR4[src << 4 | dst]
        elif size == 8:
            self.buf += _MOV_RR8[src << 4 | dst]
        else:
            _bad("movzx", f"bad source size {size!r}")

    def movsx_rr(self, size: int, dst_size: int, dst: int, src: int) -> None:
        """Sign-extend the low ``size`` bytes of ``src`` to ``dst_size`` (4 or 8) bytes."""
        if (dst | src) >> 4:
            _bad("movsx", f"operands {_gpr_name(dst)}, {_gpr_name(src)} must be general-purpose registers")
        if dst_size not in (4, 8) or size > dst_size:
            _bad("movsx", f"cannot sign-extend {size!r} bytes to {dst_size!r}")
        w = 8 if dst_size == 8 else 0
        if size == 1:
            self._rr("movsx", b"", w, b"\x0f\xbe", dst, src, True)
        elif size == 2:
            self._rr("movsx", b"", w, b"\x0f\xbf", dst, src)
        elif size == 4:
            if w:
                self._rr("movsxd", b"", 8, b"\x63", dst, src)
            else:
                self.buf += _MOV_RR4[src << 4 | dst]
        elif size == 8:
            self.buf += _MOV_RR8[src << 4 | dst]
        else:
            _bad("movsx", f"bad source size {size!r}")

    def store_imm(self, size: int, imm: int, base: int, disp: int = 0, index: int = NO_REG, scale: int = 1) -> None:
        """``mov [mem], imm`` (size 8: imm sign-extended from 32 bits)."""
        lo = _IMM_LO.get(size)
        if lo is None:
            _bad("mov", f"bad operand size {size!r}")
        if not lo <= imm <= _IMM_HI[size]:
            _bad("mov", f"immediate {imm} does not fit the {size * 8}-bit store form")
        if size == 1:
            self._rm("mov", b"", 0, b"\xc6", 0, base, disp, index, scale, _D8[imm & 0xFF])
        elif size == 2:
            self._rm("mov", b"\x66", 0, b"\xc7", 0, base, disp, index, scale, _pack_u16(imm & 0xFFFF))
        else:
            self._rm("mov", b"", 8 if size == 8 else 0, b"\xc7", 0, base, disp, index, scale,
                     _pack_u32(imm & 0xFFFFFFFF))

    def lea(self, size: int, dst: int, base: int, disp: int = 0, index: int = NO_REG, scale: int = 1) -> None:
        """``lea dst, [mem]`` (size 4 or 8); ``base=RIP, disp=label`` gives a label's address."""
        if type(dst) is not int or not 0 <= dst < 16:
            _bad("lea", f"destination {dst!r} is not a general-purpose register")
        if size == 8:
            self._rm("lea", b"", 8, b"\x8d", dst, base, disp, index, scale)
        elif size == 4:
            self._rm("lea", b"", 0, b"\x8d", dst, base, disp, index, scale)
        else:
            _bad("lea", f"bad operand size {size!r}")

    def lea_label(self, dst: int, label: int) -> None:
        """``lea dst, [rip + label]``: the run-time address of a label."""
        self.lea(8, dst, RIP, label)

    def xchg_rr(self, size: int, a: int, b: int) -> None:
        if (a | b) >> 4:
            _bad("xchg", "operands must be general-purpose registers")
        pfx, w = _opsz("xchg", size)
        self._rr("xchg", pfx, w, b"\x86" if size == 1 else b"\x87", b, a, size == 1)

    def bswap(self, size: int, r: int) -> None:
        """Byte-swap a 32- or 64-bit register."""
        if type(r) is not int or not 0 <= r < 16:
            _bad("bswap", f"operand {r!r} is not a general-purpose register")
        if size not in (4, 8):
            _bad("bswap", f"bad operand size {size!r}")
        rex = (8 if size == 8 else 0) | r >> 3
        self.buf += (_D8[0x40 | rex] if rex else b"") + b"\x0f" + _D8[0xC8 + (r & 7)]

    # ==================================================================== ALU
    def alu_rr(self, op: int, size: int, dst: int, src: int) -> None:
        """``<op> dst, src`` for op in ADD, OR, ADC, SBB, AND, SUB, XOR, CMP."""
        if (dst | src) >> 4:
            _bad(_alu_name(op), f"operands {_gpr_name(dst)}, {_gpr_name(src)} must be general-purpose registers")
        tbl = _ALU_RR.get(size)
        if tbl is None:
            _bad(_alu_name(op), f"bad operand size {size!r}")
        if type(op) is not int or not 0 <= op < 8:
            _bad("alu", f"bad ALU operation {op!r}")
        self.buf += tbl[op << 8 | src << 4 | dst]

    def alu_ri(self, op: int, size: int, dst: int, imm: int) -> None:
        """``<op> dst, imm``; the sign-extended imm8 form when the value fits."""
        if -128 <= imm <= 127 and (size == 8 or size == 4) and type(dst) is int and 0 <= dst < 16 \
                and type(op) is int and 0 <= op < 8:
            self.buf += (_ALU_I8_8 if size == 8 else _ALU_I8_4)[op << 4 | dst] + _D8[imm & 0xFF]
            return
        if type(dst) is not int or not 0 <= dst < 16:
            _bad(_alu_name(op), f"destination {dst!r} is not a general-purpose register")
        if type(op) is not int or not 0 <= op < 8:
            _bad("alu", f"bad ALU operation {op!r}")
        lo = _IMM_LO.get(size)
        if lo is None:
            _bad(_ALU_NAMES[op], f"bad operand size {size!r}")
        if not lo <= imm <= _IMM_HI[size]:
            _bad(_ALU_NAMES[op], f"immediate {imm} does not fit the {size * 8}-bit form")
        if size == 1:
            rex = dst >> 3
            if rex or dst >= 4:
                self.buf += _D8[0x40 | rex] + b"\x80" + _D8[0xC0 | op << 3 | dst & 7] + _D8[imm & 0xFF]
            else:
                self.buf += b"\x80" + _D8[0xC0 | op << 3 | dst] + _D8[imm & 0xFF]
            return
        # The value the hardware sees, as a signed number of the operand size.
        if size == 4 and imm > 0x7FFFFFFF:
            simm = imm - 0x100000000
        elif size == 2 and imm > 0x7FFF:
            simm = imm - 0x10000
        else:
            simm = imm
        rex = (8 if size == 8 else 0) | dst >> 3
        head = (b"\x66" if size == 2 else b"") + (_D8[0x40 | rex] if rex else b"")
        if -128 <= simm <= 127:
            self.buf += head + b"\x83" + _D8[0xC0 | op << 3 | dst & 7] + _D8[simm & 0xFF]
        elif size == 2:
            if dst == 0:
                self.buf += head + _D8[op << 3 | 5] + _pack_u16(simm & 0xFFFF)
            else:
                self.buf += head + b"\x81" + _D8[0xC0 | op << 3 | dst & 7] + _pack_u16(simm & 0xFFFF)
        elif dst == 0:
            self.buf += head + _D8[op << 3 | 5] + _pack_i32(simm)
        else:
            self.buf += head + b"\x81" + _D8[0xC0 | op << 3 | dst & 7] + _pack_i32(simm)

    def alu_ri32(self, op: int, size: int, dst: int, imm: int = 0) -> int:
        """``<op> dst, imm32`` always in the long form; returns the offset of the imm32.

        For values known only later (the frame size): patch with :meth:`patch_imm32`.
        """
        if type(dst) is not int or not 0 <= dst < 16:
            _bad(_alu_name(op), f"destination {dst!r} is not a general-purpose register")
        if size not in (4, 8) or type(op) is not int or not 0 <= op < 8:
            _bad(_alu_name(op), f"bad operand size {size!r} for the imm32 form")
        if not _IMM_LO[size] <= imm <= _IMM_HI[size]:
            _bad(_ALU_NAMES[op], f"immediate {imm} does not fit the {size * 8}-bit form")
        rex = (8 if size == 8 else 0) | dst >> 3
        self.buf += (_D8[0x40 | rex] if rex else b"") + b"\x81" + _D8[0xC0 | op << 3 | dst & 7]
        at = len(self.buf)
        self.buf += _pack_u32(imm & 0xFFFFFFFF)
        return at

    def alu_rm(self, op: int, size: int, dst: int, base: int, disp: int = 0,
               index: int = NO_REG, scale: int = 1) -> None:
        """``<op> dst, [mem]``."""
        if type(dst) is not int or not 0 <= dst < 16:
            _bad(_alu_name(op), f"destination {dst!r} is not a general-purpose register")
        pfx, w = _opsz(_alu_name(op), size)
        self._rm(_ALU_NAMES[op], pfx, w, _D8[op << 3 | (2 if size == 1 else 3)], dst, base, disp, index, scale,
                 b"", size == 1 and 4 <= dst < 8)

    def alu_mr(self, op: int, size: int, src: int, base: int, disp: int = 0,
               index: int = NO_REG, scale: int = 1) -> None:
        """``<op> [mem], src``."""
        if type(src) is not int or not 0 <= src < 16:
            _bad(_alu_name(op), f"source {src!r} is not a general-purpose register")
        pfx, w = _opsz(_alu_name(op), size)
        self._rm(_ALU_NAMES[op], pfx, w, _D8[op << 3 | (0 if size == 1 else 1)], src, base, disp, index, scale,
                 b"", size == 1 and 4 <= src < 8)

    def alu_mi(self, op: int, size: int, imm: int, base: int, disp: int = 0,
               index: int = NO_REG, scale: int = 1) -> None:
        """``<op> [mem], imm`` (imm8 form when it fits)."""
        name = _alu_name(op)
        pfx, w = _opsz(name, size)
        if not _IMM_LO[size] <= imm <= _IMM_HI[size]:
            _bad(name, f"immediate {imm} does not fit the {size * 8}-bit form")
        if size == 1:
            self._rm(name, b"", 0, b"\x80", op, base, disp, index, scale, _D8[imm & 0xFF])
            return
        simm = _signed(size, imm)
        if -128 <= simm <= 127:
            self._rm(name, pfx, w, b"\x83", op, base, disp, index, scale, _D8[simm & 0xFF])
        elif size == 2:
            self._rm(name, pfx, w, b"\x81", op, base, disp, index, scale, _pack_u16(simm & 0xFFFF))
        else:
            self._rm(name, pfx, w, b"\x81", op, base, disp, index, scale, _pack_i32(simm))

    # Named conveniences (the compiler may call alu_* directly with an op).
    def add_rr(self, size, dst, src): self.alu_rr(ADD, size, dst, src)
    def sub_rr(self, size, dst, src): self.alu_rr(SUB, size, dst, src)
    def and_rr(self, size, dst, src): self.alu_rr(AND, size, dst, src)
    def or_rr(self, size, dst, src): self.alu_rr(OR, size, dst, src)
    def xor_rr(self, size, dst, src): self.alu_rr(XOR, size, dst, src)
    def cmp_rr(self, size, dst, src): self.alu_rr(CMP, size, dst, src)
    def adc_rr(self, size, dst, src): self.alu_rr(ADC, size, dst, src)
    def sbb_rr(self, size, dst, src): self.alu_rr(SBB, size, dst, src)
    def add_ri(self, size, dst, imm): self.alu_ri(ADD, size, dst, imm)
    def sub_ri(self, size, dst, imm): self.alu_ri(SUB, size, dst, imm)
    def and_ri(self, size, dst, imm): self.alu_ri(AND, size, dst, imm)
    def or_ri(self, size, dst, imm): self.alu_ri(OR, size, dst, imm)
    def xor_ri(self, size, dst, imm): self.alu_ri(XOR, size, dst, imm)
    def cmp_ri(self, size, dst, imm): self.alu_ri(CMP, size, dst, imm)

    def test_rr(self, size: int, a: int, b: int) -> None:
        """``test a, b``."""
        if (a | b) >> 4:
            _bad("test", f"operands {_gpr_name(a)}, {_gpr_name(b)} must be general-purpose registers")
        pfx, w = _opsz("test", size)
        self._rr("test", pfx, w, b"\x84" if size == 1 else b"\x85", b, a, size == 1)

    def test_ri(self, size: int, r: int, imm: int) -> None:
        """``test r, imm`` (size 8: imm sign-extended from 32 bits)."""
        if type(r) is not int or not 0 <= r < 16:
            _bad("test", f"operand {r!r} is not a general-purpose register")
        pfx, w = _opsz("test", size)
        if not _IMM_LO[size] <= imm <= _IMM_HI[size]:
            _bad("test", f"immediate {imm} does not fit the {size * 8}-bit form")
        imm_b = _imm_bytes(size, imm)
        rex = w | r >> 3
        if size == 1 and 4 <= r < 8:
            rex |= 0x40
        head = pfx + (_D8[0x40 | rex] if rex else b"")
        if r == 0:
            self.buf += head + (b"\xa8" if size == 1 else b"\xa9") + imm_b
        else:
            self.buf += head + (b"\xf6" if size == 1 else b"\xf7") + _D8[0xC0 | r & 7] + imm_b

    def test_mi(self, size: int, imm: int, base: int, disp: int = 0, index: int = NO_REG, scale: int = 1) -> None:
        """``test [mem], imm``."""
        pfx, w = _opsz("test", size)
        if not _IMM_LO[size] <= imm <= _IMM_HI[size]:
            _bad("test", f"immediate {imm} does not fit the {size * 8}-bit form")
        self._rm("test", pfx, w, b"\xf6" if size == 1 else b"\xf7", 0, base, disp, index, scale,
                 _imm_bytes(size, imm))

    def test_mr(self, size: int, src: int, base: int, disp: int = 0, index: int = NO_REG, scale: int = 1) -> None:
        """``test [mem], src``."""
        if type(src) is not int or not 0 <= src < 16:
            _bad("test", f"operand {src!r} is not a general-purpose register")
        pfx, w = _opsz("test", size)
        self._rm("test", pfx, w, b"\x84" if size == 1 else b"\x85", src, base, disp, index, scale,
                 b"", size == 1 and 4 <= src < 8)

    def _unary(self, insn, digit, size, r):
        if type(r) is not int or not 0 <= r < 16:
            _bad(insn, f"operand {r!r} is not a general-purpose register")
        pfx, w = _opsz(insn, size)
        self._rr(insn, pfx, w, _UNARY_OPC[insn][size == 1], digit, r, size == 1)

    def neg(self, size: int, r: int) -> None: self._unary("neg", 3, size, r)
    def not_(self, size: int, r: int) -> None: self._unary("not", 2, size, r)
    def inc(self, size: int, r: int) -> None: self._unary("inc", 0, size, r)
    def dec(self, size: int, r: int) -> None: self._unary("dec", 1, size, r)
    def mul(self, size: int, src: int) -> None:
        """Unsigned ``rdx:rax = rax * src``."""
        self._unary("mul", 4, size, src)
    def imul1(self, size: int, src: int) -> None:
        """Signed ``rdx:rax = rax * src``."""
        self._unary("imul", 5, size, src)
    def div(self, size: int, src: int) -> None:
        """Unsigned ``rax = rdx:rax / src``, ``rdx = remainder``."""
        self._unary("div", 6, size, src)
    def idiv(self, size: int, src: int) -> None:
        """Signed ``rax = rdx:rax / src``, ``rdx = remainder``."""
        self._unary("idiv", 7, size, src)

    def imul_rr(self, size: int, dst: int, src: int) -> None:
        """``imul dst, src`` (size 2, 4, 8)."""
        if (dst | src) >> 4:
            _bad("imul", f"operands {_gpr_name(dst)}, {_gpr_name(src)} must be general-purpose registers")
        if size == 1:
            _bad("imul", "no two-operand 8-bit form")
        pfx, w = _opsz("imul", size)
        self._rr("imul", pfx, w, b"\x0f\xaf", dst, src)

    def imul_rm(self, size: int, dst: int, base: int, disp: int = 0, index: int = NO_REG, scale: int = 1) -> None:
        """``imul dst, [mem]``."""
        if type(dst) is not int or not 0 <= dst < 16:
            _bad("imul", f"destination {dst!r} is not a general-purpose register")
        if size == 1:
            _bad("imul", "no two-operand 8-bit form")
        pfx, w = _opsz("imul", size)
        self._rm("imul", pfx, w, b"\x0f\xaf", dst, base, disp, index, scale)

    def imul_rri(self, size: int, dst: int, src: int, imm: int) -> None:
        """``imul dst, src, imm`` (imm8 form when it fits; size 8: imm sign-extended from 32 bits)."""
        if (dst | src) >> 4:
            _bad("imul", f"operands {_gpr_name(dst)}, {_gpr_name(src)} must be general-purpose registers")
        if size == 1:
            _bad("imul", "no 8-bit immediate form")
        pfx, w = _opsz("imul", size)
        if not _IMM_LO[size] <= imm <= _IMM_HI[size]:
            _bad("imul", f"immediate {imm} does not fit the {size * 8}-bit form")
        simm = _signed(size, imm)
        rex = w | (dst & 8) >> 1 | src >> 3
        head = pfx + (_D8[0x40 | rex] if rex else b"")
        modrm = _D8[0xC0 | (dst & 7) << 3 | src & 7]
        if -128 <= simm <= 127:
            self.buf += head + b"\x6b" + modrm + _D8[simm & 0xFF]
        else:
            self.buf += head + b"\x69" + modrm + _imm_bytes(size, imm)

    def cdq(self) -> None:
        """Sign-extend eax into edx."""
        self.buf += b"\x99"

    def cqo(self) -> None:
        """Sign-extend rax into rdx."""
        self.buf += b"\x48\x99"

    def sign_extend_ax(self, size: int) -> None:
        """cdq (size 4) or cqo (size 8): prepare rdx:rax for idiv."""
        if size == 4:
            self.buf += b"\x99"
        elif size == 8:
            self.buf += b"\x48\x99"
        else:
            _bad("cdq", f"bad operand size {size!r}")

    # --------------------------------------------------------- shifts/rotates
    def shift_cl(self, op: int, size: int, r: int) -> None:
        """``<op> r, cl`` for op in ROL, ROR, SHL, SHR, SAR."""
        name = _shift_name(op)
        if type(r) is not int or not 0 <= r < 16:
            _bad(name, f"operand {r!r} is not a general-purpose register")
        pfx, w = _opsz(name, size)
        self._rr(name, pfx, w, b"\xd2" if size == 1 else b"\xd3", op, r, size == 1)

    def shift_ri(self, op: int, size: int, r: int, imm: int) -> None:
        """``<op> r, imm8`` (the 1-form for a count of 1)."""
        name = _shift_name(op)
        if type(r) is not int or not 0 <= r < 16:
            _bad(name, f"operand {r!r} is not a general-purpose register")
        pfx, w = _opsz(name, size)
        if type(imm) is not int or not 0 <= imm <= 255:
            _bad(name, f"shift count {imm!r} does not fit in 8 bits")
        if imm == 1:
            self._rr(name, pfx, w, b"\xd0" if size == 1 else b"\xd1", op, r, size == 1)
        else:
            self._rr(name, pfx, w, b"\xc0" if size == 1 else b"\xc1", op, r, size == 1)
            self.buf.append(imm)

    def shl_ri(self, size, r, imm): self.shift_ri(SHL, size, r, imm)
    def shr_ri(self, size, r, imm): self.shift_ri(SHR, size, r, imm)
    def sar_ri(self, size, r, imm): self.shift_ri(SAR, size, r, imm)

    # ------------------------------------------------------------ bit counts
    def _bitop(self, insn, pfx, opc, size, dst, src):
        if (dst | src) >> 4:
            _bad(insn, f"operands {_gpr_name(dst)}, {_gpr_name(src)} must be general-purpose registers")
        if size not in (2, 4, 8):
            _bad(insn, f"bad operand size {size!r}")
        if size == 2:
            pfx = b"\x66" + pfx
        self._rr(insn, pfx, 8 if size == 8 else 0, opc, dst, src)

    def lzcnt(self, size: int, dst: int, src: int) -> None:
        """``lzcnt dst, src`` (needs cpu.LZCNT; otherwise the CPU executes bsr)."""
        self._bitop("lzcnt", b"\xf3", b"\x0f\xbd", size, dst, src)

    def tzcnt(self, size: int, dst: int, src: int) -> None:
        """``tzcnt dst, src`` (needs cpu.BMI1; otherwise the CPU executes bsf)."""
        self._bitop("tzcnt", b"\xf3", b"\x0f\xbc", size, dst, src)

    def popcnt(self, size: int, dst: int, src: int) -> None:
        """``popcnt dst, src`` (needs cpu.POPCNT)."""
        self._bitop("popcnt", b"\xf3", b"\x0f\xb8", size, dst, src)

    def bsr(self, size: int, dst: int, src: int) -> None:
        """``bsr dst, src``: index of the highest set bit; ZF=1 and dst undefined when src is 0."""
        self._bitop("bsr", b"", b"\x0f\xbd", size, dst, src)

    def bsf(self, size: int, dst: int, src: int) -> None:
        """``bsf dst, src``: index of the lowest set bit; ZF=1 and dst undefined when src is 0."""
        self._bitop("bsf", b"", b"\x0f\xbc", size, dst, src)

    # ---------------------------------------------------- condition codes
    def setcc(self, cc: int, dst: int) -> None:
        """``set<cc> dst8`` (only the low byte is written: follow with movzx_rr(1, ...))."""
        if type(cc) is not int or not 0 <= cc < 16:
            _bad("setcc", f"bad condition code {cc!r}")
        if type(dst) is not int or not 0 <= dst < 16:
            _bad("set" + CC_NAMES[cc], f"operand {dst!r} is not a general-purpose register")
        if dst >= 4:
            self.buf += _D8[0x40 | dst >> 3] + b"\x0f" + _D8[0x90 | cc] + _D8[0xC0 | dst & 7]
        else:
            self.buf += b"\x0f" + _D8[0x90 | cc] + _D8[0xC0 | dst]

    def cmov(self, cc: int, size: int, dst: int, src: int) -> None:
        """``cmov<cc> dst, src`` (size 2, 4, 8; size 4 zero-extends even when not moving)."""
        if type(cc) is not int or not 0 <= cc < 16:
            _bad("cmovcc", f"bad condition code {cc!r}")
        if (dst | src) >> 4:
            _bad("cmov" + CC_NAMES[cc], "operands must be general-purpose registers")
        if size == 1:
            _bad("cmov" + CC_NAMES[cc], "no 8-bit form")
        pfx, w = _opsz("cmov", size)
        self._rr("cmov", pfx, w, b"\x0f" + _D8[0x40 | cc], dst, src)

    def cmov_rm(self, cc: int, size: int, dst: int, base: int, disp: int = 0,
                index: int = NO_REG, scale: int = 1) -> None:
        """``cmov<cc> dst, [mem]``."""
        if type(cc) is not int or not 0 <= cc < 16:
            _bad("cmovcc", f"bad condition code {cc!r}")
        if type(dst) is not int or not 0 <= dst < 16:
            _bad("cmov" + CC_NAMES[cc], f"destination {dst!r} is not a general-purpose register")
        if size == 1:
            _bad("cmov" + CC_NAMES[cc], "no 8-bit form")
        pfx, w = _opsz("cmov", size)
        self._rm("cmov", pfx, w, b"\x0f" + _D8[0x40 | cc], dst, base, disp, index, scale)

    # ============================================================== branches
    def jmp(self, label: int) -> None:
        """``jmp label`` (short if bound and close, else rel32)."""
        lpos = self._lpos
        if type(label) is not int or not 0 <= label < len(lpos):
            _bad("jmp", f"{label!r} is not a label of this assembler")
        target = lpos[label]
        buf = self.buf
        if target >= 0:
            rel = target - len(buf) - 2
            if rel >= -128:
                buf += b"\xeb" + _D8[rel & 0xFF]
            else:
                buf += b"\xe9" + _pack_i32(rel - 3)
        else:
            at = len(buf) + 1
            buf += b"\xe9\0\0\0\0"
            self._lfix[label].append((at, at + 4, 4, "jmp"))

    def jcc(self, cc: int, label: int) -> None:
        """``j<cc> label`` (short if bound and close, else rel32)."""
        lpos = self._lpos
        if type(label) is not int or not 0 <= label < len(lpos):
            _bad("jcc", f"{label!r} is not a label of this assembler")
        if type(cc) is not int or not 0 <= cc < 16:
            _bad("jcc", f"bad condition code {cc!r}")
        target = lpos[label]
        buf = self.buf
        if target >= 0:
            rel = target - len(buf) - 2
            if rel >= -128:
                buf += _D8[0x70 | cc] + _D8[rel & 0xFF]
            else:
                buf += _JCC_NEAR[cc] + _pack_i32(rel - 4)
        else:
            at = len(buf) + 2
            buf += _JCC_NEAR[cc] + _ZERO4
            self._lfix[label].append((at, at + 4, 4, "jcc"))

    def jmp_short(self, label: int) -> None:
        """``jmp rel8``; AssemblerError (here or at bind) if the target is farther than 127 bytes."""
        self._check_label(label, "jmp")
        self._check_short(label, 2, "jmp")
        self.buf += b"\xeb\0"
        at = len(self.buf) - 1
        self._use_label(label, at, at + 1, 1, "jmp")

    def jcc_short(self, cc: int, label: int) -> None:
        """``j<cc> rel8``; AssemblerError (here or at bind) if the target is farther than 127 bytes."""
        if type(cc) is not int or not 0 <= cc < 16:
            _bad("jcc", f"bad condition code {cc!r}")
        self._check_label(label, "j" + CC_NAMES[cc])
        self._check_short(label, 2, "j" + CC_NAMES[cc])
        self.buf += _D8[0x70 | cc] + b"\0"
        at = len(self.buf) - 1
        self._use_label(label, at, at + 1, 1, "j" + CC_NAMES[cc])

    def jmp_r(self, r: int) -> None:
        """``jmp r`` (indirect through a register)."""
        if type(r) is not int or not 0 <= r < 16:
            _bad("jmp", f"target {r!r} is not a general-purpose register")
        self.buf += (b"\x41\xff" if r >= 8 else b"\xff") + _D8[0xE0 | r & 7]

    def jmp_m(self, base: int, disp: int = 0, index: int = NO_REG, scale: int = 1) -> None:
        """``jmp qword [mem]``."""
        self._rm("jmp", b"", 0, b"\xff", 4, base, disp, index, scale)

    def _check_short(self, label, length, insn):
        target = self._lpos[label]
        if target >= 0 and not -128 <= target - (len(self.buf) + length) <= 127:
            _bad(insn, f"short branch cannot reach label {label} at {target:#x} from {len(self.buf):#x}")

    def call(self, label: int) -> None:
        """``call rel32`` to a label of this buffer."""
        lpos = self._lpos
        if type(label) is not int or not 0 <= label < len(lpos):
            _bad("call", f"{label!r} is not a label of this assembler")
        target = lpos[label]
        buf = self.buf
        if target >= 0:
            buf += b"\xe8" + _pack_i32(target - len(buf) - 5)
        else:
            at = len(buf) + 1
            buf += b"\xe8\0\0\0\0"
            self._lfix[label].append((at, at + 4, 4, "call"))

    def call_extern(self, key) -> int:
        """``call rel32`` to code outside this buffer; records ``(at, key)`` in ``relocs``.

        Returns the offset of the rel32 field, to be patched by the linker
        with :func:`link_rel32` once the blob layout is known.
        """
        self.buf += b"\xe8\0\0\0\0"
        at = len(self.buf) - 4
        self.relocs.append((at, key))
        return at

    def call_r(self, r: int) -> None:
        """``call r`` (indirect; an absolute address goes through a register)."""
        if type(r) is not int or not 0 <= r < 16:
            _bad("call", f"target {r!r} is not a general-purpose register")
        self.buf += (b"\x41\xff" if r >= 8 else b"\xff") + _D8[0xD0 | r & 7]

    def call_m(self, base: int, disp: int = 0, index: int = NO_REG, scale: int = 1) -> None:
        """``call qword [mem]``."""
        self._rm("call", b"", 0, b"\xff", 2, base, disp, index, scale)

    def ret(self) -> None:
        self.buf += b"\xc3"

    # ================================================================= stack
    def push_r(self, r: int) -> None:
        if type(r) is not int or not 0 <= r < 16:
            _bad("push", f"operand {r!r} is not a general-purpose register")
        self.buf += _PUSH[r]

    def pop_r(self, r: int) -> None:
        if type(r) is not int or not 0 <= r < 16:
            _bad("pop", f"operand {r!r} is not a general-purpose register")
        self.buf += _POP[r]

    def push_i(self, imm: int) -> None:
        """``push imm`` (sign-extended to 64 bits: imm in [-2**31, 2**31))."""
        if -128 <= imm <= 127:
            self.buf += b"\x6a" + _D8[imm & 0xFF]
        elif -0x80000000 <= imm <= 0x7FFFFFFF:
            self.buf += b"\x68" + _pack_i32(imm)
        else:
            _bad("push", f"immediate {imm} does not fit the sign-extended 32-bit form")

    def push_m(self, base: int, disp: int = 0, index: int = NO_REG, scale: int = 1) -> None:
        self._rm("push", b"", 0, b"\xff", 6, base, disp, index, scale)

    def pop_m(self, base: int, disp: int = 0, index: int = NO_REG, scale: int = 1) -> None:
        self._rm("pop", b"", 0, b"\x8f", 0, base, disp, index, scale)

    # ================================================================== misc
    def leave(self) -> None:
        """``leave`` (mov rsp, rbp; pop rbp)."""
        self.buf += b"\xc9"

    def rep_stosq(self) -> None:
        """``rep stosq``: store rax to [rdi], rcx times (8 bytes each, DF clear as the ABI guarantees)."""
        self.buf += b"\xf3\x48\xab"

    def rep_stosb(self) -> None:
        """``rep stosb``: store al to [rdi], rcx times."""
        self.buf += b"\xf3\xaa"

    def rep_movsb(self) -> None:
        """``rep movsb``: copy rcx bytes from [rsi] to [rdi] (forward)."""
        self.buf += b"\xf3\xa4"

    def ud2(self) -> None:
        self.buf += b"\x0f\x0b"

    def int3(self) -> None:
        self.buf += b"\xcc"

    def nop(self, n: int = 1) -> None:
        """``n`` bytes of NOPs, in as few instructions as possible."""
        if type(n) is not int or n < 0:
            _bad("nop", f"bad length {n!r}")
        while n > 9:
            self.buf += _NOPS[9]
            n -= 9
        self.buf += _NOPS[n]

    def align(self, n: int) -> None:
        """Pad with NOPs to a multiple of ``n`` (a power of two)."""
        if type(n) is not int or n <= 0 or n & (n - 1):
            _bad("align", f"alignment {n!r} is not a power of two")
        self.nop(-len(self.buf) & (n - 1))

    def cpuid(self) -> None:
        self.buf += b"\x0f\xa2"

    def xgetbv(self) -> None:
        self.buf += b"\x0f\x01\xd0"

    def mfence(self) -> None:
        self.buf += b"\x0f\xae\xf0"

    def data(self, data: bytes) -> None:
        """Raw bytes in the code stream."""
        self.buf += data

    # ======================================================== constant pool
    def const_bytes(self, data: bytes, align: int | None = None) -> int:
        """A label for ``data`` placed in the constant pool (deduplicated)."""
        data = bytes(data)
        if align is None:
            align = 16 if len(data) >= 16 else 8 if len(data) >= 8 else 4
        if align not in (1, 2, 4, 8, 16):
            _bad("const", f"alignment {align!r} is not 1, 2, 4, 8 or 16")
        key = data + _D8[align]
        label = self._consts.get(key)
        if label is None:
            if self._finalized:
                _bad("const", "the assembler is finalized")
            label = self.new_label()
            self._consts[key] = label
            self._const_list.append((label, data, align))
        return label

    def const_f32(self, value: float) -> int:
        return self.const_bytes(_pack_f32(value), 4)

    def const_f64(self, value: float) -> int:
        return self.const_bytes(_pack_f64(value), 8)

    def const_u32(self, value: int) -> int:
        if not 0 <= value < 1 << 32:
            _bad("const", f"{value} is not an unsigned 32-bit value")
        return self.const_bytes(_pack_u32(value), 4)

    def const_u64(self, value: int) -> int:
        if not 0 <= value < 1 << 64:
            _bad("const", f"{value} is not an unsigned 64-bit value")
        return self.const_bytes(_pack_u64(value), 8)

    def const_u128(self, value: int) -> int:
        """A 16-byte aligned 128-bit constant (what packed SSE memory operands read)."""
        if not 0 <= value < 1 << 128:
            _bad("const", f"{value} is not an unsigned 128-bit value")
        return self.const_bytes(value.to_bytes(16, "little"), 16)

    # ========================================================== jump tables
    def jump_table(self, index: int, tmp: int, targets) -> None:
        """Jump to ``targets[index]``.  Clobbers ``index`` and ``tmp``.

        ``index`` must already be checked against ``len(targets)`` and be
        zero-extended to 64 bits.  Emits::

            lea    tmp, [rip + table]
            movsxd index, dword [tmp + index*4]
            add    tmp, index
            jmp    tmp
            table: dd target_0 - table, ...   (4-aligned, right after the jmp)
        """
        if (index | tmp) >> 4 or index == tmp:
            _bad("jump_table", "index and tmp must be two different general-purpose registers")
        targets = list(targets)
        if not targets:
            _bad("jump_table", "no targets")
        if index == RSP:
            _bad("jump_table", "rsp cannot be the index")
        for t in targets:
            self._check_label(t, "jump_table")
        table = self.new_label()
        self.lea(8, tmp, RIP, table)
        self._rm("movsxd", b"", 8, b"\x63", index, tmp, 0, index, 4)
        self.alu_rr(ADD, 8, tmp, index)
        self.jmp_r(tmp)
        # Pad with int3: the bytes between the jmp and the table never run.
        pad = -len(self.buf) & 3
        self.buf += b"\xcc" * pad
        self.bind(table)
        start = len(self.buf)
        self.buf += _ZERO4 * len(targets)
        for i, t in enumerate(targets):
            self._use_label(t, start + 4 * i, start, 4, "jump_table")

    # ============================================================= finalize
    def finalize(self) -> bytes:
        """Emit the constant pool, check labels, return the code.

        Raises AssemblerError if a label used by an instruction is unbound.
        """
        if self._finalized:
            return bytes(self.buf)
        if self._const_list:
            # Largest alignment first, so each entry is aligned with no padding between.
            entries = sorted(self._const_list, key=lambda e: -e[2])
            self.buf += b"\xcc" * (-len(self.buf) & (entries[0][2] - 1))
            for label, data, align in entries:
                self.buf += b"\0" * (-len(self.buf) & (align - 1))
                self.bind(label)
                self.buf += data
        for label, fix in enumerate(self._lfix):
            if fix:
                at, _base, _w, insn = fix[0]
                raise AssemblerError(f"{insn}: label {label} used at offset {at:#x} is never bound")
        self._finalized = True
        return bytes(self.buf)


# ------------------------------------------------------------- helpers/tables
def _alu_name(op):
    if type(op) is int and 0 <= op < 8:
        return _ALU_NAMES[op]
    raise AssemblerError(f"alu: bad ALU operation {op!r}")


def _shift_name(op):
    if type(op) is int and 0 <= op < 8 and op != 6:
        return _SHIFT_NAMES[op]
    raise AssemblerError(f"shift: bad shift operation {op!r}")


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


_UNARY_OPC = {n: (b"\xf7", b"\xf6") for n in ("neg", "not", "mul", "imul", "div", "idiv")}
_UNARY_OPC.update({n: (b"\xff", b"\xfe") for n in ("inc", "dec")})


def _rr_bytes(pfx, w, opc, reg, rm, byte_regs=False):
    rex = w | (reg & 8) >> 1 | (rm & 8) >> 3
    out = pfx
    if rex or (byte_regs and (4 <= reg < 8 or 4 <= rm < 8)):
        out += bytes((0x40 | rex,))
    return out + opc + bytes((0xC0 | (reg & 7) << 3 | (rm & 7),))


# mov r/m, r: index src << 4 | dst.
_MOV_RR8 = [_rr_bytes(b"", 8, b"\x89", i >> 4, i & 15) for i in range(256)]
_MOV_RR4 = [_rr_bytes(b"", 0, b"\x89", i >> 4, i & 15) for i in range(256)]
# ALU r/m, r: per size, index op << 8 | src << 4 | dst.
_ALU_RR = {
    size: [_rr_bytes(_OPSZ[size][0], _OPSZ[size][1], bytes((((i >> 8) << 3) | (0 if size == 1 else 1),)),
                     (i >> 4) & 15, i & 15, size == 1) for i in range(8 * 256)]
    for size in (1, 2, 4, 8)
}


def _disp8_head(w, opc, reg, base):
    """``[REX] opc ModRM(01, reg, base) [SIB]``: a [base + disp8] operand minus the disp8."""
    rex = w | (reg & 8) >> 1 | base >> 3
    out = (bytes((0x40 | rex,)) if rex else b"") + opc + bytes((0x40 | (reg & 7) << 3 | (base & 7),))
    return out + b"\x24" if base & 7 == 4 else out


# mov reg, [base + disp8] / mov [base + disp8], reg: index reg << 4 | base.
_LD8 = [_disp8_head(8, b"\x8b", i >> 4, i & 15) for i in range(256)]
_LD4 = [_disp8_head(0, b"\x8b", i >> 4, i & 15) for i in range(256)]
_ST8 = [_disp8_head(8, b"\x89", i >> 4, i & 15) for i in range(256)]
_ST4 = [_disp8_head(0, b"\x89", i >> 4, i & 15) for i in range(256)]
# movzx r32, r8: index dst << 4 | src.
_MOVZX8 = [_rr_bytes(b"", 0, b"\x0f\xb6", i >> 4, i & 15, True) for i in range(256)]
# <op> r, imm8 (83 /op ib) minus the imm8: index op << 4 | dst.
_ALU_I8_8 = [_rr_bytes(b"", 8, b"\x83", i >> 4, i & 15) for i in range(128)]
_ALU_I8_4 = [_rr_bytes(b"", 0, b"\x83", i >> 4, i & 15) for i in range(128)]
_JCC_NEAR = [bytes((0x0F, 0x80 | cc)) for cc in range(16)]
_PUSH = [bytes((0x41, 0x50 + r - 8)) if r >= 8 else bytes((0x50 + r,)) for r in range(16)]
_POP = [bytes((0x41, 0x58 + r - 8)) if r >= 8 else bytes((0x58 + r,)) for r in range(16)]
# Whole-register XMM loads/stores by size: (insn, mandatory prefix, opcode).
_XMM_LOAD = {4: ("movss", b"\xf3", b"\x0f\x10"), 8: ("movsd", b"\xf2", b"\x0f\x10"),
             16: ("movdqu", b"\xf3", b"\x0f\x6f")}
_XMM_STORE = {4: ("movss", b"\xf3", b"\x0f\x11"), 8: ("movsd", b"\xf2", b"\x0f\x11"),
              16: ("movdqu", b"\xf3", b"\x0f\x7f")}

del _rr_bytes, _disp8_head
