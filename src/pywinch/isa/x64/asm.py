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

Method index (``m`` = the trailing ``base, disp=0, index=NO_REG, scale=1``)
-------------------------------------------------------------------------
* moves (gpr.py): ``mov_rr(size, d, s)``, ``mov_ri(size, d, imm)``,
  ``movabs(d, imm) -> at``, ``load(size, d, m)``, ``store(size, s, m)`` (XMM
  registers too), ``load_zx(size, d, m)``, ``load_sx(size, dst_size, d, m)``,
  ``movzx_rr(size, d, s)``, ``movsx_rr(size, dst_size, d, s)``,
  ``store_imm(size, imm, m)``, ``lea(size, d, m)``, ``lea_label(d, label)``,
  ``xchg_rr``, ``bswap(size, r)``.
* integer (gpr.py): ``alu_rr/alu_ri/alu_rm/alu_mr/alu_mi(op, size, ...)``
  with op in ADD OR ADC SBB AND SUB XOR CMP, ``alu_ri32(op, size, d, imm) -> at``
  (patchable), ``add_rr``/``add_ri``/... wrappers, ``test_rr/test_ri/test_mr/test_mi``,
  ``neg not_ inc dec mul imul1 div idiv (size, r)``, ``imul_rr``, ``imul_rm``,
  ``imul_rri``, ``cdq cqo sign_extend_ax(size)``, ``shift_cl(op, size, r)``,
  ``shift_ri(op, size, r, n)`` with op in ROL ROR RCL RCR SHL SHR SAR,
  ``lzcnt tzcnt popcnt bsr bsf (size, d, s)``, ``setcc(cc, r)``, ``setcc_zx(cc, r)``,
  ``cmov(cc, size, d, s)``, ``cmov_rm(cc, size, d, m)``; atomics
  ``xchg_mr``, ``lock_xadd``, ``lock_cmpxchg(size, s, m)``, ``lock_alu_mr(op, size, s, m)``.
* SSE (sse.py): ``sse(op, d, s)``, ``sse_m(op, d, m)``, ``sse_store(op, s, m)``,
  ``sse_imm(op, d, s, imm)``, ``sse_imm_m(op, d, imm, m)`` with the op
  constants of :mod:`.sse`; named ``addss ... xorpd``, ``movaps``,
  ``roundss/roundsd(d, s, mode)``, ``cmpss/cmpsd(d, s, pred)``,
  ``cvtsi2ss/cvtsi2sd(src_size, x, g)``, ``cvttss2si/cvttsd2si(dst_size, g, x)``,
  ``movd(d, s)``, ``movq(d, s)`` (GPR<->XMM either way).
* v128 (simd.py): the packed op constants of :mod:`.simd` with the generic
  ``sse*`` methods, ``sse_shift_imm(op, x, n)``, ``pinsr(size, x, g, lane)``,
  ``pinsr_m(size, x, lane, m)``, ``pextr(size, g, x, lane)``,
  ``pextr_m(size, x, lane, m)``, ``movmskps/movmskpd/pmovmskb(g, x)``.
* control (this module): ``new_label() -> label``, ``bind(label)``,
  ``jmp(label)``, ``jcc(cc, label)``, ``jmp_short``, ``jcc_short``,
  ``jmp_r(r)``, ``jmp_m(m)``, ``call(label)``, ``call_extern(key) -> at``,
  ``call_r(r)``, ``call_m(m)``, ``ret``, ``push_r pop_r push_i push_m pop_m``,
  ``leave``, ``rep_stosq rep_stosb rep_movsb``, ``ud2 int3 nop(n) align(n)``,
  ``cpuid xgetbv mfence``, ``jump_table(index, tmp, labels)``,
  ``const_f32/const_f64/const_u32/const_u64/const_u128/const_bytes -> label``,
  ``patch_imm32(at, v)``, ``patch_imm64(at, v)``, ``pos``, ``finalize() -> bytes``.

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

from ...errors import AssemblerError
from .encoding import _D8, _SS, _ZERO4, _bad, _gpr_name, _pack_f32, _pack_f64, _pack_i32, _pack_u32, _pack_u64
from .gpr import (  # noqa: F401  (re-exported: the compiler imports the operations from here)
    ADC, ADD, ALU_NAMES, AND, CMP, OR, RCL, RCR, ROL, ROR, SAR, SBB, SHIFT_NAMES, SHL, SHR, SUB, XOR, GprMixin,
)
from .regs import CC_NAMES, NO_REG, RIP, RSP
from .simd import SimdMixin
from .sse import SseMixin

__all__ = [
    "Assembler", "link_rel32",
    "ADD", "OR", "ADC", "SBB", "AND", "SUB", "XOR", "CMP",
    "ROL", "ROR", "RCL", "RCR", "SHL", "SHR", "SAR",
]


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


