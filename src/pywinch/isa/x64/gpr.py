"""General-purpose register instructions of the x86-64 assembler (mixed into ``Assembler``).

Data moves (mov, loads and stores with zero/sign extension, store immediates,
lea, xchg, bswap), integer ALU with register, immediate and memory operands,
unary ops, multiply/divide, shifts and rotates, bit counting, setcc and
cmovcc.  Operand conventions are those of :mod:`pywinch.isa.x64.asm`.  The
hottest forms (register moves, ALU register/imm8, frame-slot loads/stores)
append one precomputed ``bytes`` plus at most one displacement/immediate byte.
"""

from __future__ import annotations

from ...errors import AssemblerError
from .encoding import (
    _D8, _IMM_HI, _IMM_LO, _OPSZ, _bad, _gpr_name, _imm_bytes, _opsz, _pack_i32, _pack_u16, _pack_u32,
    _pack_u64, _rr_bytes, _signed,
)
from .regs import CC_NAMES, NO_REG, RIP

__all__ = ["GprMixin", "ADD", "OR", "ADC", "SBB", "AND", "SUB", "XOR", "CMP",
           "ROL", "ROR", "RCL", "RCR", "SHL", "SHR", "SAR", "ALU_NAMES", "SHIFT_NAMES"]

# ALU operations: the /digit of opcodes 80/81/83 and the high bits of 00..3F.
ADD, OR, ADC, SBB, AND, SUB, XOR, CMP = range(8)
ALU_NAMES = ("add", "or", "adc", "sbb", "and", "sub", "xor", "cmp")
# Shift/rotate operations: the /digit of C0/C1/D0..D3.
ROL, ROR, RCL, RCR, SHL, SHR, SAL, SAR = range(8)
SHIFT_NAMES = ("rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar")


