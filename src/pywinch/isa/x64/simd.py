"""Packed (v128) SSE2..SSE4.1 encodings of the x86-64 assembler (mixed into ``Assembler``).

Operations of the form ``op xmm, xmm/m128`` are tuples used with the generic
``sse``/``sse_m``/``sse_imm``/``sse_imm_m`` methods of :mod:`.sse`; this module
adds the packed integer and conversion operations, shifts by an immediate,
and the lane moves between GPRs (or memory) and XMM lanes (pinsr*/pextr*,
movmsk*).  SSSE3/SSE4.1 operations are marked; the compiler checks
:mod:`.cpu` before using them.
"""

from __future__ import annotations

from ...errors import AssemblerError
from .encoding import _D8, _ZERO4
from .regs import NO_REG, RIP
from .sse import CMPPD as _CMPPD, CMPPS as _CMPPS, SHUFPS as _SHUFPS, SSE_OPS as _SSE_OPS, _op

P66 = b"\x66"

# --- packed integer arithmetic --------------------------------------------------
PADDSB = _op("paddsb", P66, b"\x0f\xec"); PADDSW = _op("paddsw", P66, b"\x0f\xed")
PADDUSB = _op("paddusb", P66, b"\x0f\xdc"); PADDUSW = _op("paddusw", P66, b"\x0f\xdd")
PSUBSB = _op("psubsb", P66, b"\x0f\xe8"); PSUBSW = _op("psubsw", P66, b"\x0f\xe9")
PSUBUSB = _op("psubusb", P66, b"\x0f\xd8"); PSUBUSW = _op("psubusw", P66, b"\x0f\xd9")
PMULLW = _op("pmullw", P66, b"\x0f\xd5"); PMULLD = _op("pmulld", P66, b"\x0f\x38\x40")      # pmulld: SSE4.1
PMULHW = _op("pmulhw", P66, b"\x0f\xe5"); PMULHUW = _op("pmulhuw", P66, b"\x0f\xe4")
PMULUDQ = _op("pmuludq", P66, b"\x0f\xf4"); PMULDQ = _op("pmuldq", P66, b"\x0f\x38\x28")     # pmuldq: SSE4.1
PMADDWD = _op("pmaddwd", P66, b"\x0f\xf5")
PMULHRSW = _op("pmulhrsw", P66, b"\x0f\x38\x0b")                                            # SSSE3
PMINSB = _op("pminsb", P66, b"\x0f\x38\x38"); PMINSW = _op("pminsw", P66, b"\x0f\xea")
PMINSD = _op("pminsd", P66, b"\x0f\x38\x39"); PMINUB = _op("pminub", P66, b"\x0f\xda")
PMINUW = _op("pminuw", P66, b"\x0f\x38\x3a"); PMINUD = _op("pminud", P66, b"\x0f\x38\x3b")
PMAXSB = _op("pmaxsb", P66, b"\x0f\x38\x3c"); PMAXSW = _op("pmaxsw", P66, b"\x0f\xee")
PMAXSD = _op("pmaxsd", P66, b"\x0f\x38\x3d"); PMAXUB = _op("pmaxub", P66, b"\x0f\xde")
PMAXUW = _op("pmaxuw", P66, b"\x0f\x38\x3e"); PMAXUD = _op("pmaxud", P66, b"\x0f\x38\x3f")
PCMPGTB = _op("pcmpgtb", P66, b"\x0f\x64"); PCMPGTW = _op("pcmpgtw", P66, b"\x0f\x65")
PCMPGTD = _op("pcmpgtd", P66, b"\x0f\x66"); PCMPGTQ = _op("pcmpgtq", P66, b"\x0f\x38\x37")  # pcmpgtq: SSE4.2
PAVGB = _op("pavgb", P66, b"\x0f\xe0"); PAVGW = _op("pavgw", P66, b"\x0f\xe3")
PABSB = _op("pabsb", P66, b"\x0f\x38\x1c"); PABSW = _op("pabsw", P66, b"\x0f\x38\x1d")     # SSSE3
PABSD = _op("pabsd", P66, b"\x0f\x38\x1e")
PSHUFB = _op("pshufb", P66, b"\x0f\x38\x00")                                                # SSSE3
PSIGNB = _op("psignb", P66, b"\x0f\x38\x08")
PMADDUBSW = _op("pmaddubsw", P66, b"\x0f\x38\x04")                                          # SSSE3
# --- packing, unpacking, widening ------------------------------------------------
PACKSSWB = _op("packsswb", P66, b"\x0f\x63"); PACKSSDW = _op("packssdw", P66, b"\x0f\x6b")
PACKUSWB = _op("packuswb", P66, b"\x0f\x67"); PACKUSDW = _op("packusdw", P66, b"\x0f\x38\x2b")
PUNPCKLBW = _op("punpcklbw", P66, b"\x0f\x60"); PUNPCKLWD = _op("punpcklwd", P66, b"\x0f\x61")
PUNPCKLDQ = _op("punpckldq", P66, b"\x0f\x62"); PUNPCKHBW = _op("punpckhbw", P66, b"\x0f\x68")
PUNPCKHWD = _op("punpckhwd", P66, b"\x0f\x69"); PUNPCKHDQ = _op("punpckhdq", P66, b"\x0f\x6a")
PUNPCKHQDQ = _op("punpckhqdq", P66, b"\x0f\x6d")
UNPCKHPS = _op("unpckhps", b"", b"\x0f\x15"); UNPCKHPD = _op("unpckhpd", P66, b"\x0f\x15")
PMOVSXBW = _op("pmovsxbw", P66, b"\x0f\x38\x20"); PMOVSXWD = _op("pmovsxwd", P66, b"\x0f\x38\x23")
PMOVSXDQ = _op("pmovsxdq", P66, b"\x0f\x38\x25"); PMOVZXBW = _op("pmovzxbw", P66, b"\x0f\x38\x30")
PMOVZXWD = _op("pmovzxwd", P66, b"\x0f\x38\x33"); PMOVZXDQ = _op("pmovzxdq", P66, b"\x0f\x38\x35")
# --- conversions -------------------------------------------------------------------
CVTDQ2PS = _op("cvtdq2ps", b"", b"\x0f\x5b"); CVTTPS2DQ = _op("cvttps2dq", b"\xf3", b"\x0f\x5b")
CVTDQ2PD = _op("cvtdq2pd", b"\xf3", b"\x0f\xe6"); CVTTPD2DQ = _op("cvttpd2dq", P66, b"\x0f\xe6")
CVTPS2PD = _op("cvtps2pd", b"", b"\x0f\x5a"); CVTPD2PS = _op("cvtpd2ps", P66, b"\x0f\x5a")
# --- shifts by the count in an XMM register --------------------------------------------
PSLLW = _op("psllw", P66, b"\x0f\xf1"); PSLLD = _op("pslld", P66, b"\x0f\xf2"); PSLLQ = _op("psllq", P66, b"\x0f\xf3")
PSRLW = _op("psrlw", P66, b"\x0f\xd1"); PSRLD = _op("psrld", P66, b"\x0f\xd2"); PSRLQ = _op("psrlq", P66, b"\x0f\xd3")
PSRAW = _op("psraw", P66, b"\x0f\xe1"); PSRAD = _op("psrad", P66, b"\x0f\xe2")

