"""Access to the guest's linear memory for WASI calls.

Every pointer and length comes from the guest and may be wild: each access is
checked against the memory's current length and a bad one raises
:class:`Fault`, which the call wrapper turns into ``EFAULT``. Pointers are
masked to u32 first, so a host glue passing i32 arguments signed (ctypes
``c_int32``) reads the same addresses as one passing them unsigned.

``mem`` is a writable, 1-D, byte-format ``memoryview`` of the whole linear
memory (``LinearMemory.view()``), fetched fresh for each call because
``memory.grow`` may change its length.
"""

from __future__ import annotations

import struct

from ...errors import Trap, TrapCode

U32 = 0xFFFFFFFF
U64 = 0xFFFFFFFFFFFFFFFF

_u16 = struct.Struct("<H")
_u32 = struct.Struct("<I")
_u64 = struct.Struct("<Q")
_u32x2 = struct.Struct("<II")


class Fault(Exception):
    """A guest pointer or length reaches outside linear memory (-> EFAULT)."""


class WasiErrno(Exception):
    """Ends a WASI call with this errno; raised deep in helpers, caught by the wrapper."""

    __slots__ = ("errno",)

    def __init__(self, errno: int):
        self.errno = errno


class MissingMemory:
    """Stands for the memory of a module that exports none: any access traps,
    as in Wasmtime, instead of pretending the call failed with an errno."""

    __slots__ = ("function",)

    def __init__(self, function: str):
        self.function = function

    def __len__(self):
        raise Trap(TrapCode.HOST_EXCEPTION,
                   f"WASI function {self.function} needs the module to export its memory as \"memory\"")


def check(mem, ptr: int, size: int) -> int:
    """The masked pointer, once ``[ptr, ptr + size)`` is known to be inside memory."""
    ptr &= U32
    if ptr + size > len(mem):
        raise Fault
    return ptr


def u16_set(mem, ptr: int, value: int) -> None:
    _u16.pack_into(mem, check(mem, ptr, 2), value)


def u32_get(mem, ptr: int) -> int:
    return _u32.unpack_from(mem, check(mem, ptr, 4))[0]


def u32_set(mem, ptr: int, value: int) -> None:
    _u32.pack_into(mem, check(mem, ptr, 4), value & U32)


def u64_set(mem, ptr: int, value: int) -> None:
    _u64.pack_into(mem, check(mem, ptr, 8), value & U64)


def read_bytes(mem, ptr: int, size: int) -> bytes:
    size &= U32
    ptr = check(mem, ptr, size)
    return bytes(mem[ptr:ptr + size])


def write_bytes(mem, ptr: int, data) -> None:
    ptr = check(mem, ptr, len(data))
    mem[ptr:ptr + len(data)] = data


def read_path(mem, ptr: int, size: int) -> str:
    """A path argument: UTF-8 (EILSEQ otherwise) without NUL bytes."""
    raw = read_bytes(mem, ptr, size)
    if b"\0" in raw:
        raise WasiErrno(25)     # EILSEQ: the host cannot name such a file
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise WasiErrno(25) from None


def iovecs(mem, ptr: int, count: int) -> list:
    """The buffers of an iovec/ciovec array as memoryview slices of ``mem``
    (so host reads land in guest memory and writes leave from it, no copy)."""
    count &= U32
    base = check(mem, ptr, count * 8)
    limit = len(mem)
    views = []
    for i in range(count):
        buf, size = _u32x2.unpack_from(mem, base + 8 * i)
        if buf + size > limit:
            raise Fault
        if size:
            views.append(mem[buf:buf + size])
    return views