class GprMixin:
    """GPR instructions; relies on ``Assembler._rr``/``_rm`` and ``buf``."""

    __slots__ = ()

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
        if 0 <= imm <= 0xFFFFFFFF and (size == 4 or size == 8):
            # mov r32, imm32 zero-extends, so it also serves every non-negative 64-bit value below 2**32.
            self.buf += _MOV_I32[dst] + _pack_u32(imm)
            return
        if size == 8:
            if -0x80000000 <= imm < 0:
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
        if index == NO_REG:
            # Fast path: a frame or vmctx slot, [base + disp]; the head table holds
            # only valid (size, register, base) triples, so a hit needs no other check.
            if -128 <= disp <= 127:
                if disp:
                    h = _LOAD_D8.get((size, dst, base))
                    if h is not None:
                        self.buf += h + _D8[disp & 0xFF]
                        return
                else:
                    h = _LOAD_D0.get((size, dst, base))
                    if h is not None:
                        self.buf += h
                        return
            elif -0x80000000 <= disp <= 0x7FFFFFFF:
                h = _LOAD_D32.get((size, dst, base))
                if h is not None:
                    self.buf += h + _pack_i32(disp)
                    return
        if type(dst) is int and 0 <= dst < 16:
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
        if index == NO_REG:
            # Fast path, as in load.
            if -128 <= disp <= 127:
                if disp:
                    h = _STORE_D8.get((size, src, base))
                    if h is not None:
                        self.buf += h + _D8[disp & 0xFF]
                        return
                else:
                    h = _STORE_D0.get((size, src, base))
                    if h is not None:
                        self.buf += h
                        return
            elif -0x80000000 <= disp <= 0x7FFFFFFF:
                h = _STORE_D32.get((size, src, base))
                if h is not None:
                    self.buf += h + _pack_i32(disp)
                    return
        if type(src) is int and 0 <= src < 16:
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

    def copy_mem(self, size: int, tmp: int, src_base: int, src_disp: int, dst_base: int, dst_disp: int) -> None:
        """``mov tmp, [src]; mov [dst], tmp``: a slot-to-slot copy (spills, call
        arguments, local to local) in one call."""
        if -128 <= src_disp <= 127 and src_disp and -128 <= dst_disp <= 127 and dst_disp:
            ld = _LOAD_D8.get((size, tmp, src_base))
            st = _STORE_D8.get((size, tmp, dst_base))
            if ld is not None and st is not None:
                self.buf += ld + _D8[src_disp & 0xFF] + st + _D8[dst_disp & 0xFF]
                return
        self.load(size, tmp, src_base, src_disp)
        self.store(size, tmp, dst_base, dst_disp)

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
        if index == NO_REG and (size == 4 or size == 8) and type(base) is int and 0 <= base < 16 \
                and type(disp) is int and disp and -0x80000000 <= disp <= 0x7FFFFFFF \
                and -0x80000000 <= imm <= _IMM_HI[size]:
            # Fast path: a frame or vmctx slot.
            if -128 <= disp <= 127:
                self.buf += (_STI8 if size == 8 else _STI4)[base] + _D8[disp & 0xFF] + _pack_u32(imm & 0xFFFFFFFF)
            else:
                self.buf += (_STI8_32 if size == 8 else _STI4_32)[base] + _pack_i32(disp) + _pack_u32(imm & 0xFFFFFFFF)
            return
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
        if index == NO_REG and disp and -0x80000000 <= disp <= 0x7FFFFFFF:
            # Fast path: [base + disp] (address arithmetic of memory accesses and trampolines).
            if -128 <= disp <= 127:
                h = _LEA_D8.get((size, dst, base))
                if h is not None:
                    self.buf += h + _D8[disp & 0xFF]
                    return
            else:
                h = _LEA_D32.get((size, dst, base))
                if h is not None:
                    self.buf += h + _pack_i32(disp)
                    return
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
        if size == 4 and 0x7FFFFFFF < imm <= 0xFFFFFFFF:
            imm -= 0x100000000      # the bits of an i32 constant as the value the hardware sees
        if -128 <= imm <= 127:
            h = _ALU_RI8.get((op, size, dst))       # valid (op, size 4/8, GPR) only
            if h is not None:
                self.buf += h + _D8[imm & 0xFF]
                return
        elif -0x80000000 <= imm <= 0x7FFFFFFF:
            h = _ALU_RI32.get((op, size, dst))
            if h is not None:
                self.buf += h + _pack_i32(imm)
                return
        if type(dst) is not int or not 0 <= dst < 16:
            _bad(_alu_name(op), f"destination {dst!r} is not a general-purpose register")
        if type(op) is not int or not 0 <= op < 8:
            _bad("alu", f"bad ALU operation {op!r}")
        lo = _IMM_LO.get(size)
        if lo is None:
            _bad(ALU_NAMES[op], f"bad operand size {size!r}")
        if not lo <= imm <= _IMM_HI[size]:
            _bad(ALU_NAMES[op], f"immediate {imm} does not fit the {size * 8}-bit form")
        if size == 1:
            rex = dst >> 3
            if rex or dst >= 4:
                self.buf += _D8[0x40 | rex] + b"\x80" + _D8[0xC0 | op << 3 | dst & 7] + _D8[imm & 0xFF]
            else:
                self.buf += b"\x80" + _D8[0xC0 | op << 3 | dst] + _D8[imm & 0xFF]
            return
        simm = _signed(size, imm)      # the value the hardware sees (imm8 form when it fits)
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

    def load_alu_ri(self, op: int, size: int, dst: int, base: int, disp: int, imm: int) -> None:
        """``mov dst, [base + disp]`` then ``<op> dst, imm``: a local combined with a
        constant, the commonest shape of i32.add/sub/and (one call, one append)."""
        if size == 4 and 0x7FFFFFFF < imm <= 0xFFFFFFFF:
            imm -= 0x100000000
        if -128 <= imm <= 127 and -128 <= disp <= 127 and disp:
            ld = _LOAD_D8.get((size, dst, base))
            op_ = _ALU_RI8.get((op, size, dst))
            if ld is not None and op_ is not None:
                self.buf += ld + _D8[disp & 0xFF] + op_ + _D8[imm & 0xFF]
                return
        self.load(size, dst, base, disp)
        self.alu_ri(op, size, dst, imm)

    def alu_ri32(self, op: int, size: int, dst: int, imm: int = 0) -> int:
        """``<op> dst, imm32`` always in the long form; returns the offset of the imm32.

        For values known only later (the frame size): patch with :meth:`patch_imm32`.
        """
        if type(dst) is not int or not 0 <= dst < 16:
            _bad(_alu_name(op), f"destination {dst!r} is not a general-purpose register")
        if size not in (4, 8) or type(op) is not int or not 0 <= op < 8:
            _bad(_alu_name(op), f"bad operand size {size!r} for the imm32 form")
        if not _IMM_LO[size] <= imm <= _IMM_HI[size]:
            _bad(ALU_NAMES[op], f"immediate {imm} does not fit the {size * 8}-bit form")
        rex = (8 if size == 8 else 0) | dst >> 3
        self.buf += (_D8[0x40 | rex] if rex else b"") + b"\x81" + _D8[0xC0 | op << 3 | dst & 7]
        at = len(self.buf)
        self.buf += _pack_u32(imm & 0xFFFFFFFF)
        return at

    def alu_rm(self, op: int, size: int, dst: int, base: int, disp: int = 0,
               index: int = NO_REG, scale: int = 1) -> None:
        """``<op> dst, [mem]``."""
        if index == NO_REG and (size == 4 or size == 8) and type(base) is int and 0 <= base < 16 \
                and type(dst) is int and 0 <= dst < 16 and type(op) is int and 0 <= op < 8:
            # Fast path: an operand in a frame or vmctx slot (precomputed head + displacement).
            k = op << 8 | dst << 4 | base
            if -128 <= disp <= 127:
                if disp:
                    self.buf += (_ALU_RM8 if size == 8 else _ALU_RM4)[k] + _D8[disp & 0xFF]
                    return
            elif -0x80000000 <= disp <= 0x7FFFFFFF:
                self.buf += (_ALU_RM8_32 if size == 8 else _ALU_RM4_32)[k] + _pack_i32(disp)
                return
        if type(dst) is not int or not 0 <= dst < 16:
            _bad(_alu_name(op), f"destination {dst!r} is not a general-purpose register")
        pfx, w = _opsz(_alu_name(op), size)
        self._rm(ALU_NAMES[op], pfx, w, _D8[op << 3 | (2 if size == 1 else 3)], dst, base, disp, index, scale,
                 b"", size == 1 and 4 <= dst < 8)

    def alu_mr(self, op: int, size: int, src: int, base: int, disp: int = 0,
               index: int = NO_REG, scale: int = 1) -> None:
        """``<op> [mem], src``."""
        if type(src) is not int or not 0 <= src < 16:
            _bad(_alu_name(op), f"source {src!r} is not a general-purpose register")
        pfx, w = _opsz(_alu_name(op), size)
        self._rm(ALU_NAMES[op], pfx, w, _D8[op << 3 | (0 if size == 1 else 1)], src, base, disp, index, scale,
                 b"", size == 1 and 4 <= src < 8)

    def alu_mi(self, op: int, size: int, imm: int, base: int, disp: int = 0,
               index: int = NO_REG, scale: int = 1) -> None:
        """``<op> [mem], imm`` (imm8 form when it fits)."""
        if index == NO_REG and (size == 4 or size == 8) and type(base) is int and 0 <= base < 16 \
                and type(op) is int and 0 <= op < 8 and type(disp) is int and disp \
                and -0x80000000 <= disp <= 0x7FFFFFFF and -0x80000000 <= imm <= _IMM_HI[size]:
            # Fast path: a frame or vmctx slot (precomputed head, then displacement and immediate).
            if size == 4 and imm > 0x7FFFFFFF:
                imm -= 0x100000000
            k = op << 4 | base
            d8 = -128 <= disp <= 127
            if -128 <= imm <= 127:
                head = (_ALU_MI8_8 if size == 8 else _ALU_MI8_4)[k] if d8 else \
                    (_ALU_MI8_8_32 if size == 8 else _ALU_MI8_4_32)[k]
                tail = _D8[imm & 0xFF]
            else:
                head = (_ALU_MI32_8 if size == 8 else _ALU_MI32_4)[k] if d8 else \
                    (_ALU_MI32_8_32 if size == 8 else _ALU_MI32_4_32)[k]
                tail = _pack_i32(imm)
            self.buf += head + (_D8[disp & 0xFF] if d8 else _pack_i32(disp)) + tail
            return
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
        if size == 4 and type(a) is int and type(b) is int and 0 <= a < 16 and 0 <= b < 16:
            self.buf += _TEST_RR4[b << 4 | a]
            return
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
        if (size == 4 or size == 8) and type(op) is int and 0 <= op < 8 and op != 6 and type(r) is int \
                and 0 <= r < 16 and type(imm) is int and 0 < imm <= 255:
            k = op << 4 | r
            if imm == 1:
                self.buf += (_SHIFT1_8 if size == 8 else _SHIFT1_4)[k]
            else:
                self.buf += (_SHIFTI_8 if size == 8 else _SHIFTI_4)[k] + _D8[imm]
            return
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

    def setcc_zx(self, cc: int, dst: int) -> None:
        """``set<cc> dst8; movzx dst32, dst8``: the condition as 0/1 in all 64 bits of ``dst``."""
        if type(cc) is not int or not 0 <= cc < 16:
            _bad("setcc", f"bad condition code {cc!r}")
        if type(dst) is not int or not 0 <= dst < 16:
            _bad("set" + CC_NAMES[cc], f"operand {dst!r} is not a general-purpose register")
        self.buf += _SETCC_ZX[cc << 4 | dst]

    def cmov(self, cc: int, size: int, dst: int, src: int) -> None:
        """``cmov<cc> dst, src`` (size 2, 4, 8; size 4 zero-extends even when not moving)."""
        if (size == 4 or size == 8) and type(cc) is int and 0 <= cc < 16 and type(dst) is int \
                and type(src) is int and 0 <= dst < 16 and 0 <= src < 16:
            self.buf += (_CMOV8 if size == 8 else _CMOV4)[cc << 8 | dst << 4 | src]
            return
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

    # --------------------------------------------------------------- atomics
    def xchg_mr(self, size: int, src: int, base: int, disp: int = 0, index: int = NO_REG, scale: int = 1) -> None:
        """``xchg [mem], src`` (atomic: xchg with memory is implicitly locked)."""
        if type(src) is not int or not 0 <= src < 16:
            _bad("xchg", f"operand {src!r} is not a general-purpose register")
        pfx, w = _opsz("xchg", size)
        self._rm("xchg", pfx, w, b"\x86" if size == 1 else b"\x87", src, base, disp, index, scale,
                 b"", size == 1 and 4 <= src < 8)

    def lock_xadd(self, size: int, src: int, base: int, disp: int = 0, index: int = NO_REG, scale: int = 1) -> None:
        """``lock xadd [mem], src``: atomically add ``src`` to memory; ``src`` gets the old value."""
        if type(src) is not int or not 0 <= src < 16:
            _bad("xadd", f"operand {src!r} is not a general-purpose register")
        pfx, w = _opsz("xadd", size)
        self._rm("xadd", b"\xf0" + pfx, w, b"\x0f\xc0" if size == 1 else b"\x0f\xc1", src, base, disp, index,
                 scale, b"", size == 1 and 4 <= src < 8)

    def lock_cmpxchg(self, size: int, src: int, base: int, disp: int = 0, index: int = NO_REG,
                     scale: int = 1) -> None:
        """``lock cmpxchg [mem], src``: if memory == rax (of ``size``) store ``src``; rax gets the old value."""
        if type(src) is not int or not 0 <= src < 16:
            _bad("cmpxchg", f"operand {src!r} is not a general-purpose register")
        pfx, w = _opsz("cmpxchg", size)
        self._rm("cmpxchg", b"\xf0" + pfx, w, b"\x0f\xb0" if size == 1 else b"\x0f\xb1", src, base, disp, index,
                 scale, b"", size == 1 and 4 <= src < 8)

    def lock_alu_mr(self, op: int, size: int, src: int, base: int, disp: int = 0, index: int = NO_REG,
                    scale: int = 1) -> None:
        """``lock <op> [mem], src`` (atomic read-modify-write without the old value; not CMP)."""
        name = _alu_name(op)
        if op == CMP:
            _bad("cmp", "cannot be locked")
        if type(src) is not int or not 0 <= src < 16:
            _bad(name, f"operand {src!r} is not a general-purpose register")
        pfx, w = _opsz(name, size)
        self._rm(name, b"\xf0" + pfx, w, _D8[op << 3 | (0 if size == 1 else 1)], src, base, disp, index, scale,
                 b"", size == 1 and 4 <= src < 8)