SIMD_OPS = (
    PADDSB, PADDSW, PADDUSB, PADDUSW, PSUBSB, PSUBSW, PSUBUSB, PSUBUSW, PMULLW, PMULLD, PMULHW, PMULHUW,
    PMULUDQ, PMULDQ, PMADDWD, PMULHRSW, PMINSB, PMINSW, PMINSD, PMINUB, PMINUW, PMINUD, PMAXSB, PMAXSW,
    PMAXSD, PMAXUB, PMAXUW, PMAXUD, PCMPGTB, PCMPGTW, PCMPGTD, PCMPGTQ, PAVGB, PAVGW, PABSB, PABSW, PABSD,
    PSHUFB, PSIGNB, PMADDUBSW, PACKSSWB, PACKSSDW, PACKUSWB, PACKUSDW, PUNPCKLBW, PUNPCKLWD, PUNPCKLDQ, PUNPCKHBW,
    PUNPCKHWD, PUNPCKHDQ, PUNPCKHQDQ, UNPCKHPS, UNPCKHPD, PMOVSXBW, PMOVSXWD, PMOVSXDQ, PMOVZXBW, PMOVZXWD,
    PMOVZXDQ, CVTDQ2PS, CVTTPS2DQ, CVTDQ2PD, CVTTPD2DQ, CVTPS2PD, CVTPD2PS,
    PSLLW, PSLLD, PSLLQ, PSRLW, PSRLD, PSRLQ, PSRAW, PSRAD,
)

