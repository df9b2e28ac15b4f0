"""Executable memory for machine code (W^X).

:class:`CodeMemory` maps fresh pages read-write, copies the code in, then
switches them to read-execute with ``mprotect``; the pages are never writable
and executable at once.  The mapping is released when the object is garbage
collected (``weakref.finalize``) or by :meth:`CodeMemory.free`.

Whoever calls into the code must keep the ``CodeMemory`` alive: the ctypes
function objects from :meth:`CodeMemory.func` hold a reference to it, raw
addresses from :meth:`CodeMemory.address` do not.

Usage::

    mem = CodeMemory(code_bytes)            # code_bytes from Assembler.finalize()
    add = mem.func(0, ctypes.c_int64, ctypes.c_int64, ctypes.c_int64)
    add(1, 2)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap as _mmap
import sys
import weakref

from ..errors import UnsupportedError, WasmError

PAGE = _mmap.PAGESIZE


def _bind_libc():
    """mmap/mprotect/munmap from the C library (POSIX only: Linux, macOS)."""
    if sys.platform == "win32":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                          ctypes.c_long]
    libc.mprotect.restype = ctypes.c_int
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    libc.munmap.restype = ctypes.c_int
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    return libc.mmap, libc.mprotect, libc.munmap


_fns = _bind_libc()
if _fns is None:
    _mmap_fn = _mprotect = _munmap = None
else:
    _mmap_fn, _mprotect, _munmap = _fns
del _fns

_PROT_READ, _PROT_WRITE, _PROT_EXEC = 1, 2, 4
_MAP_PRIVATE = 0x02
_MAP_ANONYMOUS = getattr(_mmap, "MAP_ANONYMOUS", 0x1000 if sys.platform == "darwin" else 0x20)
_MAP_FAILED = ctypes.c_void_p(-1).value


class CodeMemoryError(WasmError):
    """The operating system refused to map or protect code memory."""


def _errno_text() -> str:
    import os
    e = ctypes.get_errno()
    return f"{os.strerror(e)} (errno {e})"


def _unmap(addr: int, size: int) -> None:
    _munmap(addr, size)


class CodeMemory:
    """A read-execute copy of ``code`` at a page-aligned address.

    Attributes: ``addr`` (base address, 0 once freed), ``size`` (bytes of
    code), ``mapped`` (bytes mapped, a multiple of the page size).
    """

    __slots__ = ("addr", "size", "mapped", "_finalizer", "__weakref__")

    def __init__(self, code: bytes | bytearray | memoryview):
        if _mmap_fn is None:
            raise UnsupportedError(f"executable memory on {sys.platform} is not supported yet (needs POSIX mmap)")
        code = bytes(code)
        size = len(code)
        mapped = max(PAGE, (size + PAGE - 1) // PAGE * PAGE)
        addr = _mmap_fn(None, mapped, _PROT_READ | _PROT_WRITE, _MAP_PRIVATE | _MAP_ANONYMOUS, -1, 0)
        if addr is None or addr == _MAP_FAILED:
            raise CodeMemoryError(f"cannot map {mapped} bytes for code: {_errno_text()}")
        ctypes.memmove(addr, code, size)
        if _mprotect(addr, mapped, _PROT_READ | _PROT_EXEC) != 0:
            err = _errno_text()
            _munmap(addr, mapped)
            raise CodeMemoryError(f"cannot make code memory executable: {err}")
        self.addr = addr
        self.size = size
        self.mapped = mapped
        self._finalizer = weakref.finalize(self, _unmap, addr, mapped)

    def address(self, offset: int = 0) -> int:
        """The absolute address of ``offset`` in the code."""
        if not self.addr:
            raise CodeMemoryError("code memory was freed")
        if not 0 <= offset < max(self.size, 1):
            raise CodeMemoryError(f"offset {offset:#x} outside the code ({self.size} bytes)")
        return self.addr + offset

    def func(self, offset: int, restype, *argtypes):
        """A ctypes function (system calling convention) for the code at ``offset``.

        The returned object keeps this CodeMemory alive.
        """
        fn = ctypes.CFUNCTYPE(restype, *argtypes)(self.address(offset))
        fn._pywinch_code = self
        return fn

    def read(self, offset: int = 0, n: int | None = None) -> bytes:
        """A copy of the code bytes (for disassembly and tests)."""
        if not self.addr:
            raise CodeMemoryError("code memory was freed")
        if n is None:
            n = self.size - offset
        if offset < 0 or n < 0 or offset + n > self.size:
            raise CodeMemoryError(f"range {offset:#x}+{n} outside the code ({self.size} bytes)")
        return ctypes.string_at(self.addr + offset, n)

    def free(self) -> None:
        """Unmap now (idempotent).  Any function pointer into it becomes invalid."""
        if self._finalizer.detach() is not None:
            _munmap(self.addr, self.mapped)
        self.addr = 0

    @property
    def freed(self) -> bool:
        return not self.addr

    def __len__(self) -> int:
        return self.size

    def __repr__(self) -> str:
        return f"<CodeMemory {self.size} bytes at {self.addr:#x}>"