# ------------------------------------------------------------- helpers/tables
def _alu_name(op):
    if type(op) is int and 0 <= op < 8:
        return ALU_NAMES[op]
    raise AssemblerError(f"alu: bad ALU operation {op!r}")


def _shift_name(op):
    if type(op) is int and 0 <= op < 8 and op != 6:
        return SHIFT_NAMES[op]
    raise AssemblerError(f"shift: bad shift operation {op!r}")


_UNARY_OPC = {n: (b"\xf7", b"\xf6") for n in ("neg", "not", "mul", "imul", "div", "idiv")}
_UNARY_OPC.update({n: (b"\xff", b"\xfe") for n in ("inc", "dec")})


# mov r/m, r: index src << 4 | dst.
_MOV_RR8 = [_rr_bytes(b"", 8, b"\x89", i >> 4, i & 15) for i in range(256)]
_MOV_RR4 = [_rr_bytes(b"", 0, b"\x89", i >> 4, i & 15) for i in range(256)]
# ALU r/m, r: per size, index op << 8 | src << 4 | dst.
_ALU_RR = {
    size: [_rr_bytes(_OPSZ[size][0], _OPSZ[size][1], bytes((((i >> 8) << 3) | (0 if size == 1 else 1),)),
                     (i >> 4) & 15, i & 15, size == 1) for i in range(8 * 256)]
    for size in (1, 2, 4, 8)
}


