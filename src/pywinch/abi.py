"""Signatures as the compiler and the trampolines see them.

Two conventions (docs/architecture.md):

* the internal Wasm convention: callee vmctx and caller vmctx in the ISA's
  first two argument registers, every Wasm parameter in an 8-byte stack slot
  (16 for v128) of the caller's outgoing area, result 0 in the first return
  register of its class, results 1.. in a results area that follows the
  parameters in the same outgoing area;
* the system convention (System V on x86-64), for host functions, builtins
  and the native-to-wasm entry.

:class:`WasmSig` gives the stack offsets of the Wasm convention;
:func:`sysv_assign` the registers/stack slots of a System V signature.
"""

from __future__ import annotations

from .errors import UnsupportedError
from .wasm.types import F32, F64, V128

SLOT = 8


def is_float(t: int) -> bool:
    return t == F32 or t == F64


class WasmSig:
    """Offsets of one FuncType in the internal Wasm convention.

    ``param_offsets[i]``: offset of parameter i from the start of the outgoing
    area (== ``[fp + ARG_BASE + offset]`` at the callee).
    ``result_offsets[k]``: offset of result k (k >= 1) in the same area;
    ``result_offsets[0]`` is None (result 0 travels in a register).
    ``area_size``: bytes the caller reserves (16-byte aligned).
    """

    __slots__ = ("params", "results", "param_offsets", "result_offsets", "params_size", "area_size")

    def __init__(self, params, results):
        self.params = tuple(params)
        self.results = tuple(results)
        if V128 in self.params or V128 in self.results:
            # A v128 takes a 16-byte slot aligned to 16 (the area itself is 16-aligned).
            off = 0
            self.param_offsets = []
            for t in self.params:
                if t == V128:
                    off = (off + 15) & -16
                self.param_offsets.append(off)
                off += 16 if t == V128 else SLOT
            self.params_size = off
            self.result_offsets = [None]
            for t in self.results[1:]:
                if t == V128:
                    off = (off + 15) & -16
                self.result_offsets.append(off)
                off += 16 if t == V128 else SLOT
            self.area_size = (off + 15) & -16
            return
        self.param_offsets = [SLOT * i for i in range(len(self.params))]
        self.params_size = SLOT * len(self.params)
        self.result_offsets = [None] + [self.params_size + SLOT * (k - 1) for k in range(1, len(self.results))]
        size = self.params_size + SLOT * max(0, len(self.results) - 1)
        self.area_size = (size + 15) & -16


_SIG_CACHE: dict = {}


def wasm_sig(functype) -> WasmSig:
    key = (functype.params, functype.results)
    s = _SIG_CACHE.get(key)
    if s is None:
        s = _SIG_CACHE[key] = WasmSig(functype.params, functype.results)
    return s


def sysv_assign(types, int_regs, float_regs):
    """Assign System V locations to a list of value types.

    Returns ``(locs, stack_size)`` where each loc is ``("reg", r)`` or
    ``("stack", offset)`` (offset from rsp at the call), stack_size 16-aligned.
    """
    gi = fi = 0
    off = 0
    locs = []
    for t in types:
        if t == V128:
            raise UnsupportedError("SIMD (v128) values in signatures are not supported yet")
        if is_float(t):
            if fi < len(float_regs):
                locs.append(("reg", float_regs[fi]))
                fi += 1
                continue
        elif gi < len(int_regs):
            locs.append(("reg", int_regs[gi]))
            gi += 1
            continue
        locs.append(("stack", off))
        off += SLOT
    return locs, (off + 15) & -16
