"""The Wasm stack limit: small thread stacks and Config.max_wasm_stack.

The outermost entry trampoline sets ``stack_limit = entry sp - 512 KiB``.  On a
thread whose whole stack is smaller than that (``threading.stack_size(256 *
1024)``) deep recursion would run off the stack and kill the process; and a
store whose engine asks for another ``max_wasm_stack`` needs another limit.
In those cases the runtime sets the limit itself: ``max_wasm_stack`` below the
stack pointer of the thread as sampled when the store was set up for it (less
the entry shim's gap), never lower than the thread's real stack bottom plus
room for host functions called from the deepest Wasm frame; and it marks the
store's ``entry_sp`` with the sentinel 1, so the entry trampoline treats every
entry as nested and keeps that limit, while a trap still unwinds to the
entry's own sp (trampolines save and restore the sentinel like any previous
entry sp).  Otherwise the trampoline's behaviour stands.  A store remembers
the thread it was set up for; callers re-check it with :func:`retarget`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

from .. import vmoffsets as vo
from ..errors import WasmError
from .code import CodeMemory
from .entry import GAP

ENTRY_SENTINEL = 1               # entry_sp of an idle store in "runtime-set limit" mode
WASM_STACK = 512 * 1024          # what the trampolines reserve below the entry sp
SMALL_STACK = 2 * 1024 * 1024    # threads below this total size get a runtime-set limit
HOST_MARGIN = 96 * 1024          # kept below the limit for host code called from Wasm

_Q_STACK_LIMIT = vo.LIMITS_STACK_LIMIT >> 3
_Q_ENTRY_SP = vo.LIMITS_ENTRY_SP >> 3

_bounds: dict[int, tuple] = {}   # thread ident -> (stack bottom, stack size) or None
_lock = threading.Lock()

# mov rax, rsp; ret -- the stack pointer of the calling thread, near the entry's.
_SP_CODE = CodeMemory(b"\x48\x89\xe0\xc3")
_current_sp = ctypes.CFUNCTYPE(ctypes.c_uint64)(_SP_CODE.addr)

try:
    _pthread = ctypes.CDLL(ctypes.util.find_library("pthread") or ctypes.util.find_library("c"))
    _self = _pthread.pthread_self
    _self.restype = ctypes.c_ulong
    _getattr = _pthread.pthread_getattr_np
    _getattr.argtypes = [ctypes.c_ulong, ctypes.c_void_p]
    _getstack = _pthread.pthread_attr_getstack
    _getstack.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)]
    _destroy = _pthread.pthread_attr_destroy
    _destroy.argtypes = [ctypes.c_void_p]
except (OSError, AttributeError):       # not glibc: keep the trampolines' default
    _getattr = None


def thread_stack() -> tuple[int, int] | None:
    """(lowest address, size) of the calling thread's stack, if the platform says."""
    if _getattr is None:
        return None
    attr = ctypes.create_string_buffer(128)       # pthread_attr_t is 56 bytes on x86-64 glibc
    if _getattr(_self(), attr) != 0:
        return None
    try:
        addr = ctypes.c_void_p()
        size = ctypes.c_size_t()
        if _getstack(attr, ctypes.byref(addr), ctypes.byref(size)) != 0:
            return None
        return addr.value or 0, size.value
    finally:
        _destroy(attr)


def limit_for_this_thread(max_stack: int) -> int:
    """The stack limit to set for the calling thread, or 0 to keep the trampolines' own."""
    tid = threading.get_ident()
    if tid not in _bounds:
        st = thread_stack()
        with _lock:
            _bounds[tid] = st
    st = _bounds[tid]
    small = st is not None and st[1] < SMALL_STACK
    if max_stack == WASM_STACK and not small:
        return 0
    limit = _current_sp() - GAP - max_stack
    if st is not None:
        limit = max(limit, st[0] + HOST_MARGIN)
    return limit


def retarget(state) -> None:
    """Set ``state`` (a StoreState) up for the calling thread (see the module docstring)."""
    tid = threading.get_ident()
    lq = state.lq
    if lq[_Q_ENTRY_SP] > ENTRY_SENTINEL and state.tid:
        # Wasm of this store is running on another thread: entering it here would
        # share one set of limits between two stacks (a trap could unwind onto the
        # wrong one).  A store is used by one thread at a time, as in Wasmtime.
        raise WasmError("the store is in use by another thread (a Store is used by one thread at a time)")
    limit = limit_for_this_thread(state.engine.max_wasm_stack)
    if limit:
        lq[_Q_STACK_LIMIT] = limit
        lq[_Q_ENTRY_SP] = ENTRY_SENTINEL
    else:
        lq[_Q_ENTRY_SP] = 0
    state.tid = tid
