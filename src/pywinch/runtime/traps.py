"""Traps and wasm backtraces.

Compiled code records the trap code, pc and frame pointer in the store's
VMRuntimeLimits and unwinds to the entry trampoline; Python then calls
:func:`raise_trap`.  Backtraces walk the rbp chain: ``[fp]`` is the caller's
rbp and ``[fp+8]`` its return address.  Only frames whose pc lies inside a
registered Wasm function are reported, so the walk stops at the first frame
that is not Wasm (a trampoline or the host) before touching foreign memory.
"""

from __future__ import annotations

import bisect
import ctypes
import threading

from .. import vmoffsets as vo
from ..errors import Trap, TrapCode
from . import faults, memory

_lock = threading.Lock()
_starts: list[int] = []       # sorted code region starts
_regions: list[tuple] = []    # (start, end, resolver) parallel to _starts

MAX_FRAMES = 1000


class Frame:
    """One wasm frame of a backtrace (wasmtime-py's ``Frame``)."""

    __slots__ = ("func_index", "func_name", "module_name", "module_offset", "func_offset")

    def __init__(self, func_index, func_name, module_name, module_offset, func_offset):
        self.func_index = func_index
        self.func_name = func_name
        self.module_name = module_name
        self.module_offset = module_offset
        self.func_offset = func_offset

    def __repr__(self) -> str:
        name = self.func_name if self.func_name is not None else f"<wasm function {self.func_index}>"
        mod = self.module_name or "<unknown>"
        off = f"{self.module_offset:#x}" if self.module_offset is not None else "?"
        return f"{off} - {mod}!{name}"

    __str__ = __repr__


def register_code(start: int, end: int, resolver) -> None:
    """``resolver(pc_offset) -> Frame | None`` maps an offset into the region to a frame.

    The region is also where the fault handler (runtime/faults.py) accepts a
    memory fault as a Wasm trap; registering code re-checks that the handler
    is still installed (something may have replaced it since the last time)."""
    with _lock:
        i = bisect.bisect_left(_starts, start)
        _starts.insert(i, start)
        _regions.insert(i, (start, end, resolver))
    faults.register_code(start, end)
    if memory.GUARDED:
        faults.ensure_installed()


def unregister_code(start: int) -> None:
    with _lock:
        i = bisect.bisect_left(_starts, start)
        if i < len(_starts) and _starts[i] == start:
            del _starts[i]
            del _regions[i]
    faults.unregister_code(start)


def lookup_pc(pc: int):
    i = bisect.bisect_right(_starts, pc) - 1
    if i < 0:
        return None
    start, end, resolver = _regions[i]
    if pc >= end:
        return None
    return resolver(pc - start)


def backtrace(pc: int, fp: int) -> list[Frame]:
    # Every pc here is a return address (trap sites record the return address
    # of their stub call); resolvers map it to the call site.
    frames: list[Frame] = []
    while pc and fp and len(frames) < MAX_FRAMES:
        frame = lookup_pc(pc)
        if frame is None:
            break
        frames.append(frame)
        if fp & 7:
            break
        next_fp = ctypes.c_uint64.from_address(fp).value
        pc = ctypes.c_uint64.from_address(fp + 8).value
        if next_fp <= fp:      # the stack grows down: a caller's frame is above
            break
        fp = next_fp
    return frames


def make_trap(code: int, pc: int, fp: int) -> Trap:
    frames = backtrace(pc, fp) if pc else []
    return Trap(code, TrapCode.MESSAGES.get(code), frames)


def raise_trap(state) -> None:
    """Raise what the last call left in ``state`` (a StoreState): a host exception or a Trap."""
    code, pc, fp = state.take_trap()
    if code == TrapCode.INTERRUPT and state.interrupted:
        state.interrupted = False
        state.lq[vo.LIMITS_EPOCH_DEADLINE >> 3] = state.saved_deadline
        from .interrupt import set_flags
        set_flags(state, 0)
        raise KeyboardInterrupt
    if code == TrapCode.HOST_EXCEPTION or (code == 0 and state.pending is not None):
        exc = state.pending
        state.pending = None
        if exc is not None:
            raise exc
    raise make_trap(code, pc, fp)