# Register-only forms (their memory forms are other instructions: movlps/movhps).
MOVHLPS = _op("movhlps", b"", b"\x0f\x12"); MOVLHPS = _op("movlhps", b"", b"\x0f\x16")
SIMD_RR_ONLY_OPS = (MOVHLPS, MOVLHPS)

# xmm, xmm/m128, imm8.
PSHUFLW = _op("pshuflw", b"\xf2", b"\x0f\x70"); PSHUFHW = _op("pshufhw", b"\xf3", b"\x0f\x70")
PALIGNR = _op("palignr", P66, b"\x0f\x3a\x0f")                                              # SSSE3
BLENDPS = _op("blendps", P66, b"\x0f\x3a\x0c"); BLENDPD = _op("blendpd", P66, b"\x0f\x3a\x0d")  # SSE4.1
PBLENDW = _op("pblendw", P66, b"\x0f\x3a\x0e"); INSERTPS = _op("insertps", P66, b"\x0f\x3a\x21")
SHUFPD = _op("shufpd", P66, b"\x0f\xc6")
SIMD_IMM_OPS = (PSHUFLW, PSHUFHW, PALIGNR, BLENDPS, BLENDPD, PBLENDW, INSERTPS, SHUFPD)

# Two-source operations with a VEX.128 non-destructive form (``vex``/``vex_m``):
# every packed op here except the unary ones (conversions, extensions, abs,
# sqrt, ptest, moves, scalar compares).
_NOT_NDS = ("sqrt", "cvt", "pmovsx", "pmovzx", "pabs", "ptest", "mov", "ucomi", "comi")
VEX_OPS = tuple(o for o in _SSE_OPS + SIMD_OPS
                if not o[0].startswith(_NOT_NDS) and (o[0][0] == "p" or not o[0].endswith(("ss", "sd"))))
VEX_IMM_OPS = (_CMPPS, _CMPPD, _SHUFPS, PALIGNR, BLENDPS, BLENDPD, PBLENDW, INSERTPS, SHUFPD)
VEX_IDS = frozenset(id(o) for o in VEX_OPS + VEX_IMM_OPS)
_VEX_IMM_IDS = frozenset(id(o) for o in VEX_IMM_OPS)

# Shifts of each lane by an immediate: (mnemonic, opcode, /digit).
PSLLW_I = ("psllw", b"\x0f\x71", 6); PSRLW_I = ("psrlw", b"\x0f\x71", 2); PSRAW_I = ("psraw", b"\x0f\x71", 4)
PSLLD_I = ("pslld", b"\x0f\x72", 6); PSRLD_I = ("psrld", b"\x0f\x72", 2); PSRAD_I = ("psrad", b"\x0f\x72", 4)
PSLLQ_I = ("psllq", b"\x0f\x73", 6); PSRLQ_I = ("psrlq", b"\x0f\x73", 2)
PSLLDQ_I = ("pslldq", b"\x0f\x73", 7); PSRLDQ_I = ("psrldq", b"\x0f\x73", 3)   # whole register, by bytes
SIMD_SHIFT_IMM_OPS = (PSLLW_I, PSRLW_I, PSRAW_I, PSLLD_I, PSRLD_I, PSRAD_I, PSLLQ_I, PSRLQ_I, PSLLDQ_I, PSRLDQ_I)

# Lane insert/extract by lane size: (mnemonic, opcode) -- all take 66 and an imm8 lane.
_PINSR = {1: ("pinsrb", b"\x0f\x3a\x20"), 2: ("pinsrw", b"\x0f\xc4"), 4: ("pinsrd", b"\x0f\x3a\x22"),
          8: ("pinsrq", b"\x0f\x3a\x22")}
_PEXTR_R = {1: ("pextrb", b"\x0f\x3a\x14"), 2: ("pextrw", b"\x0f\xc5"), 4: ("pextrd", b"\x0f\x3a\x16"),
            8: ("pextrq", b"\x0f\x3a\x16")}
_PEXTR_M = {1: ("pextrb", b"\x0f\x3a\x14"), 2: ("pextrw", b"\x0f\x3a\x15"), 4: ("pextrd", b"\x0f\x3a\x16"),
            8: ("pextrq", b"\x0f\x3a\x16")}
