"""Tables: arrays of u64 elements (a ``VMFuncRef*`` or an externref handle; 0 = null).

The element array may move when the table grows, so compiled code always
reads ``TABLE_BASE`` from the definition, which this class keeps current.
"""

from __future__ import annotations

import ctypes

from .. import vmoffsets as vo
from ..errors import WasmError
from . import sysmem

MAX_TABLE_ELEMENTS = 10_000_000   # wasmtime's default table element limit
_ELEM = 8


class RuntimeTable:
    __slots__ = ("elem_type", "min", "max", "size", "cap", "buf", "def_buf", "def_addr",
                 "limiter", "__weakref__")

    def __init__(self, elem_type: int, min_size: int, max_size: int | None, init: int = 0,
                 def_addr: int | None = None, limiter=None):
        if max_size is not None and max_size < min_size:
            raise WasmError("table maximum is smaller than its minimum")
        limit = MAX_TABLE_ELEMENTS
        if limiter is not None and limiter.table_elements >= 0:
            limit = min(limit, limiter.table_elements)
        if min_size > limit:
            raise WasmError(f"table minimum size of {min_size} elements exceeds table limits")
        self.elem_type = elem_type
        self.min = min_size
        self.max = max_size
        self.limiter = limiter
        self.size = min_size
        self.cap = max(min_size, 4)
        self.buf = sysmem.Buffer(self.cap * _ELEM)
        if init:
            self.buf.q[0:min_size] = _fill_view(init, min_size)
        if def_addr is None:
            self.def_buf = sysmem.Buffer(vo.TABLE_DEF_SIZE)
            def_addr = self.def_buf.addr
        else:
            self.def_buf = None
        self.def_addr = def_addr
        self._publish()

    def _publish(self) -> None:
        sysmem.write_u64(self.def_addr + vo.TABLE_BASE, self.buf.addr)
        sysmem.write_u64(self.def_addr + vo.TABLE_LENGTH, self.size)

    def rehome(self, def_addr: int) -> None:
        self.def_addr = def_addr
        self.def_buf = None
        self._publish()

    def max_size(self) -> int:
        m = 0xFFFFFFFF if self.max is None else self.max
        limit = MAX_TABLE_ELEMENTS
        if self.limiter is not None and self.limiter.table_elements >= 0:
            limit = min(limit, self.limiter.table_elements)
        return min(m, limit)

    def get(self, i: int) -> int:
        if not 0 <= i < self.size:
            raise WasmError("out of bounds table access")
        return self.buf.q[i]

    def set(self, i: int, raw: int) -> None:
        if not 0 <= i < self.size:
            raise WasmError("out of bounds table access")
        self.buf.q[i] = raw

    def grow(self, delta: int, init: int) -> int:
        """Grow by ``delta`` elements set to ``init``: old size, or -1."""
        old = self.size
        if delta < 0:
            return -1
        new = old + delta
        if new > self.max_size():
            return -1
        if new > self.cap:
            cap = max(new, self.cap * 2)
            if self.max is not None:
                cap = max(new, min(cap, self.max))
            nbuf = sysmem.Buffer(cap * _ELEM)
            ctypes.memmove(nbuf.addr, self.buf.addr, old * _ELEM)
            self.buf = nbuf
            self.cap = cap
        if delta:
            self.buf.q[old:new] = _fill_view(init, delta)
        self.size = new
        self._publish()
        return old

    def fill(self, dst: int, raw: int, n: int) -> bool:
        if dst < 0 or n < 0 or dst + n > self.size:
            return False
        if n:
            self.buf.q[dst:dst + n] = _fill_view(raw, n)
        return True

    def copy_from(self, src_table: "RuntimeTable", dst: int, src: int, n: int) -> bool:
        if dst + n > self.size or src + n > src_table.size:
            return False
        if n:
            ctypes.memmove(self.buf.addr + dst * _ELEM, src_table.buf.addr + src * _ELEM, n * _ELEM)
        return True

    def init_from(self, items: list[int], dst: int, src: int, n: int) -> bool:
        if dst + n > self.size or src + n > len(items):
            return False
        if n:
            self.buf.q[dst:dst + n] = memoryview(_u64_array(items[src:src + n])).cast("B").cast("Q")
        return True


def _u64_array(values):
    return (ctypes.c_uint64 * len(values))(*values)


def _fill_view(raw: int, n: int):
    arr = (ctypes.c_uint64 * n)()
    if raw:
        mv = memoryview(arr).cast("B").cast("Q")
        mv[0] = raw
        # Doubling copies fill n slots in log(n) memmoves.
        done = 1
        while done < n:
            k = min(done, n - done)
            ctypes.memmove(ctypes.addressof(arr) + done * 8, ctypes.addressof(arr), k * 8)
            done += k
    return memoryview(arr).cast("B").cast("Q")
