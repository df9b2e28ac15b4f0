"""SSE/SSE2/SSE4.1 encodings of the x86-64 assembler (mixed into ``Assembler``).

Operations are described by constant tuples ``(mnemonic, prefix, opcode, cache)``
(the mandatory prefix goes before REX, the opcode bytes after it), passed to
the generic :meth:`SseMixin.sse` (register form) and :meth:`SseMixin.sse_m`
(memory source form).  Named methods cover what the compiler uses most.
Operand conventions are those of :mod:`pywinch.isa.x64.asm`.
"""

from __future__ import annotations

from ...errors import AssemblerError
from .encoding import _D8, _rr_bytes
from .regs import NO_REG


def _op(mn, pfx, opc):
    # The fourth item caches the register-register encodings, filled on first use.
    return (mn, pfx, opc, [None] * 256)


# --- scalar float arithmetic --------------------------------------------------
ADDSS = _op("addss", b"\xf3", b"\x0f\x58"); ADDSD = _op("addsd", b"\xf2", b"\x0f\x58")
SUBSS = _op("subss", b"\xf3", b"\x0f\x5c"); SUBSD = _op("subsd", b"\xf2", b"\x0f\x5c")
MULSS = _op("mulss", b"\xf3", b"\x0f\x59"); MULSD = _op("mulsd", b"\xf2", b"\x0f\x59")
DIVSS = _op("divss", b"\xf3", b"\x0f\x5e"); DIVSD = _op("divsd", b"\xf2", b"\x0f\x5e")
MINSS = _op("minss", b"\xf3", b"\x0f\x5d"); MINSD = _op("minsd", b"\xf2", b"\x0f\x5d")
MAXSS = _op("maxss", b"\xf3", b"\x0f\x5f"); MAXSD = _op("maxsd", b"\xf2", b"\x0f\x5f")
SQRTSS = _op("sqrtss", b"\xf3", b"\x0f\x51"); SQRTSD = _op("sqrtsd", b"\xf2", b"\x0f\x51")
CVTSS2SD = _op("cvtss2sd", b"\xf3", b"\x0f\x5a"); CVTSD2SS = _op("cvtsd2ss", b"\xf2", b"\x0f\x5a")
UCOMISS = _op("ucomiss", b"", b"\x0f\x2e"); UCOMISD = _op("ucomisd", b"\x66", b"\x0f\x2e")
COMISS = _op("comiss", b"", b"\x0f\x2f"); COMISD = _op("comisd", b"\x66", b"\x0f\x2f")
# --- register moves (load direction) --------------------------------------------
MOVSS = _op("movss", b"\xf3", b"\x0f\x10"); MOVSD = _op("movsd", b"\xf2", b"\x0f\x10")
MOVAPS = _op("movaps", b"", b"\x0f\x28"); MOVAPD = _op("movapd", b"\x66", b"\x0f\x28")
MOVUPS = _op("movups", b"", b"\x0f\x10"); MOVUPD = _op("movupd", b"\x66", b"\x0f\x10")
MOVDQA = _op("movdqa", b"\x66", b"\x0f\x6f"); MOVDQU = _op("movdqu", b"\xf3", b"\x0f\x6f")
MOVQ_XX = _op("movq", b"\xf3", b"\x0f\x7e")   # xmm <- xmm/m64, upper 64 bits zeroed
# --- bitwise --------------------------------------------------------------------
ANDPS = _op("andps", b"", b"\x0f\x54"); ANDPD = _op("andpd", b"\x66", b"\x0f\x54")
ANDNPS = _op("andnps", b"", b"\x0f\x55"); ANDNPD = _op("andnpd", b"\x66", b"\x0f\x55")
ORPS = _op("orps", b"", b"\x0f\x56"); ORPD = _op("orpd", b"\x66", b"\x0f\x56")
XORPS = _op("xorps", b"", b"\x0f\x57"); XORPD = _op("xorpd", b"\x66", b"\x0f\x57")
PAND = _op("pand", b"\x66", b"\x0f\xdb"); PANDN = _op("pandn", b"\x66", b"\x0f\xdf")
POR = _op("por", b"\x66", b"\x0f\xeb"); PXOR = _op("pxor", b"\x66", b"\x0f\xef")
# --- packed (for v128) ----------------------------------------------------------
ADDPS = _op("addps", b"", b"\x0f\x58"); ADDPD = _op("addpd", b"\x66", b"\x0f\x58")
SUBPS = _op("subps", b"", b"\x0f\x5c"); SUBPD = _op("subpd", b"\x66", b"\x0f\x5c")
MULPS = _op("mulps", b"", b"\x0f\x59"); MULPD = _op("mulpd", b"\x66", b"\x0f\x59")
DIVPS = _op("divps", b"", b"\x0f\x5e"); DIVPD = _op("divpd", b"\x66", b"\x0f\x5e")
MINPS = _op("minps", b"", b"\x0f\x5d"); MINPD = _op("minpd", b"\x66", b"\x0f\x5d")
MAXPS = _op("maxps", b"", b"\x0f\x5f"); MAXPD = _op("maxpd", b"\x66", b"\x0f\x5f")
SQRTPS = _op("sqrtps", b"", b"\x0f\x51"); SQRTPD = _op("sqrtpd", b"\x66", b"\x0f\x51")
PADDB = _op("paddb", b"\x66", b"\x0f\xfc"); PADDW = _op("paddw", b"\x66", b"\x0f\xfd")
PADDD = _op("paddd", b"\x66", b"\x0f\xfe"); PADDQ = _op("paddq", b"\x66", b"\x0f\xd4")
PSUBB = _op("psubb", b"\x66", b"\x0f\xf8"); PSUBW = _op("psubw", b"\x66", b"\x0f\xf9")
PSUBD = _op("psubd", b"\x66", b"\x0f\xfa"); PSUBQ = _op("psubq", b"\x66", b"\x0f\xfb")
PCMPEQB = _op("pcmpeqb", b"\x66", b"\x0f\x74"); PCMPEQW = _op("pcmpeqw", b"\x66", b"\x0f\x75")
PCMPEQD = _op("pcmpeqd", b"\x66", b"\x0f\x76"); PCMPEQQ = _op("pcmpeqq", b"\x66", b"\x0f\x38\x29")
PTEST = _op("ptest", b"\x66", b"\x0f\x38\x17")
UNPCKLPS = _op("unpcklps", b"", b"\x0f\x14"); UNPCKLPD = _op("unpcklpd", b"\x66", b"\x0f\x14")
PUNPCKLQDQ = _op("punpcklqdq", b"\x66", b"\x0f\x6c")