_LANES = {1: 16, 2: 8, 4: 4, 8: 2}
_MOVMSK = {"movmskps": (b"", b"\x0f\x50"), "movmskpd": (P66, b"\x0f\x50"), "pmovmskb": (P66, b"\x0f\xd7")}


# VEX.128 fields of an operation tuple: (pp, map, opcode byte).
_PP = {b"": 0, P66: 1, b"\xf3": 2, b"\xf2": 3}
_MAP = {0x38: 2, 0x3A: 3}


def _vex_fields(op):
    opc = op[2]
    if len(opc) == 3:
        return _PP[op[1]], _MAP[opc[1]], opc[2:3]
    return _PP[op[1]], 1, opc[1:2]


def _vex_prefix(pp, mp, r, x, b, vvvv):
    """The 2-byte (C5) form when it can express the operands, else the 3-byte (C4)."""
    if mp == 1 and not x and not b:
        return bytes((0xC5, (r ^ 1) << 7 | (~vvvv & 15) << 3 | pp))
    return bytes((0xC4, (r ^ 1) << 7 | (x ^ 1) << 6 | (b ^ 1) << 5 | mp, (~vvvv & 15) << 3 | pp))


def _check_vex(op, imm):
    """The mnemonic of a VEX operation; its immediate must be given iff it takes one."""
    if id(op) not in VEX_IDS:
        raise AssemblerError(f"vex: {op!r} is not a two-source operation with a VEX form")
    insn = "v" + op[0]
    if (imm is None) != (id(op) not in _VEX_IMM_IDS):
        _err(insn, "takes an 8-bit immediate" if imm is None else "takes no immediate")
    if imm is not None and (type(imm) is not int or not 0 <= imm <= 255):
        _err(insn, f"immediate {imm!r} does not fit in 8 bits")
    return insn


def _err(insn, msg):
    raise AssemblerError(f"{insn}: {msg}")


def _check_xmm(insn, r):
    if type(r) is not int or (r >> 4) != 1:
        _err(insn, f"{r!r} is not an XMM register")


def _check_gpr(insn, r):
    if type(r) is not int or not 0 <= r < 16:
        _err(insn, f"{r!r} is not a general-purpose register")


def _lane(insn, size, lane):
    n = _LANES.get(size)
    if n is None:
        _err(insn, f"bad lane size {size!r} (1, 2, 4 or 8)")
    if type(lane) is not int or not 0 <= lane < n:
        _err(insn, f"lane {lane!r} out of range for {n} lanes")


