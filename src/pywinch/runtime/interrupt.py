"""Ctrl-C during a long Wasm call raises KeyboardInterrupt.

While Wasm runs, the main thread is in native code with the GIL released, so
Python's SIGINT handler cannot run.  CPython's C-level handler still writes
the signal number to the *wakeup fd*; a daemon thread reads it and, for every
store currently inside Wasm, sets the interrupt flag in the VMContext of each
of its instances and the epoch deadline to 0.  Compiled code checks one or
the other at function entries and loop headers (the API emits those checks
unless Config.interruptible is off), so the call traps with INTERRUPT within
a few instructions;
the store turns that trap into KeyboardInterrupt.  Our Python-level handler
then swallows the SIGINT that was already delivered this way, so it is
raised once.

Installed only from the main thread, only over Python's default SIGINT
handler and only when no wakeup fd is in use (asyncio sets its own).
"""

from __future__ import annotations

import os
import signal
import threading
import weakref

from .. import vmoffsets as vo

_Q_ENTRY_SP = vo.LIMITS_ENTRY_SP >> 3
_Q_DEADLINE = vo.LIMITS_EPOCH_DEADLINE >> 3
_INTERRUPT = vo.VMCTX_INTERRUPT

_stores: "weakref.WeakSet" = weakref.WeakSet()
_lock = threading.Lock()
_installed = False
_absorbed = 0
_main_stack = None      # (low, high) of the main thread's stack, where known


def _main_thread_stack():
    """The main thread's stack mapping (Linux): SIGINT interrupts only Wasm
    running on it, never a worker thread's, which would get a stray KeyboardInterrupt."""
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                if line.rstrip().endswith("[stack]"):
                    lo, hi = line.split()[0].split("-")
                    return int(lo, 16), int(hi, 16)
    except OSError:
        pass
    return None


def watch(state) -> None:
    """Make ``state`` (a StoreState) interruptible by Ctrl-C."""
    _stores.add(state)
    if not _installed:
        _install()


def _install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        if threading.current_thread() is not threading.main_thread():
            return                 # signal handlers belong to the main thread: try again from it
        _installed = True          # try once from the main thread, whatever happens
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            return
        r, w = os.pipe()
        os.set_blocking(w, False)
        try:
            previous = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        except (ValueError, OSError):
            os.close(r)
            os.close(w)
            return
        if previous != -1:
            signal.set_wakeup_fd(previous)
            os.close(r)
            os.close(w)
            return
        signal.signal(signal.SIGINT, _on_sigint)
        global _main_stack
        _main_stack = _main_thread_stack()
        threading.Thread(target=_watcher, args=(r,), name="pywinch-sigint", daemon=True).start()


def set_flags(state, value: int) -> None:
    """Set (1) or clear (0) the interrupt flag in every instance of ``state``."""
    for inst in list(state.instances):
        vm = inst.vmctx
        if vm is not None:
            vm.set_u32(_INTERRUPT, value)


def _on_sigint(signum, frame):
    global _absorbed
    with _lock:
        if _absorbed:
            _absorbed -= 1
            return
    signal.default_int_handler(signum, frame)


def _watcher(fd: int) -> None:
    global _absorbed
    while True:
        try:
            data = os.read(fd, 64)
        except OSError:
            return
        if not data:
            return
        for sig in data:
            if sig != signal.SIGINT:
                continue
            hit = False
            for st in list(_stores):
                lq = st.lq
                sp = lq[_Q_ENTRY_SP]
                if sp > 1 and (_main_stack is None or _main_stack[0] - (64 << 20) <= sp < _main_stack[1]):
                    if not st.interrupted:
                        st.saved_deadline = lq[_Q_DEADLINE]
                    st.interrupted = True
                    # Code compiled for Ctrl-C only checks its instance's flag;
                    # code with the full epoch check (epoch_interruption, or
                    # deserialized) compares with the deadline.
                    set_flags(st, 1)
                    lq[_Q_DEADLINE] = 0
                    hit = True
            if hit:
                with _lock:
                    _absorbed += 1
