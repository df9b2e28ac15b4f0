"""Raw memory for the runtime: page reservations (linear memories) and small
zeroed, pinned buffers (VMContexts, limits, table element arrays).

Linear memories need what Python's ``mmap`` module cannot give: a range
reserved without access and committed later with ``mprotect``, so the base
address never moves while the memory grows.  This module binds the three libc
calls through ctypes once.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap as _mmap

from ..errors import WasmError

PAGE = _mmap.PAGESIZE

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
_mmap_fn = _libc.mmap
_mmap_fn.restype = ctypes.c_void_p
_mmap_fn.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
_mprotect = _libc.mprotect
_mprotect.restype = ctypes.c_int
_mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_munmap = _libc.munmap
_munmap.restype = ctypes.c_int
_munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_madvise = _libc.madvise
_madvise.restype = ctypes.c_int
_madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]

PROT_NONE = 0
PROT_READ = 1
PROT_WRITE = 2
MAP_PRIVATE = 0x02
MAP_ANONYMOUS = getattr(_mmap, "MAP_ANONYMOUS", 0x20)
MAP_NORESERVE = 0x4000 if hasattr(_mmap, "MAP_ANONYMOUS") else 0
MADV_DONTNEED = 4
_MAP_FAILED = ctypes.c_void_p(-1).value


class ResourceError(WasmError):
    """The operating system refused memory (address space or commit)."""


def reserve(size: int) -> int:
    """Reserve ``size`` bytes of address space with no access; return the base."""
    addr = _mmap_fn(None, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
    if addr is None or addr == _MAP_FAILED:
        raise ResourceError(f"cannot reserve {size} bytes of address space (errno {ctypes.get_errno()})")
    return addr


def commit(addr: int, size: int) -> None:
    """Make ``[addr, addr+size)`` readable and writable (pages arrive zeroed)."""
    if size and _mprotect(addr, size, PROT_READ | PROT_WRITE) != 0:
        raise ResourceError(f"cannot commit {size} bytes (errno {ctypes.get_errno()})")


def decommit(addr: int, size: int) -> None:
    """Drop the contents of committed pages and make them inaccessible again."""
    if size:
        _madvise(addr, size, MADV_DONTNEED)
        _mprotect(addr, size, PROT_NONE)


def release(addr: int, size: int) -> None:
    if addr and size:
        _munmap(addr, size)


class Buffer:
    """A zeroed, 16-byte aligned block that never moves while referenced.

    ``q`` is a memoryview of it as native u64, the cheapest way for Python to
    read and write the 8-byte fields compiled code shares with the runtime.
    """

    __slots__ = ("raw", "addr", "size", "q", "b", "__weakref__")

    def __init__(self, size: int):
        size = max(16, (size + 15) & -16)
        # Over-allocate so the block can be aligned to 16 whatever the allocator gives.
        raw = (ctypes.c_uint8 * (size + 16))()
        base = ctypes.addressof(raw)
        pad = (-base) & 15
        self.raw = raw
        self.addr = base + pad
        self.size = size
        self.b = memoryview(raw).cast("B")[pad:pad + size]
        self.q = self.b.cast("Q")

    def u64(self, off: int) -> int:
        return self.q[off >> 3]

    def set_u64(self, off: int, value: int) -> None:
        self.q[off >> 3] = value & 0xFFFFFFFFFFFFFFFF

    def u32(self, off: int) -> int:
        return int.from_bytes(self.b[off:off + 4], "little")

    def set_u32(self, off: int, value: int) -> None:
        self.b[off:off + 4] = (value & 0xFFFFFFFF).to_bytes(4, "little")


def read_u64(addr: int) -> int:
    return ctypes.c_uint64.from_address(addr).value


def write_u64(addr: int, value: int) -> None:
    ctypes.c_uint64.from_address(addr).value = value & 0xFFFFFFFFFFFFFFFF