def link_rel32(buf: bytearray, at: int, target: int) -> None:
    """Patch the rel32 field at ``at`` (ending at ``at + 4``) to reach ``target``.

    For the module linker: ``at`` and ``target`` are offsets in the same blob.
    """
    rel = target - (at + 4)
    if not -0x80000000 <= rel <= 0x7FFFFFFF:
        raise AssemblerError(f"rel32 relocation at {at:#x}: target {target:#x} out of range")
    buf[at:at + 4] = _pack_i32(rel)


class Assembler(GprMixin, SseMixin, SimdMixin):
    """An x86-64 code buffer with labels, fixups and a constant pool.

    Public state: ``buf`` (the bytes so far; ``len(buf)`` is the current
    offset, also ``pos``), ``relocs`` (list of ``(at, key)`` rel32 sites from
    :meth:`call_extern`), ``code_end`` (after ``finalize``: the offset where
    the constant pool starts).  Offsets never move once emitted (there is no
    branch relaxation), so the compiler may record them freely.  See the
    module docstring for operand conventions.
    """

    __slots__ = ("buf", "relocs", "code_end", "_lpos", "_lfix", "_consts", "_const_list", "_finalized")

    def __init__(self):
        self.buf = bytearray()
        self.relocs: list[tuple[int, object]] = []
        self._lpos: list[int] = []        # label -> offset, -1 while unbound
        # label -> pending (at, base, width, insn), only for labels used before bound
        # (most labels are bound before any forward use or never used forward).
        self._lfix: dict[int, list] = {}
        self._consts: dict[bytes, int] = {}
        self._const_list: list[tuple[int, bytes, int]] = []
        self._finalized = False
        self.code_end = -1                # set by finalize(): where the constant pool starts

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
        lpos = self._lpos
        lpos.append(-1)
        return len(lpos) - 1

    def bind(self, label: int, at: int | None = None) -> None:
        """Bind ``label`` to the current offset (or ``at``) and patch its pending uses."""
        lpos = self._lpos
        if at is None and type(label) is int and 0 <= label < len(lpos) and lpos[label] < 0:
            pos = lpos[label] = len(self.buf)      # the common case, checked in one go
        else:
            self._check_label(label, "bind")
            if lpos[label] >= 0:
                _bad("bind", f"label {label} is already bound at {lpos[label]:#x}")
            pos = len(self.buf) if at is None else at
            if type(pos) is not int or not 0 <= pos <= len(self.buf):
                _bad("bind", f"offset {pos!r} is not within the code emitted so far")
            lpos[label] = pos
        fix = self._lfix.pop(label, None)
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
            self._fixup(label, (at, base, width, insn))

    def _fixup(self, label, fix):
        pending = self._lfix.get(label)
        if pending is None:
            self._lfix[label] = [fix]
        else:
            pending.append(fix)

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
        if type(disp) is int and -0x80000000 <= disp <= 0x7FFFFFFF and type(base) is int and 0 <= base < 16:
            k = (reg & 7) << 4 | base
            if index == NO_REG:
                rex = w | (reg & 8) >> 1 | base >> 3
                if disp == 0 and base & 7 != 5:
                    tail = _MOD0[k]
                elif -128 <= disp <= 127:
                    tail = _MOD1[k] + _D8[disp & 0xFF]
                else:
                    tail = _MOD2[k] + _pack_i32(disp)
            elif type(index) is int and 0 <= index < 16 and index != RSP and scale in _SS:
                rex = w | (reg & 8) >> 1 | (index & 8) >> 2 | base >> 3
                sib = _D8[_SS[scale] | (index & 7) << 3 | (base & 7)]
                if disp == 0 and base & 7 != 5:
                    tail = _SIB0[k] + sib
                elif -128 <= disp <= 127:
                    tail = _SIB1[k] + sib + _D8[disp & 0xFF]
                else:
                    tail = _SIB2[k] + sib + _pack_i32(disp)
            else:
                self._bad_index(insn, index, scale)
        elif base == RIP:
            self._rm_rip(insn, pfx, w, opc, reg, disp, index, imm, force_rex)
            return
        elif base == NO_REG and type(disp) is int and -0x80000000 <= disp <= 0x7FFFFFFF:
            if not (type(index) is int and 0 <= index < 16 and index != RSP and scale in _SS):
                self._bad_index(insn, index, scale)
            rex = w | (reg & 8) >> 1 | (index & 8) >> 2
            tail = _D8[(reg & 7) << 3 | 4] + _D8[_SS[scale] | (index & 7) << 3 | 5] + _pack_i32(disp)
        elif type(disp) is not int or not -0x80000000 <= disp <= 0x7FFFFFFF:
            _bad(insn, f"displacement {disp!r} does not fit in 32 bits")
        else:
            _bad(insn, f"base {base!r} is not a general-purpose register")
        if rex or force_rex:
            self.buf += pfx + _D8[0x40 | rex] + opc + tail + imm
        else:
            self.buf += pfx + opc + tail + imm

    def _rm_rip(self, insn, pfx, w, opc, reg, label, index, imm, force_rex):
        """``[rip + label]``: the rel32 is relative to the end of the instruction (after ``imm``)."""
        if index != NO_REG:
            _bad(insn, "a RIP-relative operand cannot have an index")
        if type(label) is not int or not 0 <= label < len(self._lpos):
            _bad(insn, f"{label!r} is not a label of this assembler (RIP-relative operand)")
        rex = w | (reg & 8) >> 1
        modrm = _D8[(reg & 7) << 3 | 5]
        if rex or force_rex:
            self.buf += pfx + _D8[0x40 | rex] + opc + modrm
        else:
            self.buf += pfx + opc + modrm
        at = len(self.buf)
        self.buf += _ZERO4 + imm
        self._use_label(label, at, at + 4 + len(imm), 4, insn)

    @staticmethod
    def _bad_index(insn, index, scale):
        if type(index) is not int or not 0 <= index < 16 or index == RSP:
            _bad(insn, f"index {_gpr_name(index)} is not a general-purpose register other than rsp")
        _bad(insn, f"scale {scale!r} is not 1, 2, 4 or 8")

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
            pending = self._lfix.get(label)
            if pending is None:
                self._lfix[label] = [(at, at + 4, 4, "jmp")]
            else:
                pending.append((at, at + 4, 4, "jmp"))

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
            pending = self._lfix.get(label)
            if pending is None:
                self._lfix[label] = [(at, at + 4, 4, "jcc")]
            else:
                pending.append((at, at + 4, 4, "jcc"))

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
            self._fixup(label, (at, at + 4, 4, "call"))

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
        if type(n) is not int or not 0 <= n <= 0x10000:
            _bad("nop", f"bad length {n!r} (0 to 65536 bytes)")
        while n > 9:
            self.buf += _NOPS[9]
            n -= 9
        self.buf += _NOPS[n]

    def align(self, n: int) -> None:
        """Pad with NOPs to a multiple of ``n`` (a power of two)."""
        if type(n) is not int or n <= 0 or n & (n - 1) or n > 0x10000:
            _bad("align", f"alignment {n!r} is not a power of two up to 65536")
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
        # Check before emitting anything, so a failed finalize leaves the buffer as it was.
        pool = {label for label, _, _ in self._const_list}
        for label, fix in sorted(self._lfix.items()):
            if fix and label not in pool:
                at, _base, _w, insn = fix[0]
                raise AssemblerError(f"{insn}: label {label} used at offset {at:#x} is never bound")
        self.code_end = len(self.buf)
        if self._const_list:
            # Largest alignment first, so each entry is aligned with no padding between.
            entries = sorted(self._const_list, key=lambda e: -e[2])
            self.buf += b"\xcc" * (-len(self.buf) & (entries[0][2] - 1))
            for label, data, align in entries:
                self.buf += b"\0" * (-len(self.buf) & (align - 1))
                self.bind(label)
                self.buf += data
        self._finalized = True
        return bytes(self.buf)




