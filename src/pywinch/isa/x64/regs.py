"""x86-64 registers and condition codes, as plain ints.

Registers are ints so that the compiler can keep them in lists, sets and
bitmasks and the assembler can check their class with a range test:

* general-purpose registers (GPRs) are 0..15, numbered as the hardware
  encodes them (RAX=0, RCX=1, ... RDI=7, R8=8 ... R15=15);
* SSE registers are 16..31 (XMM0=16 ... XMM15=31); the hardware number is
  ``reg & 15``;
* ``RIP`` (32) is a pseudo base register for memory operands: with it the
  ``disp`` argument of an assembler method is a *label* and the operand is
  RIP-relative to that label (see :mod:`pywinch.isa.x64.asm`);
* ``NO_REG`` (-1) stands for "no index register".

Condition codes are the 4-bit numbers x86 puts in ``jcc``/``setcc``/``cmovcc``
(``0x70 + cc``, ``0x0F 0x90 + cc``, ...), so ``cc ^ 1`` is the negation.
"""

from __future__ import annotations

# --- general-purpose registers -------------------------------------------
RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI = range(8)
R8, R9, R10, R11, R12, R13, R14, R15 = range(8, 16)

# --- SSE registers ------------------------------------------------------------
(XMM0, XMM1, XMM2, XMM3, XMM4, XMM5, XMM6, XMM7,
 XMM8, XMM9, XMM10, XMM11, XMM12, XMM13, XMM14, XMM15) = range(16, 32)

RIP = 32      # pseudo base: memory operand relative to a label (disp = label)
NO_REG = -1   # no index register

GPRS = tuple(range(16))
XMMS = tuple(range(16, 32))

_GPR64 = ("rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
          "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")
_GPR32 = ("eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
          "r8d", "r9d", "r10d", "r11d", "r12d", "r13d", "r14d", "r15d")
_GPR16 = ("ax", "cx", "dx", "bx", "sp", "bp", "si", "di",
          "r8w", "r9w", "r10w", "r11w", "r12w", "r13w", "r14w", "r15w")
# Byte registers as encoded with a REX prefix (the assembler always emits one
# for 4..7), so ah/ch/dh/bh never appear.
_GPR8 = ("al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil",
         "r8b", "r9b", "r10b", "r11b", "r12b", "r13b", "r14b", "r15b")
GPR_NAMES = {1: _GPR8, 2: _GPR16, 4: _GPR32, 8: _GPR64}


def is_gpr(r: int) -> bool:
    return type(r) is int and 0 <= r < 16


def is_xmm(r: int) -> bool:
    return type(r) is int and 16 <= r < 32


def hw(r: int) -> int:
    """The 4-bit hardware number of a GPR or XMM register."""
    return r & 15


def xmm(n: int) -> int:
    """The register number of XMMn."""
    if not 0 <= n < 16:
        raise ValueError(f"no register xmm{n}")
    return 16 + n


def name(r: int, size: int = 8) -> str:
    """Assembly name: ``name(RAX, 4) == 'eax'``, ``name(XMM3) == 'xmm3'``."""
    if is_gpr(r):
        names = GPR_NAMES.get(size)
        if names is None:
            raise ValueError(f"bad register size {size}")
        return names[r]
    if is_xmm(r):
        return f"xmm{r - 16}"
    if r == RIP:
        return "rip"
    raise ValueError(f"not a register: {r!r}")


# --- SysV register sets (facts of the platform ABI, used by isa/x64/abi) ---
SYSV_INT_ARGS = (RDI, RSI, RDX, RCX, R8, R9)
SYSV_FLOAT_ARGS = tuple(range(XMM0, XMM7 + 1))
SYSV_CALLEE_SAVED = (RBX, RBP, R12, R13, R14, R15)

# --- condition codes ----------------------------------------------------------
CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A = range(8)
CC_S, CC_NS, CC_P, CC_NP, CC_L, CC_GE, CC_LE, CC_G = range(8, 16)

# Aliases in compiler terms.  After ``cmp a, b``:
CC_EQ, CC_NEQ = CC_E, CC_NE
CC_LT_S, CC_LE_S, CC_GT_S, CC_GE_S = CC_L, CC_LE, CC_G, CC_GE
CC_LT_U, CC_LE_U, CC_GT_U, CC_GE_U = CC_B, CC_BE, CC_A, CC_AE
# Aliases for flags set by ucomiss/ucomisd (unordered sets ZF, PF and CF):
CC_ZERO, CC_NONZERO = CC_E, CC_NE
CC_PARITY, CC_NOPARITY = CC_P, CC_NP

CC_NAMES = ("o", "no", "b", "ae", "e", "ne", "be", "a",
            "s", "ns", "p", "np", "l", "ge", "le", "g")


def invert_cc(cc: int) -> int:
    """The condition that holds exactly when ``cc`` does not."""
    return cc ^ 1


# The condition to test after swapping the operands of the comparison.
_SWAPPED = (CC_O, CC_NO, CC_A, CC_BE, CC_E, CC_NE, CC_AE, CC_B,
            CC_S, CC_NS, CC_P, CC_NP, CC_G, CC_LE, CC_GE, CC_L)


def swap_cc(cc: int) -> int:
    """``cmp a, b; j<cc>`` ≡ ``cmp b, a; j<swap_cc(cc)>`` (o/s/p have no swap; returned as is)."""
    return _SWAPPED[cc]
