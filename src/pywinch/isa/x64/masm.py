"""The x86-64 MacroAssembler: the assembler plus the few macro operations the
compiler and trampolines share (frames, float constants, trap calls).

Subclassing (rather than wrapping) the assembler keeps the compiler's hot
path to one method call per instruction.
"""

from __future__ import annotations

from .asm import SUB, Assembler
from .regs import RAX, RBP, RCX, RDI, RIP, RSP

_LEAVE = b"\xc9"
_REP_STOSQ = b"\xf3\x48\xab"


class MacroAssembler(Assembler):
    __slots__ = ()

    def prologue(self) -> None:
        """``push rbp; mov rbp, rsp`` (every frame keeps the rbp chain)."""
        self.push_r(RBP)
        self.mov_rr(8, RBP, RSP)

    def leave(self) -> None:
        """``mov rsp, rbp; pop rbp``."""
        self.buf += _LEAVE

    def epilogue(self) -> None:
        self.buf += _LEAVE
        self.ret()

    def sub_imm32_patchable(self, reg: int) -> int:
        """``sub reg, imm32`` with the immediate patched later; returns its offset."""
        return self.alu_ri32(SUB, 8, reg, 0)

    def zero_qwords(self, base: int, disp: int, count: int) -> None:
        """Zero ``count`` 8-byte slots at ``[base + disp]`` upwards.  Clobbers rax, rcx, rdi."""
        self.alu_rr(6, 4, RAX, RAX)  # xor eax, eax
        if count <= 8:
            for i in range(count):
                self.store(8, RAX, base, disp + 8 * i)
            return
        self.lea(8, RDI, base, disp)
        self.mov_ri(4, RCX, count)
        self.buf += _REP_STOSQ

    def load_fconst(self, size: int, dst: int, bits: int) -> None:
        """Load float bits (size 4 or 8) into XMM ``dst``; never touches the flags."""
        if bits == 0:
            self.xorps(dst, dst)
        elif size == 4:
            self.load(4, dst, RIP, self.const_u32(bits))
        else:
            self.load(8, dst, RIP, self.const_u64(bits))

    def trap_call(self, code: int) -> int:
        """Call the module's trap routine for ``code``; returns the pc it records
        (the offset just after the call, relative to this buffer)."""
        at = self.call_extern(("trap", code))
        return at + 4