def _disp_head(w, opc, reg, base, mod=0x40):
    """``[REX] opc ModRM(mod, reg, base) [SIB]``: a [base + disp8/32] operand minus the displacement."""
    rex = w | (reg & 8) >> 1 | base >> 3
    out = (bytes((0x40 | rex,)) if rex else b"") + opc + bytes((mod | (reg & 7) << 3 | (base & 7),))
    return out + b"\x24" if base & 7 == 4 else out


# mov reg, [base + disp] / mov [base + disp], reg: index reg << 4 | base.
_LD8 = [_disp_head(8, b"\x8b", i >> 4, i & 15) for i in range(256)]
_LD4 = [_disp_head(0, b"\x8b", i >> 4, i & 15) for i in range(256)]
_ST8 = [_disp_head(8, b"\x89", i >> 4, i & 15) for i in range(256)]
_ST4 = [_disp_head(0, b"\x89", i >> 4, i & 15) for i in range(256)]
_LD8_32 = [_disp_head(8, b"\x8b", i >> 4, i & 15, 0x80) for i in range(256)]
_LD4_32 = [_disp_head(0, b"\x8b", i >> 4, i & 15, 0x80) for i in range(256)]
_ST8_32 = [_disp_head(8, b"\x89", i >> 4, i & 15, 0x80) for i in range(256)]
_ST4_32 = [_disp_head(0, b"\x89", i >> 4, i & 15, 0x80) for i in range(256)]

