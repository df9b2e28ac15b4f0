"""Linear memories: reserved once for their maximum, committed on grow.

The base never moves, so compiled code may keep it in a register across calls
that grow memory; only ``MEMORY_LENGTH`` changes.

Guarded memories: where ``HEAP_GUARD`` is on (Linux x86-64), every 32-bit
memory reserves ``4 GiB + HEAP_GUARD`` (8 GiB) whatever its maximum, all
inaccessible past the current length, and registers the reservation with the
fault handler (runtime/faults.py).  Compiled code may then access it without a
bounds check: an index is at most 4 GiB - 1 and a static offset plus access
size at most HEAP_GUARD, so an out-of-bounds access lands in the reservation
and faults.  Every 32-bit memory of the process is guarded, so any compiled
code may meet any memory.  The reservation is address space only (PROT_NONE,
MAP_NORESERVE); only the current length is committed.  The definition (base,
length) lives where compiled code reads it: inline in the owning instance's
VMContext, or in a small buffer of its own for a memory the host created.
"""

from __future__ import annotations

import ctypes
import weakref

from .. import vmoffsets as vo
from ..errors import WasmError
from ..isa.x64.masm import HEAP_GUARD
from . import faults, sysmem

WASM_PAGE = 0x10000
MAX_PAGES_32 = 0x10000                 # 4 GiB
MAX_PAGES_64 = 1 << 48                 # 2^64 bytes / 64 KiB
# An unbounded memory reserves this much address space (the 4 GiB a 32-bit
# index reaches plus room for guard pages later); committing stays lazy.
UNBOUNDED_RESERVATION = 8 << 30
GUARDED = HEAP_GUARD > 0 and faults.SUPPORTED
GUARDED_RESERVATION = (4 << 30) + HEAP_GUARD


def _release_guarded(base: int, size: int) -> None:
    faults.unregister_memory(base)
    sysmem.release(base, size)


class LinearMemory:
    """One linear memory. ``def_addr`` points at its VMMemoryDefinition."""

    __slots__ = ("min", "max", "is64", "base", "reserved", "pages", "def_buf", "def_addr",
                 "limiter", "guarded", "_finalizer", "__weakref__")

    def __init__(self, min_pages: int, max_pages: int | None, is64: bool = False,
                 def_addr: int | None = None, limiter=None):
        cap = MAX_PAGES_64 if is64 else MAX_PAGES_32
        if min_pages > cap:
            raise WasmError(f"memory minimum size of {min_pages} pages exceeds memory limits")
        if max_pages is not None and max_pages < min_pages:
            raise WasmError("memory maximum is smaller than its minimum")
        self.min = min_pages
        self.max = max_pages
        self.is64 = is64
        self.limiter = limiter
        if limiter is not None and not limiter.memory_allowed(min_pages * WASM_PAGE):
            raise WasmError(f"memory minimum size of {min_pages} pages exceeds memory limits")
        self.guarded = guarded = GUARDED and not is64
        if guarded:
            reserved = GUARDED_RESERVATION
        elif max_pages is not None and max_pages * WASM_PAGE <= UNBOUNDED_RESERVATION:
            reserved = max(max_pages * WASM_PAGE, sysmem.PAGE)
        else:
            reserved = max(UNBOUNDED_RESERVATION, min_pages * WASM_PAGE)
        self.base = sysmem.reserve(reserved)
        self.reserved = reserved
        if guarded:
            self._finalizer = weakref.finalize(self, _release_guarded, self.base, reserved)
        else:
            self._finalizer = weakref.finalize(self, sysmem.release, self.base, reserved)
        try:
            if guarded:
                faults.register_memory(self.base, self.base + reserved)
                # Also reinstalls the handler if someone replaced it since.
                faults.ensure_installed()
            sysmem.commit(self.base, min_pages * WASM_PAGE)
        except Exception:
            self._finalizer()
            raise
        self.pages = min_pages
        if def_addr is None:
            self.def_buf = sysmem.Buffer(vo.MEMORY_DEF_SIZE)
            def_addr = self.def_buf.addr
        else:
            self.def_buf = None
        self.def_addr = def_addr
        self._publish()

    def _publish(self) -> None:
        sysmem.write_u64(self.def_addr + vo.MEMORY_BASE, self.base)
        sysmem.write_u64(self.def_addr + vo.MEMORY_LENGTH, self.pages * WASM_PAGE)

    def rehome(self, def_addr: int) -> None:
        """Move the definition into an instance's VMContext (the defining instance)."""
        self.def_addr = def_addr
        self.def_buf = None
        self._publish()

    @property
    def length(self) -> int:
        return self.pages * WASM_PAGE

    def max_pages(self) -> int:
        cap = MAX_PAGES_64 if self.is64 else MAX_PAGES_32
        if self.max is not None:
            cap = min(cap, self.max)
        return min(cap, self.reserved // WASM_PAGE)

    def grow(self, delta: int) -> int:
        """Grow by ``delta`` pages; the old size in pages, or -1 (Wasm semantics, no exception)."""
        old = self.pages
        if delta < 0:
            return -1
        if delta == 0:
            return old
        new = old + delta
        if new > self.max_pages():
            return -1
        if self.limiter is not None and not self.limiter.memory_allowed(new * WASM_PAGE, old * WASM_PAGE):
            return -1
        try:
            sysmem.commit(self.base + old * WASM_PAGE, delta * WASM_PAGE)
        except sysmem.ResourceError:
            return -1
        self.pages = new
        sysmem.write_u64(self.def_addr + vo.MEMORY_LENGTH, new * WASM_PAGE)
        return old

    def view(self) -> memoryview:
        """A zero-copy view of the current contents (invalid after a grow: take a new one)."""
        n = self.pages * WASM_PAGE
        if n == 0:
            return memoryview(bytearray())
        arr = (ctypes.c_uint8 * n).from_address(self.base)
        arr._owner = self          # the view keeps the mapping alive
        return memoryview(arr).cast("B")

    def check(self, offset: int, size: int) -> bool:
        return offset >= 0 and size >= 0 and offset + size <= self.pages * WASM_PAGE

    def read(self, offset: int, size: int) -> bytes:
        if not self.check(offset, size):
            raise WasmError("out of bounds memory access")
        return ctypes.string_at(self.base + offset, size)

    def write(self, offset: int, data) -> None:
        n = len(data)
        if not self.check(offset, n):
            raise WasmError("out of bounds memory access")
        if n:
            ctypes.memmove(self.base + offset, bytes(data), n)

    def free(self) -> None:
        self._finalizer()