# xmm, xmm/mem operations (the generic table the tests enumerate).
SSE_OPS = (
    ADDSS, ADDSD, SUBSS, SUBSD, MULSS, MULSD, DIVSS, DIVSD, MINSS, MINSD, MAXSS, MAXSD,
    SQRTSS, SQRTSD, CVTSS2SD, CVTSD2SS, UCOMISS, UCOMISD, COMISS, COMISD,
    MOVSS, MOVSD, MOVAPS, MOVAPD, MOVUPS, MOVUPD, MOVDQA, MOVDQU, MOVQ_XX,
    ANDPS, ANDPD, ANDNPS, ANDNPD, ORPS, ORPD, XORPS, XORPD, PAND, PANDN, POR, PXOR,
    ADDPS, ADDPD, SUBPS, SUBPD, MULPS, MULPD, DIVPS, DIVPD, MINPS, MINPD, MAXPS, MAXPD,
    SQRTPS, SQRTPD, PADDB, PADDW, PADDD, PADDQ, PSUBB, PSUBW, PSUBD, PSUBQ,
    PCMPEQB, PCMPEQW, PCMPEQD, PCMPEQQ, PTEST, UNPCKLPS, UNPCKLPD, PUNPCKLQDQ,
)

# Store direction (mem <- xmm).
MOVSS_ST = _op("movss", b"\xf3", b"\x0f\x11"); MOVSD_ST = _op("movsd", b"\xf2", b"\x0f\x11")
MOVAPS_ST = _op("movaps", b"", b"\x0f\x29"); MOVAPD_ST = _op("movapd", b"\x66", b"\x0f\x29")
MOVUPS_ST = _op("movups", b"", b"\x0f\x11"); MOVUPD_ST = _op("movupd", b"\x66", b"\x0f\x11")
MOVDQA_ST = _op("movdqa", b"\x66", b"\x0f\x7f"); MOVDQU_ST = _op("movdqu", b"\xf3", b"\x0f\x7f")
MOVQ_ST = _op("movq", b"\x66", b"\x0f\xd6")
SSE_STORE_OPS = (MOVSS_ST, MOVSD_ST, MOVAPS_ST, MOVAPD_ST, MOVUPS_ST, MOVUPD_ST,
                 MOVDQA_ST, MOVDQU_ST, MOVQ_ST)