# <op> reg, [base + disp8/disp32] minus the displacement: index op << 8 | reg << 4 | base.
_ALU_RM8 = [_disp_head(8, bytes((i >> 8 << 3 | 3,)), i >> 4 & 15, i & 15) for i in range(2048)]
_ALU_RM4 = [_disp_head(0, bytes((i >> 8 << 3 | 3,)), i >> 4 & 15, i & 15) for i in range(2048)]
_ALU_RM8_32 = [_disp_head(8, bytes((i >> 8 << 3 | 3,)), i >> 4 & 15, i & 15, 0x80) for i in range(2048)]
_ALU_RM4_32 = [_disp_head(0, bytes((i >> 8 << 3 | 3,)), i >> 4 & 15, i & 15, 0x80) for i in range(2048)]
# <op> [base + disp], imm8 (83 /op) and imm32 (81 /op) minus displacement and immediate: index op << 4 | base.
_ALU_MI8_8 = [_disp_head(8, b"\x83", i >> 4, i & 15) for i in range(128)]
_ALU_MI8_4 = [_disp_head(0, b"\x83", i >> 4, i & 15) for i in range(128)]
_ALU_MI8_8_32 = [_disp_head(8, b"\x83", i >> 4, i & 15, 0x80) for i in range(128)]
_ALU_MI8_4_32 = [_disp_head(0, b"\x83", i >> 4, i & 15, 0x80) for i in range(128)]
_ALU_MI32_8 = [_disp_head(8, b"\x81", i >> 4, i & 15) for i in range(128)]
_ALU_MI32_4 = [_disp_head(0, b"\x81", i >> 4, i & 15) for i in range(128)]
_ALU_MI32_8_32 = [_disp_head(8, b"\x81", i >> 4, i & 15, 0x80) for i in range(128)]
_ALU_MI32_4_32 = [_disp_head(0, b"\x81", i >> 4, i & 15, 0x80) for i in range(128)]
# mov [base + disp], imm32 (C7 /0) minus displacement and immediate: index base.
_STI8 = [_disp_head(8, b"\xc7", 0, b) for b in range(16)]
_STI4 = [_disp_head(0, b"\xc7", 0, b) for b in range(16)]
_STI8_32 = [_disp_head(8, b"\xc7", 0, b, 0x80) for b in range(16)]
_STI4_32 = [_disp_head(0, b"\xc7", 0, b, 0x80) for b in range(16)]
# test r32, r32 (85 /r): index src << 4 | dst.
_TEST_RR4 = [_rr_bytes(b"", 0, b"\x85", i >> 4, i & 15) for i in range(256)]
# cmovcc dst, src: index cc << 8 | dst << 4 | src.
_CMOV8 = [_rr_bytes(b"", 8, bytes((0x0F, 0x40 | i >> 8)), i >> 4 & 15, i & 15) for i in range(4096)]
_CMOV4 = [_rr_bytes(b"", 0, bytes((0x0F, 0x40 | i >> 8)), i >> 4 & 15, i & 15) for i in range(4096)]
# shifts by 1 (D1 /op) and by imm8 (C1 /op, minus the count): index op << 4 | r.
_SHIFT1_8 = [_rr_bytes(b"", 8, b"\xd1", i >> 4, i & 15) for i in range(128)]
_SHIFT1_4 = [_rr_bytes(b"", 0, b"\xd1", i >> 4, i & 15) for i in range(128)]
_SHIFTI_8 = [_rr_bytes(b"", 8, b"\xc1", i >> 4, i & 15) for i in range(128)]
_SHIFTI_4 = [_rr_bytes(b"", 0, b"\xc1", i >> 4, i & 15) for i in range(128)]
# movzx r32, r8: index dst << 4 | src.
_MOVZX8 = [_rr_bytes(b"", 0, b"\x0f\xb6", i >> 4, i & 15, True) for i in range(256)]
# <op> r, imm8 (83 /op ib) minus the imm8: index op << 4 | dst.
_ALU_I8_8 = [_rr_bytes(b"", 8, b"\x83", i >> 4, i & 15) for i in range(128)]
_ALU_I8_4 = [_rr_bytes(b"", 0, b"\x83", i >> 4, i & 15) for i in range(128)]
# <op> r, imm32 minus the imm32 (81 /op id; the short 05+op form for rax): index op << 4 | dst.
_ALU_I32_8 = [b"\x48" + bytes((i >> 4 << 3 | 5,)) if i & 15 == 0 else _rr_bytes(b"", 8, b"\x81", i >> 4, i & 15)
              for i in range(128)]
