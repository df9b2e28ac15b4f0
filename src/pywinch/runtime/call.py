"""Calling Wasm from Python through the array-to-wasm trampoline (the generic path).

Any signature, v128 and multi-value included: arguments and results travel in
16-byte slots of one buffer.  The typed fast path lives in the API's Func.
"""

from __future__ import annotations

from _thread import get_ident as _get_ident
from ctypes import c_void_p

from .. import vmoffsets as vo
from ..errors import WasmError
from . import sysmem
from .entry import ENTER
from .stack import retarget
from .store import Q_PENDING, Q_TRAP_CODE
from .traps import raise_trap
from .values import V128

_M64 = 0xFFFFFFFFFFFFFFFF
_MASK = {0x7F: 0xFFFFFFFF, 0x7D: 0xFFFFFFFF}


def call_raw(state, funcref: int, params, results, raw_args) -> list[int]:
    """Call the Wasm function at VMFuncRef ``funcref`` with raw argument bits.

    Traps and host exceptions raise (the store stays usable); returns raw results.
    """
    array_call = sysmem.read_u64(funcref + vo.FUNCREF_ARRAY_CALL)
    if not array_call:
        raise WasmError("this function has no array-call trampoline")
    code = sysmem.read_u64(funcref + vo.FUNCREF_WASM_CALL)
    vmctx = sysmem.read_u64(funcref + vo.FUNCREF_VMCTX)
    n = max(len(params), len(results), 1)
    buf = sysmem.Buffer(16 * n)
    q = buf.q
    for i, (t, v) in enumerate(zip(params, raw_args)):
        q[2 * i] = v & _M64
        if t == V128:
            q[2 * i + 1] = (v >> 64) & _M64
    lq = state.lq
    if state.tid != _get_ident():
        retarget(state)
    ENTER(c_void_p(code), c_void_p(vmctx), c_void_p(vmctx), c_void_p(buf.addr), c_void_p(array_call))
    if lq[Q_TRAP_CODE] or lq[Q_PENDING]:
        raise_trap(state)
    out = []
    for i, t in enumerate(results):
        v = q[2 * i]
        if t == V128:
            v |= q[2 * i + 1] << 64
        else:
            v &= _MASK.get(t, _M64)
        out.append(v)
    return out
