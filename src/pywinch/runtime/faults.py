"""Signal-based traps: a native SIGSEGV/SIGBUS handler for guarded memories.

Compiled code for a guarded 32-bit memory has no bounds check: every address
``base + u32 index + offset`` lies inside the memory's 8 GiB reservation, and
the part past the current length is PROT_NONE, so an out-of-bounds access
faults.  This handler turns such a fault into the ordinary trap path
(docs/architecture.md, Traps), as Wasmtime does.

The handler is machine code emitted with our own assembler (a Python handler
cannot run inside a fault: the interpreter would only see the signal after the
faulting instruction had run again).  It reads two tables Python publishes:
the registered Wasm code ranges (``register_code``, from traps.register_code)
and the guarded memory reservations (``register_memory``, from memory.py).
A fault is a Wasm trap when the kernel raised it (``si_code > 0``), the pc is
in Wasm code and the fault address is in a guarded reservation.  Then the
handler pushes ``pc + 1`` on the Wasm stack as a fake return address and
resumes at a trap routine that records HEAP_OUT_OF_BOUNDS exactly as a
module's trap routines do (the compiler records ``access pc + 1`` as the trap
site of each unchecked access: a pc inside the instruction, never a return
address of a call, so ``CompiledModule.trap_at`` finds the operator).

Any other signal goes to the previous disposition: a previous handler is
tail-called with the same arguments (Wasmtime's own handler, faulthandler...);
SIG_DFL or SIG_IGN is restored and the signal re-sent to the thread, so the
process dies as it would have without pywinch.  A SIGSEGV sent by a process
(``si_code <= 0``, e.g. faulthandler re-raising after its dump) never goes to
a previous handler: handlers that restore ours before re-raising (faulthandler
does) would otherwise form a cycle.

The tables are published copy-on-write: a new array, then one aligned pointer
store; a replaced array stays alive for a while so a handler running on
another thread never reads freed memory.

Flags: SA_SIGINFO | SA_ONSTACK, without SA_NODEFER: a fault inside the
handler kills the process at once instead of recursing, and a chained handler
runs with the signal blocked, so a re-raise of its own arrives once it returns.

Installation: the first guarded memory installs the handler; every later
guarded memory and every code registration checks with one ``sigaction``
query that it is still installed and reinstalls it on top of whoever replaced
it (``faulthandler.enable()`` after pywinch, for instance).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import signal
import sys
import threading
from collections import deque

from .. import vmoffsets as vo
from ..errors import TrapCode
from . import sysmem

SUPPORTED = (sys.platform.startswith("linux") and platform.machine() in ("x86_64", "AMD64")
             and ctypes.sizeof(ctypes.c_void_p) == 8)

SA_SIGINFO = 4
SA_ONSTACK = 0x08000000
_SIGNALS = (signal.SIGSEGV, signal.SIGBUS)

# glibc x86-64 layouts.
_UC_RSP = 40 + 15 * 8          # ucontext_t.uc_mcontext.gregs[REG_RSP]
_UC_RIP = 40 + 16 * 8          # ucontext_t.uc_mcontext.gregs[REG_RIP]
_SI_CODE = 8                   # siginfo_t.si_code
_SI_ADDR = 16                  # siginfo_t.si_addr
_SYS_RT_SIGACTION, _SYS_GETPID, _SYS_GETTID, _SYS_TGKILL = 13, 39, 186, 234


class _SigAction(ctypes.Structure):
    _fields_ = [("handler", ctypes.c_void_p), ("mask", ctypes.c_uint64 * 16),
                ("flags", ctypes.c_int), ("restorer", ctypes.c_void_p)]


assert ctypes.sizeof(_SigAction) == 152

# The handler's data block (never freed: the handler lives as long as the process).
_D_CODE = 0            # u64*: [n, start0, end0, start1, end1, ...] Wasm code ranges
_D_MEM = 8             # u64*: the same for guarded memory reservations
_D_ROUTINE = 16        # the fault trap routine
_D_PREV = 32           # struct sigaction of the previous SIGSEGV handler, then SIGBUS's
_D_DFL = _D_PREV + 2 * 152     # a zeroed kernel sigaction: SIG_DFL
_D_SIZE = _D_DFL + 32

_lock = threading.Lock()
_data = None           # sysmem.Buffer
_code = None           # CodeMemory of the handler and the trap routine
_handler_addr = 0
_sigaction = None
_tables = {_D_CODE: {}, _D_MEM: {}}        # slot -> {start: end}
_retired: deque = deque(maxlen=256)        # replaced arrays, kept for handlers still reading them
_current = {}
_pending: deque = deque()                  # (slot, start) removals not applied yet


def _emit(data: int):
    """(code bytes, handler offset, routine offset) of the handler reading ``data``."""
    from ..isa.x64.masm import MacroAssembler
    from ..isa.x64.regs import (CC_B, CC_BE, CC_E, CC_LE, CC_NE, R8, R9, R10, R11, R14, RAX, RBP,
                                RCX, RDI, RDX, RSI, RSP)
    a = MacroAssembler()
    # --- the trap routine: the same as a module's (compiler._trap_routines) ---
    routine = a.pos
    a.pop_r(RAX)                                       # the fake return address: fault pc + 1
    a.load(8, R11, R14, vo.VMCTX_LIMITS)
    a.store_imm(4, TrapCode.HEAP_OUT_OF_BOUNDS, R11, vo.LIMITS_TRAP_CODE)
    a.store(8, RAX, R11, vo.LIMITS_TRAP_PC)
    a.store(8, RBP, R11, vo.LIMITS_TRAP_FP)
    a.load(8, RSP, R11, vo.LIMITS_ENTRY_SP)
    a.ret()
    a.align(16)
    # --- void handler(int sig, siginfo_t *info, ucontext_t *uc) ---
    handler = a.pos
    a.movabs(RAX, data)
    chain = a.new_label()
    a.alu_mi(7, 4, 0, RSI, _SI_CODE)                   # cmp si_code, 0
    a.jcc(CC_LE, chain)                                # sent by a process: not a fault
    # The pc must be in Wasm code, the fault address in a guarded reservation.
    for slot, value in ((_D_CODE, (RDX, _UC_RIP)), (_D_MEM, (RSI, _SI_ADDR))):
        loop, nxt, hit = a.new_label(), a.new_label(), a.new_label()
        a.load(8, R8, *value)
        a.load(8, R9, RAX, slot)
        a.load(8, RCX, R9, 0)
        a.lea(8, R9, R9, 8)
        a.bind(loop)
        a.test_rr(8, RCX, RCX)
        a.jcc(CC_E, chain)
        a.alu_rm(7, 8, R8, R9, 0)
        a.jcc(CC_B, nxt)
        a.alu_rm(7, 8, R8, R9, 8)
        a.jcc(CC_B, hit)
        a.bind(nxt)
        a.alu_ri(0, 8, R9, 16)
        a.alu_ri(5, 8, RCX, 1)
        a.jmp(loop)
        a.bind(hit)
    # A Wasm heap fault: call the trap routine from the faulting instruction.
    a.load(8, R8, RDX, _UC_RIP)
    a.alu_ri(0, 8, R8, 1)
    a.load(8, R9, RDX, _UC_RSP)
    a.alu_ri(5, 8, R9, 8)
    a.store(8, R8, R9, 0)
    a.store(8, R9, RDX, _UC_RSP)
    a.load(8, R8, RAX, _D_ROUTINE)
    a.store(8, R8, RDX, _UC_RIP)
    a.ret()
    # --- not ours: the previous disposition ---
    a.bind(chain)
    dfl = a.new_label()
    have = a.new_label()
    a.lea(8, R8, RAX, _D_PREV)
    a.alu_ri(7, 4, RDI, int(signal.SIGBUS))
    a.jcc(CC_NE, have)
    a.lea(8, R8, RAX, _D_PREV + 152)
    a.bind(have)
    a.alu_mi(7, 4, 0, RSI, _SI_CODE)
    a.jcc(CC_LE, dfl)                                  # never chain a sent signal (see the docstring)
    a.load(8, R9, R8, 0)
    a.alu_ri(7, 8, R9, 1)
    a.jcc(CC_BE, dfl)                                  # SIG_DFL (0) or SIG_IGN (1)
    a.jmp_r(R9)                                        # tail call: same (sig, info, uc)
    a.bind(dfl)
    # rt_sigaction(sig, SIG_DFL), then tgkill(getpid(), gettid(), sig): blocked
    # while this handler runs, the signal arrives on return with the default action.
    a.mov_rr(4, R8, RDI)
    a.lea(8, RSI, RAX, _D_DFL)
    a.alu_rr(6, 4, RDX, RDX)
    a.mov_ri(4, R10, 8)
    a.mov_ri(4, RAX, _SYS_RT_SIGACTION)
    a.buf += b"\x0f\x05"                               # syscall
    a.mov_ri(4, RAX, _SYS_GETPID)
    a.buf += b"\x0f\x05"
    a.mov_rr(8, R9, RAX)
    a.mov_ri(4, RAX, _SYS_GETTID)
    a.buf += b"\x0f\x05"
    a.mov_rr(8, RSI, RAX)
    a.mov_rr(8, RDI, R9)
    a.mov_rr(4, RDX, R8)
    a.mov_ri(4, RAX, _SYS_TGKILL)
    a.buf += b"\x0f\x05"
    a.ret()
    return a.finalize(), handler, routine


def _libc_sigaction():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    fn = libc.sigaction
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_int, ctypes.POINTER(_SigAction), ctypes.POINTER(_SigAction)]
    return fn


def _setup() -> None:
    global _data, _code, _handler_addr, _sigaction
    from .code import CodeMemory
    data = sysmem.Buffer(_D_SIZE)
    code, handler, routine = _emit(data.addr)
    mem = CodeMemory(code)
    data.set_u64(_D_ROUTINE, mem.addr + routine)
    _sigaction = _libc_sigaction()
    _data, _code, _handler_addr = data, mem, mem.addr + handler
    for slot in _tables:
        _publish(slot)


def _install_locked() -> None:
    """Install the handler unless it is the current one (one sigaction query per signal)."""
    if _data is None:
        _setup()
    cur = _SigAction()
    for k, sig in enumerate(_SIGNALS):
        if _sigaction(sig, None, ctypes.byref(cur)) != 0:
            raise OSError(ctypes.get_errno(), f"sigaction({sig}) query failed")
        if cur.handler == _handler_addr:
            continue
        new = _SigAction()
        new.handler = _handler_addr
        new.flags = SA_SIGINFO | SA_ONSTACK
        prev = _SigAction()
        if _sigaction(sig, ctypes.byref(new), ctypes.byref(prev)) != 0:
            raise OSError(ctypes.get_errno(), f"sigaction({sig}) failed")
        ctypes.memmove(_data.addr + _D_PREV + 152 * k, ctypes.addressof(prev), 152)


_query = None          # (struct, its byref) for the fast check, set up on first use


def ensure_installed() -> None:
    """Install the handler, or reinstall it on top of whoever replaced it.

    Called when a guarded memory is created and when Wasm code is registered.
    Once installed it costs one ``sigaction`` query (of SIGSEGV: what replaces
    one handler replaces both, faulthandler included, and guard faults are
    SIGSEGV), about 1 us."""
    global _query
    if not SUPPORTED:
        return
    with _lock:
        q = _query
        if q is not None and _sigaction(signal.SIGSEGV, None, q[1]) == 0 and q[0].handler == _handler_addr:
            return
        _install_locked()
        if _query is None:
            cur = _SigAction()
            _query = (cur, ctypes.byref(cur))


def installed() -> bool:
    """Whether the handler is the current SIGSEGV and SIGBUS disposition."""
    if _data is None:
        return False
    cur = _SigAction()
    for sig in _SIGNALS:
        if _sigaction(sig, None, ctypes.byref(cur)) != 0 or cur.handler != _handler_addr:
            return False
    return True


def _publish(slot: int) -> None:
    """Give the handler a fresh array of ``_tables[slot]`` (copy-on-write)."""
    if _data is None:
        return
    ranges = _tables[slot]
    arr = (ctypes.c_uint64 * (1 + 2 * len(ranges)))()
    arr[0] = len(ranges)
    i = 1
    for start, end in ranges.items():
        arr[i] = start
        arr[i + 1] = end
        i += 2
    old = _current.get(slot)
    _current[slot] = arr
    _data.set_u64(slot, ctypes.addressof(arr))
    if old is not None:
        _retired.append(old)


def _drain() -> None:
    """Apply the pending removals (the caller holds ``_lock``)."""
    touched = set()
    while _pending:
        slot, start = _pending.popleft()
        if _tables[slot].pop(start, None) is not None:
            touched.add(slot)
    for slot in touched:
        _publish(slot)


def _register(slot: int, start: int, end: int) -> None:
    if not SUPPORTED:
        return
    with _lock:
        # Removals first: a reservation unmapped since may come back at the same address.
        _drain()
        _tables[slot][start] = end
        _publish(slot)


def _unregister(slot: int, start: int) -> None:
    # Called from finalizers, which the garbage collector may run inside
    # _register on this thread (with _lock held): queue the removal and apply
    # it now only if the lock is free, else at the next registration.
    if not SUPPORTED:
        return
    _pending.append((slot, start))
    if _lock.acquire(blocking=False):
        try:
            _drain()
        finally:
            _lock.release()


def register_code(start: int, end: int) -> None:
    """Faults with a pc in ``[start, end)`` may be Wasm traps."""
    _register(_D_CODE, start, end)


def unregister_code(start: int) -> None:
    _unregister(_D_CODE, start)


def register_memory(start: int, end: int) -> None:
    """Faults at an address in ``[start, end)`` (a guarded reservation) may be Wasm traps."""
    _register(_D_MEM, start, end)


def unregister_memory(start: int) -> None:
    _unregister(_D_MEM, start)