_ALU_I32_4 = [bytes((i >> 4 << 3 | 5,)) if i & 15 == 0 else _rr_bytes(b"", 0, b"\x81", i >> 4, i & 15)
              for i in range(128)]
# mov r32, imm32 (B8+r) minus the imm32.
_MOV_I32 = [bytes((0x41, 0xB8 + r - 8)) if r >= 8 else bytes((0xB8 + r,)) for r in range(16)]
# setcc r8 + movzx r32, r8: index cc << 4 | r.
_SETCC_ZX = [(bytes((0x40 | (i & 15) >> 3,)) if i & 15 >= 4 else b"") + bytes((0x0F, 0x90 | i >> 4, 0xC0 | i & 7))
             + _MOVZX8[(i & 15) << 4 | (i & 15)] for i in range(256)]
# Whole-register XMM loads/stores by size: (insn, mandatory prefix, opcode).
_XMM_LOAD = {4: ("movss", b"\xf3", b"\x0f\x10"), 8: ("movsd", b"\xf2", b"\x0f\x10"),
             16: ("movdqu", b"\xf3", b"\x0f\x6f")}
_XMM_STORE = {4: ("movss", b"\xf3", b"\x0f\x11"), 8: ("movsd", b"\xf2", b"\x0f\x11"),
              16: ("movdqu", b"\xf3", b"\x0f\x7f")}


def _xmm_disp_head(pfx, opc, reg, base, mod=0x40):
    return pfx + _disp_head(0, opc, reg & 15, base, mod)