class SimdMixin:
    """v128 helpers; relies on ``Assembler._rr``/``_rm`` and ``buf``."""

    __slots__ = ()

    def sse_shift_imm(self, op, x: int, imm: int) -> None:
        """``<op> x, imm8`` for the ``*_I`` lane shifts (psllw ... psrldq)."""
        if op not in SIMD_SHIFT_IMM_OPS:
            _err("sse_shift_imm", f"{op!r} is not a lane shift by immediate")
        _check_xmm(op[0], x)
        if type(imm) is not int or not 0 <= imm <= 255:
            _err(op[0], f"shift count {imm!r} does not fit in 8 bits")
        self._rr(op[0], P66, 0, op[1], op[2], x & 15)
        self.buf.append(imm)

    def pinsr(self, size: int, x: int, src: int, lane: int) -> None:
        """Insert the low ``size`` bytes of GPR ``src`` into lane ``lane`` of ``x``
        (pinsrw: SSE2; pinsrb/d/q: SSE4.1)."""
        insn, opc = _PINSR.get(size, ("pinsr", b""))
        _lane(insn, size, lane)
        _check_xmm(insn, x)
        _check_gpr(insn, src)
        self._rr(insn, P66, 8 if size == 8 else 0, opc, x & 15, src)
        self.buf.append(lane)

    def pinsr_m(self, size: int, x: int, lane: int, base: int, disp: int = 0, index: int = NO_REG,
                scale: int = 1) -> None:
        """Load ``size`` bytes from memory into lane ``lane`` of ``x``."""
        insn, opc = _PINSR.get(size, ("pinsr", b""))
        _lane(insn, size, lane)
        _check_xmm(insn, x)
        self._rm(insn, P66, 8 if size == 8 else 0, opc, x & 15, base, disp, index, scale, _D8[lane])

    def pextr(self, size: int, dst: int, x: int, lane: int) -> None:
        """Lane ``lane`` of ``x`` zero-extended into GPR ``dst`` (pextrw: SSE2; b/d/q: SSE4.1)."""
        insn, opc = _PEXTR_R.get(size, ("pextr", b""))
        _lane(insn, size, lane)
        _check_xmm(insn, x)
        _check_gpr(insn, dst)
        if size == 2:
            self._rr(insn, P66, 0, opc, dst, x & 15)       # the legacy form: reg = GPR
        else:
            self._rr(insn, P66, 8 if size == 8 else 0, opc, x & 15, dst)
        self.buf.append(lane)

    def pextr_m(self, size: int, x: int, lane: int, base: int, disp: int = 0, index: int = NO_REG,
                scale: int = 1) -> None:
        """Store lane ``lane`` of ``x`` (``size`` bytes) to memory."""
        insn, opc = _PEXTR_M.get(size, ("pextr", b""))
        _lane(insn, size, lane)
        _check_xmm(insn, x)
        self._rm(insn, P66, 8 if size == 8 else 0, opc, x & 15, base, disp, index, scale, _D8[lane])

    def _movmsk(self, insn, dst, x):
        _check_gpr(insn, dst)
        _check_xmm(insn, x)
        pfx, opc = _MOVMSK[insn]
        self._rr(insn, pfx, 0, opc, dst, x & 15)

    def movmskps(self, dst: int, x: int) -> None:
        """The sign bits of the four f32 lanes into ``dst`` (bits 0..3)."""
        self._movmsk("movmskps", dst, x)

    def movmskpd(self, dst: int, x: int) -> None:
        """The sign bits of the two f64 lanes into ``dst`` (bits 0..1)."""
        self._movmsk("movmskpd", dst, x)

    def pmovmskb(self, dst: int, x: int) -> None:
        """The top bits of the 16 bytes into ``dst`` (bits 0..15)."""
        self._movmsk("pmovmskb", dst, x)

    # --- AVX (VEX.128) non-destructive forms: dst = src1 <op> src2 ------------------
    # Only for two-source operations (arithmetic, logic, compares, packs, unpacks,
    # shuffles by register, min/max); a VEX memory operand needs no alignment.

    def vex(self, op, dst: int, src1: int, src2: int, imm: int | None = None) -> None:
        """``v<op> dst, src1, src2 [, imm8]`` on XMM registers."""
        insn = _check_vex(op, imm)
        for r in (dst, src1, src2):
            _check_xmm(insn, r)
        pp, mp, opc = _vex_fields(op)
        d, s2 = dst & 15, src2 & 15
        self.buf += _vex_prefix(pp, mp, d >> 3, 0, s2 >> 3, src1 & 15) + opc + _D8[0xC0 | (d & 7) << 3 | (s2 & 7)]
        if imm is not None:
            self.buf.append(imm)

    def vex_m(self, op, dst: int, src1: int, base: int, disp: int = 0, index: int = NO_REG, scale: int = 1,
              imm: int | None = None) -> None:
        """``v<op> dst, src1, [mem] [, imm8]`` (``base`` RIP: ``disp`` is a label)."""
        insn = _check_vex(op, imm)
        _check_xmm(insn, dst)
        _check_xmm(insn, src1)
        pp, mp, opc = _vex_fields(op)
        d = dst & 15
        tail_imm = b"" if imm is None else _D8[imm]
        buf = self.buf
        if base == RIP:
            if index != NO_REG:
                _err(insn, "a RIP-relative operand cannot have an index")
            if type(disp) is not int or not 0 <= disp < len(self._lpos):
                _err(insn, f"{disp!r} is not a label of this assembler (RIP-relative operand)")
            buf += _vex_prefix(pp, mp, d >> 3, 0, 0, src1 & 15) + opc + _D8[(d & 7) << 3 | 5]
            at = len(buf)
            buf += _ZERO4 + tail_imm
            self._use_label(disp, at, at + 4 + len(tail_imm), 4, insn)
            return
        # The ModRM/SIB/displacement of the legacy encoder, its REX bits moved into VEX.
        start = len(buf)
        self._rm(insn, b"", 0, b"", d, base, disp, index, scale, tail_imm, True)
        rex = buf[start]
        tail = bytes(buf[start + 1:])
        del buf[start:]
        buf += _vex_prefix(pp, mp, rex >> 2 & 1, rex >> 1 & 1, rex & 1, src1 & 15) + opc + tail