def _modrm_heads(mod, sib):
    """ModRM bytes (plus the SIB 0x24 a rsp/r12 base needs) by ``(reg & 7) << 4 | base``."""
    out = []
    for k in range(128):
        reg7, base = k >> 4, k & 15
        if sib:
            out.append(bytes((mod | reg7 << 3 | 4,)))
        elif base & 7 == 4:
            out.append(bytes((mod | reg7 << 3 | 4, 0x24)))
        else:
            out.append(bytes((mod | reg7 << 3 | (base & 7),)))
    return out


# [base], [base + disp8], [base + disp32]; then the same with a SIB byte to follow.
_MOD0, _MOD1, _MOD2 = (_modrm_heads(m, False) for m in (0x00, 0x40, 0x80))
_SIB0, _SIB1, _SIB2 = (_modrm_heads(m, True) for m in (0x00, 0x40, 0x80))
_JCC_NEAR = [bytes((0x0F, 0x80 | cc)) for cc in range(16)]
# For the compiler's inlined branches: j<cc> rel32 minus / with a zero rel32.
JCC_NEAR = _JCC_NEAR
JCC_NEAR0 = [b + _ZERO4 for b in _JCC_NEAR]
_PUSH = [bytes((0x41, 0x50 + r - 8)) if r >= 8 else bytes((0x50 + r,)) for r in range(16)]
_POP = [bytes((0x41, 0x58 + r - 8)) if r >= 8 else bytes((0x58 + r,)) for r in range(16)]