# The fast paths of load/store: (size, register, base) -> the instruction minus its
# disp8 / disp32, for every GPR size and XMM form with a GPR base.
_LOAD_D8, _LOAD_D32, _STORE_D8, _STORE_D32, _LEA_D8, _LEA_D32 = {}, {}, {}, {}, {}, {}
for _b in range(16):
    for _r in range(16):
        for _sz, _pfx, _w, _ld, _st in ((8, b"", 8, b"\x8b", b"\x89"), (4, b"", 0, b"\x8b", b"\x89"),
                                       (2, b"\x66", 0, b"\x8b", b"\x89")):
            _LOAD_D8[_sz, _r, _b] = _pfx + _disp_head(_w, _ld, _r, _b)
            _LOAD_D32[_sz, _r, _b] = _pfx + _disp_head(_w, _ld, _r, _b, 0x80)
            _STORE_D8[_sz, _r, _b] = _pfx + _disp_head(_w, _st, _r, _b)
            _STORE_D32[_sz, _r, _b] = _pfx + _disp_head(_w, _st, _r, _b, 0x80)
        for _sz, _w in ((8, 8), (4, 0)):
            _LEA_D8[_sz, _r, _b] = _disp_head(_w, b"\x8d", _r, _b)
            _LEA_D32[_sz, _r, _b] = _disp_head(_w, b"\x8d", _r, _b, 0x80)
    for _x in range(16, 32):
        for _sz in (4, 8, 16):
            _n, _pfx, _opc = _XMM_LOAD[_sz]
            _LOAD_D8[_sz, _x, _b] = _xmm_disp_head(_pfx, _opc, _x, _b)
            _LOAD_D32[_sz, _x, _b] = _xmm_disp_head(_pfx, _opc, _x, _b, 0x80)
            _n, _pfx, _opc = _XMM_STORE[_sz]
            _STORE_D8[_sz, _x, _b] = _xmm_disp_head(_pfx, _opc, _x, _b)
            _STORE_D32[_sz, _x, _b] = _xmm_disp_head(_pfx, _opc, _x, _b, 0x80)
# [base] with no displacement: the mod-0 form, except rbp/r13 bases, which need a zero disp8.
_LOAD_D0 = {k: (h + b"\0" if k[2] & 7 == 5 else h[:-1] + bytes((h[-1] & 0x3F,)) if k[2] & 7 != 4
                else h[:-2] + bytes((h[-2] & 0x3F,)) + h[-1:]) for k, h in _LOAD_D8.items()}
_STORE_D0 = {k: (h + b"\0" if k[2] & 7 == 5 else h[:-1] + bytes((h[-1] & 0x3F,)) if k[2] & 7 != 4
                 else h[:-2] + bytes((h[-2] & 0x3F,)) + h[-1:]) for k, h in _STORE_D8.items()}
# <op> r, imm8 / imm32 minus the immediate: (op, size 4/8, r) -> head.
_ALU_RI8 = {(_o, _sz, _r): (_ALU_I8_8 if _sz == 8 else _ALU_I8_4)[_o << 4 | _r]
            for _o in range(8) for _sz in (4, 8) for _r in range(16)}
_ALU_RI32 = {(_o, _sz, _r): (_ALU_I32_8 if _sz == 8 else _ALU_I32_4)[_o << 4 | _r]
             for _o in range(8) for _sz in (4, 8) for _r in range(16)}

# --- tables for the compiler's inlined fast paths ---------------------------------
# A Python call costs more than encoding a common instruction, so the hottest
# visitors append these heads themselves.  The operands come from the register
# allocator and the frame layout (always valid), the base is rbp and the
# displacement an 8-bit one: everything else goes through the checked methods.
# By operand size (index 0..16, None where the size has no such form), then register.
# The *32 tables are the disp32 / imm32 forms (large frames, large constants).
FRAME_LOAD8, FRAME_STORE8, FRAME_LOAD32, FRAME_STORE32 = [None] * 17, [None] * 17, [None] * 17, [None] * 17
for _sz in (2, 4, 8, 16):
    FRAME_LOAD8[_sz] = [_LOAD_D8.get((_sz, _r, 5)) for _r in range(32)]
    FRAME_STORE8[_sz] = [_STORE_D8.get((_sz, _r, 5)) for _r in range(32)]
    FRAME_LOAD32[_sz] = [_LOAD_D32.get((_sz, _r, 5)) for _r in range(32)]
    FRAME_STORE32[_sz] = [_STORE_D32.get((_sz, _r, 5)) for _r in range(32)]
