"""The one native function Python calls to enter Wasm: a stack-gap shim.

``enter(code, callee_vmctx, caller_vmctx, values, array_to_wasm)`` moves rsp
64 KiB down and calls the array-to-wasm trampoline with the first four
arguments unchanged.  Why: after a trap the trampolines unwind and return to
Python, and the C stack below the ctypes call is reused at once by the ctypes
return path and the interpreter, which used to overwrite the outer Wasm frames
before the runtime could walk them for the backtrace (the first trap of a
process had only its top frame).  With the gap, those frames lie far below
anything Python touches before ``traps.raise_trap`` has walked them.

Only the outermost entry takes the gap (``entry_sp`` of the store is 0 or
the idle sentinel 1): nested entries (Wasm -> host -> Wasm) share the 512 KiB
budget of the outermost one and jump straight to the trampoline.

All five arguments travel in registers and ctypes passes them as ready-made
``c_void_p`` objects (no argtypes, nothing converted per call).
"""

from __future__ import annotations

import ctypes

from .. import vmoffsets as vo
from .code import CodeMemory

GAP = 0x10008        # 64 KiB, plus 8 so the trampoline is entered with rsp = 8 (mod 16)

assert vo.VMCTX_LIMITS == 0 and vo.LIMITS_ENTRY_SP < 0x80
_CODE = (b"\x48\x8b\x02"                                   # mov rax, [rdx]   (caller vmctx -> limits)
         + b"\x48\x83\x78" + bytes([vo.LIMITS_ENTRY_SP]) + b"\x01"  # cmp qword [rax + entry_sp], 1
         + b"\x77\x12"                                      # ja nested        (Wasm already running)
         + b"\x48\x81\xec" + GAP.to_bytes(4, "little")     # sub rsp, GAP
         + b"\x41\xff\xd0"                                  # call r8
         + b"\x48\x81\xc4" + GAP.to_bytes(4, "little")     # add rsp, GAP
         + b"\xc3"                                          # ret
         + b"\x41\xff\xe0")                                 # nested: jmp r8

_MEM = CodeMemory(_CODE)            # lives as long as the process
ENTER = ctypes.CFUNCTYPE(None)(_MEM.addr)
ADDR = _MEM.addr