# xmm, xmm/mem, imm8 operations.
ROUNDSS = _op("roundss", b"\x66", b"\x0f\x3a\x0a"); ROUNDSD = _op("roundsd", b"\x66", b"\x0f\x3a\x0b")
ROUNDPS = _op("roundps", b"\x66", b"\x0f\x3a\x08"); ROUNDPD = _op("roundpd", b"\x66", b"\x0f\x3a\x09")
CMPSS = _op("cmpss", b"\xf3", b"\x0f\xc2"); CMPSD = _op("cmpsd", b"\xf2", b"\x0f\xc2")
CMPPS = _op("cmpps", b"", b"\x0f\xc2"); CMPPD = _op("cmppd", b"\x66", b"\x0f\xc2")
PSHUFD = _op("pshufd", b"\x66", b"\x0f\x70"); SHUFPS = _op("shufps", b"", b"\x0f\xc6")
SSE_IMM_OPS = (ROUNDSS, ROUNDSD, ROUNDPS, ROUNDPD, CMPSS, CMPSD, CMPPS, CMPPD, PSHUFD, SHUFPS)

# roundss/roundsd modes (bit 3 suppresses the precision exception).
ROUND_NEAREST, ROUND_FLOOR, ROUND_CEIL, ROUND_TRUNC = 8, 9, 10, 11
# cmpss/cmpsd predicates.
CMP_EQ, CMP_LT, CMP_LE, CMP_UNORD, CMP_NEQ, CMP_NLT, CMP_NLE, CMP_ORD = range(8)


def _xmm_name(r):
    return f"xmm{r - 16}" if type(r) is int and 16 <= r < 32 else repr(r)