# <op> r, imm8 / imm32 minus the immediate, by size (4/8) then op << 4 | r.
ALU_RI8, ALU_RI32 = [None] * 9, [None] * 9
ALU_RI8[4], ALU_RI8[8] = _ALU_I8_4, _ALU_I8_8
ALU_RI32[4], ALU_RI32[8] = _ALU_I32_4, _ALU_I32_8
# <op> r, [rbp + disp8/32] minus the displacement, by size (4/8) then op << 8 | r << 4 (| 5, rbp).
ALU_RM_FRAME8, ALU_RM_FRAME32 = [None] * 9, [None] * 9
ALU_RM_FRAME8[4], ALU_RM_FRAME8[8] = _ALU_RM4, _ALU_RM8
ALU_RM_FRAME32[4], ALU_RM_FRAME32[8] = _ALU_RM4_32, _ALU_RM8_32
# <op> r/m, r by size then op << 8 | src << 4 | dst; test r32, r32 by src << 4 | dst.
ALU_RR = [None] * 9
ALU_RR[4], ALU_RR[8] = _ALU_RR[4], _ALU_RR[8]
TEST_RR4 = _TEST_RR4
MOV_RR4, MOV_RR8 = _MOV_RR4, _MOV_RR8       # mov dst, src: indexed by src << 4 | dst
# <op> [base + disp8], imm8 minus the disp8 and imm8, by size (4/8) then op << 4 | base.
# ALU_MI32*: the imm32 forms (81 /op); *_D32: [base + disp32].
ALU_MI8, ALU_MI8_D32, ALU_MI32, ALU_MI32_D32 = [None] * 9, [None] * 9, [None] * 9, [None] * 9
ALU_MI8[4], ALU_MI8[8] = _ALU_MI8_4, _ALU_MI8_8
ALU_MI8_D32[4], ALU_MI8_D32[8] = _ALU_MI8_4_32, _ALU_MI8_8_32
ALU_MI32[4], ALU_MI32[8] = _ALU_MI32_4, _ALU_MI32_8
ALU_MI32_D32[4], ALU_MI32_D32[8] = _ALU_MI32_4_32, _ALU_MI32_8_32
# shifts by 1 (D1 /op) and by imm8 (C1 /op, minus the count), by size (4/8) then op << 4 | r.
SHIFT1, SHIFTI = [None] * 9, [None] * 9
SHIFT1[4], SHIFT1[8], SHIFTI[4], SHIFTI[8] = _SHIFT1_4, _SHIFT1_8, _SHIFTI_4, _SHIFTI_8
# [base + disp8] / [base] heads for any base, by size then register << 4 | base.
LOAD_D8, LOAD_D0, STORE_D8, STORE_D0, STORE_D32 = [None] * 17, [None] * 17, [None] * 17, [None] * 17, [None] * 17
for _t, _d in ((LOAD_D8, _LOAD_D8), (LOAD_D0, _LOAD_D0), (STORE_D8, _STORE_D8), (STORE_D0, _STORE_D0),
               (STORE_D32, _STORE_D32)):
    for _sz in (2, 4, 8, 16):
        _t[_sz] = [_d.get((_sz, _i >> 4, _i & 15)) for _i in range(512)]
# mov [base + disp8] / [base], imm32 minus displacement and immediate, by size (4/8) then base.
STORE_IMM_D8, STORE_IMM_D0, STORE_IMM_D32 = [None] * 9, [None] * 9, [None] * 9
STORE_IMM_D8[4], STORE_IMM_D8[8] = _STI4, _STI8
STORE_IMM_D32[4], STORE_IMM_D32[8] = _STI4_32, _STI8_32
STORE_IMM_D0[4] = [h + b"\0" if b & 7 == 5 else h[:-1] + bytes((h[-1] & 0x3F,)) if b & 7 != 4
                   else h[:-2] + bytes((h[-2] & 0x3F,)) + h[-1:] for b, h in enumerate(_STI4)]
STORE_IMM_D0[8] = [h + b"\0" if b & 7 == 5 else h[:-1] + bytes((h[-1] & 0x3F,)) if b & 7 != 4
                   else h[:-2] + bytes((h[-2] & 0x3F,)) + h[-1:] for b, h in enumerate(_STI8)]
D8 = _D8
PACK_U32 = _pack_u32
PACK_I32 = _pack_i32
# mov r32, imm32 minus the imm32, by register; setcc r8 + movzx r32, r8 by cc << 4 | r.
MOV_I32 = _MOV_I32
SETCC_ZX = _SETCC_ZX

del _disp_head, _xmm_disp_head, _b, _r, _x, _sz, _pfx, _w, _ld, _st, _n, _opc, _t, _d
