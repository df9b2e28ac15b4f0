"""x86-64 register roles for the internal Wasm convention and System V.

The compiler and the trampolines take every concrete register from here, so
nothing above ``isa/`` names one.  See docs/architecture.md for the contract.
"""

from __future__ import annotations

from .regs import (R8, R9, R10, R11, R12, R13, R14, R15, RAX, RBP, RBX, RCX, RDI, RDX, RSI, RSP,
                   SYSV_CALLEE_SAVED, SYSV_FLOAT_ARGS, SYSV_INT_ARGS, XMM0, XMM15)

PTR_SIZE = 8
VMCTX = R14            # pinned vmctx of the running instance
SCRATCH = R11          # MacroAssembler scratch, never allocated
HEAP_BASE = R15        # base of memory 0 in functions that access it (then not allocated)
FP = RBP
SP = RSP

# Wasm convention
WASM_CALLEE_VMCTX = RDI
WASM_CALLER_VMCTX = RSI
RET_GPR = RAX
RET_XMM = XMM0
ARG_BASE = 16          # [fp + ARG_BASE] is the first stack parameter (after saved fp, return address)
RET_ADDR_OFFSET = 8    # [fp + 8] is the return address
FRAME_VMCTX_OFFSET = -8  # [fp - 8] holds the frame's vmctx
SLOT = 8               # every scalar parameter, result, local and spill slot
STACK_ALIGN = 16

# Allocation order: registers with special duties in some instructions
# (rcx: shift counts, rdx/rax: division, rdi/rsi: call vmctx) come last, so a
# value rarely sits where an instruction needs a fixed register.
GPR_ALLOC = (RBX, R12, R13, R15, R8, R9, R10, RSI, RDI, RAX, RDX, RCX)
XMM_ALLOC = tuple(range(XMM0 + 1, XMM15 + 1)) + (XMM0,)
# Every allocatable register is clobbered by a call in the Wasm convention
# (callees preserve only rsp/rbp; see the contract), so calls spill them all.

# Fixed operands of some x86 instructions, as the codegen must arrange them.
DIV_QUOTIENT = RAX
DIV_REMAINDER = RDX
SHIFT_COUNT = RCX

# System V
SYSV_ARGS = SYSV_INT_ARGS
SYSV_FARGS = SYSV_FLOAT_ARGS
SYSV_CALLEE_SAVED_NO_FP = tuple(r for r in SYSV_CALLEE_SAVED if r != RBP)
SYSV_RET_GPR = RAX
SYSV_RET_XMM = XMM0
SYSV_CALLER_SAVED_GPR = (RAX, RCX, RDX, RSI, RDI, R8, R9, R10, R11)
