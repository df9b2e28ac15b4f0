"""The Wasm stack limit on threads with small stacks.

The outermost entry trampoline sets ``stack_limit = entry sp - 512 KiB``.  On a
thread whose whole stack is smaller than that (``threading.stack_size(256 *
1024)``) deep recursion would run off the stack and kill the process.  For
such threads the runtime sets the limit itself, just above the thread's real
stack bottom (leaving room for host functions called from the deepest Wasm
frame), and marks the store's ``entry_sp`` with the sentinel 1: the entry
trampoline then treats every entry as nested and keeps that limit, while a
trap still unwinds to the entry's own sp (trampolines save and restore the
sentinel like any previous entry sp).  Threads with ordinary stacks keep the
trampoline's behaviour.  A store remembers the thread it was set up for, and
callers re-check it with :func:`retarget` when the thread changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading

from .. import vmoffsets as vo

ENTRY_SENTINEL = 1               # entry_sp of an idle store in "runtime-set limit" mode
WASM_STACK = 512 * 1024          # what the trampolines reserve below the entry sp
SMALL_STACK = 2 * 1024 * 1024    # threads below this total size get a runtime-set limit
HOST_MARGIN = 96 * 1024          # kept below the limit for host code called from Wasm

_Q_STACK_LIMIT = vo.LIMITS_STACK_LIMIT >> 3
_Q_ENTRY_SP = vo.LIMITS_ENTRY_SP >> 3

_floors: dict[int, int] = {}     # thread ident -> limit to set, or 0 (the trampoline's default is fine)
_lock = threading.Lock()

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


def _floor_for_this_thread() -> int:
    tid = threading.get_ident()
    floor = _floors.get(tid)
    if floor is None:
        st = thread_stack()
        floor = 0 if st is None or st[1] >= SMALL_STACK else st[0] + HOST_MARGIN
        with _lock:
            _floors[tid] = floor
    return floor


def retarget(state) -> None:
    """Set ``state`` (a StoreState) up for the calling thread (see the module docstring)."""
    tid = threading.get_ident()
    lq = state.lq
    if lq[_Q_ENTRY_SP] > ENTRY_SENTINEL:
        return          # Wasm of this store is running (re-entry): keep the current limit
    floor = _floor_for_this_thread()
    if floor:
        lq[_Q_STACK_LIMIT] = floor
        lq[_Q_ENTRY_SP] = ENTRY_SENTINEL
    else:
        lq[_Q_ENTRY_SP] = 0
    state.tid = tid