class SseMixin:
    """SSE instructions; relies on ``Assembler._rr``/``_rm`` and ``buf``."""

    __slots__ = ()

    def sse(self, op, dst: int, src: int) -> None:
        """``<op> dst, src`` on two XMM registers (op: a constant of this module)."""
        if type(dst) is not int or type(src) is not int or (dst >> 4) != 1 or (src >> 4) != 1:
            raise AssemblerError(f"{op[0]}: operands {_xmm_name(dst)}, {_xmm_name(src)} must be XMM registers")
        k = (dst & 15) << 4 | (src & 15)
        try:
            cache = op[3]
            code = cache[k]
        except (IndexError, TypeError, KeyError):
            raise AssemblerError(f"sse: {op!r} is not an SSE operation of this package") from None
        if code is None:
            code = cache[k] = _rr_bytes(op[1], 0, op[2], dst & 15, src & 15)
        self.buf += code

    def sse_m(self, op, dst: int, base: int, disp: int = 0, index: int = NO_REG, scale: int = 1) -> None:
        """``<op> dst, [mem]`` (packed ops read 16 aligned bytes: use const_u128 for masks)."""
        _check_op(op)
        if type(dst) is not int or (dst >> 4) != 1:
            raise AssemblerError(f"{op[0]}: destination {dst!r} is not an XMM register")
        self._rm(op[0], op[1], 0, op[2], dst & 15, base, disp, index, scale)

    def sse_store(self, op, src: int, base: int, disp: int = 0, index: int = NO_REG, scale: int = 1) -> None:
        """``<op> [mem], src`` for the ``*_ST`` store operations."""
        _check_op(op)
        if type(src) is not int or (src >> 4) != 1:
            raise AssemblerError(f"{op[0]}: source {src!r} is not an XMM register")
        self._rm(op[0], op[1], 0, op[2], src & 15, base, disp, index, scale)

    def sse_imm(self, op, dst: int, src: int, imm: int) -> None:
        """``<op> dst, src, imm8`` (round*, cmp*, pshufd, shufps)."""
        _check_op(op)
        if type(imm) is not int or not 0 <= imm <= 255:
            raise AssemblerError(f"{op[0]}: immediate {imm!r} does not fit in 8 bits")
        self.sse(op, dst, src)
        self.buf.append(imm)

    def sse_imm_m(self, op, dst: int, imm: int, base: int, disp: int = 0, index: int = NO_REG,
                  scale: int = 1) -> None:
        """``<op> dst, [mem], imm8``."""
        _check_op(op)
        if type(imm) is not int or not 0 <= imm <= 255:
            raise AssemblerError(f"{op[0]}: immediate {imm!r} does not fit in 8 bits")
        if type(dst) is not int or (dst >> 4) != 1:
            raise AssemblerError(f"{op[0]}: destination {dst!r} is not an XMM register")
        self._rm(op[0], op[1], 0, op[2], dst & 15, base, disp, index, scale, _D8[imm])

    # --- named scalar float operations (register forms) ------------------------
    def addss(self, dst, src): self.sse(ADDSS, dst, src)
    def addsd(self, dst, src): self.sse(ADDSD, dst, src)
    def subss(self, dst, src): self.sse(SUBSS, dst, src)
    def subsd(self, dst, src): self.sse(SUBSD, dst, src)
    def mulss(self, dst, src): self.sse(MULSS, dst, src)
    def mulsd(self, dst, src): self.sse(MULSD, dst, src)
    def divss(self, dst, src): self.sse(DIVSS, dst, src)
    def divsd(self, dst, src): self.sse(DIVSD, dst, src)
    def minss(self, dst, src): self.sse(MINSS, dst, src)
    def minsd(self, dst, src): self.sse(MINSD, dst, src)
    def maxss(self, dst, src): self.sse(MAXSS, dst, src)
    def maxsd(self, dst, src): self.sse(MAXSD, dst, src)
    def sqrtss(self, dst, src): self.sse(SQRTSS, dst, src)
    def sqrtsd(self, dst, src): self.sse(SQRTSD, dst, src)
    def ucomiss(self, a, b): self.sse(UCOMISS, a, b)
    def ucomisd(self, a, b): self.sse(UCOMISD, a, b)
    def comiss(self, a, b): self.sse(COMISS, a, b)
    def comisd(self, a, b): self.sse(COMISD, a, b)
    def cvtss2sd(self, dst, src): self.sse(CVTSS2SD, dst, src)
    def cvtsd2ss(self, dst, src): self.sse(CVTSD2SS, dst, src)
    def andps(self, dst, src): self.sse(ANDPS, dst, src)
    def andpd(self, dst, src): self.sse(ANDPD, dst, src)
    def andnps(self, dst, src): self.sse(ANDNPS, dst, src)
    def andnpd(self, dst, src): self.sse(ANDNPD, dst, src)
    def orps(self, dst, src): self.sse(ORPS, dst, src)
    def orpd(self, dst, src): self.sse(ORPD, dst, src)
    def xorps(self, dst, src): self.sse(XORPS, dst, src)
    def xorpd(self, dst, src): self.sse(XORPD, dst, src)
    def pxor(self, dst, src): self.sse(PXOR, dst, src)
    def movaps(self, dst, src):
        """Whole-register copy (preferred for xmm-to-xmm moves: no merge dependency)."""
        self.sse(MOVAPS, dst, src)
    def movss_rr(self, dst, src):
        """Merge the low 32 bits of ``src`` into ``dst``."""
        self.sse(MOVSS, dst, src)
    def movsd_rr(self, dst, src):
        """Merge the low 64 bits of ``src`` into ``dst``."""
        self.sse(MOVSD, dst, src)

    def roundss(self, dst, src, mode): self.sse_imm(ROUNDSS, dst, src, mode)
    def roundsd(self, dst, src, mode): self.sse_imm(ROUNDSD, dst, src, mode)
    def cmpss(self, dst, src, pred): self.sse_imm(CMPSS, dst, src, pred)
    def cmpsd(self, dst, src, pred): self.sse_imm(CMPSD, dst, src, pred)

    # --- conversions between GPRs and XMM ------------------------------------
    def _gx(self, insn, pfx, opc, w, xmm_is_reg, xreg, greg):
        """An instruction with one XMM and one GPR operand."""
        if type(xreg) is not int or (xreg >> 4) != 1:
            raise AssemblerError(f"{insn}: {xreg!r} is not an XMM register")
        if type(greg) is not int or not 0 <= greg < 16:
            raise AssemblerError(f"{insn}: {greg!r} is not a general-purpose register")
        if xmm_is_reg:
            self._rr(insn, pfx, w, opc, xreg & 15, greg)
        else:
            self._rr(insn, pfx, w, opc, greg, xreg & 15)

    def cvtsi2ss(self, src_size: int, dst: int, src: int) -> None:
        """``cvtsi2ss xmm, r32/r64`` (signed source of ``src_size`` 4 or 8).

        Only the low lane is written: xor the destination first to break the
        dependency on its old value if that matters.
        """
        self._gx("cvtsi2ss", b"\xf3", b"\x0f\x2a", _w48("cvtsi2ss", src_size), True, dst, src)

    def cvtsi2sd(self, src_size: int, dst: int, src: int) -> None:
        """``cvtsi2sd xmm, r32/r64``."""
        self._gx("cvtsi2sd", b"\xf2", b"\x0f\x2a", _w48("cvtsi2sd", src_size), True, dst, src)

    def cvttss2si(self, dst_size: int, dst: int, src: int) -> None:
        """``cvttss2si r32/r64, xmm`` (truncating; 0x80..0 on overflow or NaN)."""
        self._gx("cvttss2si", b"\xf3", b"\x0f\x2c", _w48("cvttss2si", dst_size), False, src, dst)

    def cvttsd2si(self, dst_size: int, dst: int, src: int) -> None:
        """``cvttsd2si r32/r64, xmm``."""
        self._gx("cvttsd2si", b"\xf2", b"\x0f\x2c", _w48("cvttsd2si", dst_size), False, src, dst)

    def movd(self, dst: int, src: int) -> None:
        """32-bit move between a GPR and an XMM register (either direction).

        GPR -> XMM zeroes the upper lanes; XMM -> GPR zero-extends to 64 bits.
        """
        self._movdq("movd", 0, dst, src)

    def movq(self, dst: int, src: int) -> None:
        """64-bit move between a GPR and an XMM register (either direction), or XMM -> XMM
        (low 64 bits, upper zeroed)."""
        if type(dst) is int and type(src) is int and (dst >> 4) == 1 and (src >> 4) == 1:
            self._rr("movq", b"\xf3", 0, b"\x0f\x7e", dst & 15, src & 15)
            return
        self._movdq("movq", 8, dst, src)

    def _movdq(self, insn, w, dst, src):
        if type(dst) is int and (dst >> 4) == 1:
            self._gx(insn, b"\x66", b"\x0f\x6e", w, True, dst, src)
        elif type(src) is int and (src >> 4) == 1:
            self._gx(insn, b"\x66", b"\x0f\x7e", w, True, src, dst)
        else:
            raise AssemblerError(f"{insn}: one operand must be an XMM register ({dst!r}, {src!r})")


def _check_op(op):
    if type(op) is not tuple or len(op) != 4 or type(op[2]) is not bytes:
        raise AssemblerError(f"sse: {op!r} is not an SSE operation of this package")


def _w48(insn, size):
    if size == 8:
        return 8
    if size == 4:
        return 0
    raise AssemblerError(f"{insn}: bad integer operand size {size!r} (4 or 8)")
