"""Memory, Table and Global: thin handles on the runtime objects of a store."""

from __future__ import annotations

import ctypes
from typing import Any, Optional

from ..errors import MemoryBoundsError, TypeCheckError, WasmError
from ..runtime.globals import RuntimeGlobal
from ..runtime.memory import LinearMemory, WASM_PAGE
from ..runtime.table import RuntimeTable
from .types import GlobalType, Limits, MemoryType, TableType, ValType
from .values import from_raw, to_raw


def _store_of(store):
    from .func import Caller
    return store._store if isinstance(store, Caller) else store


def _check(obj, store):
    s = _store_of(store)
    if s is not obj._store:
        raise WasmError(f"the {type(obj).__name__} belongs to another store")
    return s


class Memory:
    __slots__ = ("_store", "_mem", "__weakref__")

    def __init__(self, store, ty: MemoryType):
        if not isinstance(ty, MemoryType):
            raise TypeCheckError("expected a MemoryType")
        st = _store_of(store)
        lim = ty.limits
        self._store = st
        self._mem = LinearMemory(lim.min, lim.max, ty.is_64, limiter=st._state.limiter)
        st._state.keep.append(self._mem)

    @classmethod
    def _wrap(cls, store, mem: LinearMemory) -> "Memory":
        m = object.__new__(cls)
        m._store = store
        m._mem = mem
        return m

    def type(self, store=None) -> MemoryType:
        return MemoryType(Limits(self._mem.min, self._mem.max), self._mem.is64)

    def grow(self, store, delta: int) -> int:
        _check(self, store)
        if not isinstance(delta, int) or delta < 0:
            raise WasmError("memory growth delta must be a non-negative integer")
        old = self._mem.grow(delta)
        if old < 0:
            raise WasmError("failed to grow memory")
        return old

    def size(self, store) -> int:
        _check(self, store)
        return self._mem.pages

    def data_len(self, store) -> int:
        _check(self, store)
        return self._mem.pages * WASM_PAGE

    def data_ptr(self, store) -> "ctypes._Pointer[ctypes.c_ubyte]":
        _check(self, store)
        return ctypes.cast(self._mem.base, ctypes.POINTER(ctypes.c_ubyte))

    def get_buffer_ptr(self, store, size: Optional[int] = None, offset: int = 0) -> ctypes.Array:
        """A ctypes array over the memory (zero-copy, numpy-friendly); valid until the next grow."""
        n = self.data_len(store)
        if size is None:
            size = n - offset
        if offset < 0 or size < 0 or offset + size > n:
            raise MemoryBoundsError("range outside the memory")
        arr = (ctypes.c_ubyte * size).from_address(self._mem.base + offset)
        arr._owner = self._mem     # keeps the mapping alive as long as the array
        return arr

    def buffer(self, store) -> memoryview:
        """A zero-copy memoryview of the whole memory; take a new one after a grow."""
        _check(self, store)
        return self._mem.view()

    def read(self, store, start: Optional[int] = 0, stop: Optional[int] = None) -> bytearray:
        size = self.data_len(store)
        start, stop, _ = slice(start, stop, None).indices(size)
        if stop <= start:
            return bytearray(0)
        return bytearray(ctypes.string_at(self._mem.base + start, stop - start))

    def write(self, store, value, start: Optional[int] = None) -> int:
        size = self.data_len(store)
        start = slice(start, None).indices(size)[0]
        if start >= size:
            raise MemoryBoundsError("write outside the memory")
        value = bytes(value)
        if start + len(value) > size:
            raise MemoryBoundsError("write outside the memory")
        if value:
            ctypes.memmove(self._mem.base + start, value, len(value))
        return len(value)

    def page_size(self, store=None) -> int:
        return WASM_PAGE

    def page_size_log2(self, store=None) -> int:
        return 16

    def __eq__(self, other):
        return isinstance(other, Memory) and other._mem is self._mem

    def __hash__(self):
        return id(self._mem)


class Table:
    __slots__ = ("_store", "_table", "__weakref__")

    def __init__(self, store, ty: TableType, init: Any):
        if not isinstance(ty, TableType):
            raise TypeCheckError("expected a TableType")
        st = _store_of(store)
        elem = ty.element._code
        raw = to_raw(st._state, elem, init)
        lim = ty.limits
        self._store = st
        self._table = RuntimeTable(elem, lim.min, lim.max, raw, limiter=st._state.limiter)
        st._state.keep.append(self._table)

    @classmethod
    def _wrap(cls, store, table: RuntimeTable) -> "Table":
        t = object.__new__(cls)
        t._store = store
        t._table = table
        return t

    def type(self, store=None) -> TableType:
        return TableType(ValType(self._table.elem_type), Limits(self._table.min, self._table.max))

    def size(self, store) -> int:
        _check(self, store)
        return self._table.size

    def grow(self, store, amt: int, init: Any) -> int:
        s = _check(self, store)
        raw = to_raw(s._state, self._table.elem_type, init)
        old = self._table.grow(amt, raw)
        if old < 0:
            raise WasmError("failed to grow table")
        return old

    def get(self, store, idx: int) -> Optional[Any]:
        s = _check(self, store)
        if not 0 <= idx < self._table.size:
            return None
        return from_raw(s._state, self._table.elem_type, self._table.get(idx))

    def set(self, store, idx: int, val: Any) -> None:
        s = _check(self, store)
        raw = to_raw(s._state, self._table.elem_type, val)
        if not 0 <= idx < self._table.size:
            raise WasmError("index out of bounds")
        self._table.set(idx, raw)

    def __eq__(self, other):
        return isinstance(other, Table) and other._table is self._table

    def __hash__(self):
        return id(self._table)


class Global:
    __slots__ = ("_store", "_global", "__weakref__")

    def __init__(self, store, ty: GlobalType, val: Any):
        if not isinstance(ty, GlobalType):
            raise TypeCheckError("expected a GlobalType")
        st = _store_of(store)
        vt = ty.content._code
        raw = to_raw(st._state, vt, val)
        self._store = st
        self._global = RuntimeGlobal(vt, ty.mutable)
        self._global.set_raw(raw)
        st._state.keep.append(self._global)

    @classmethod
    def _wrap(cls, store, g: RuntimeGlobal) -> "Global":
        o = object.__new__(cls)
        o._store = store
        o._global = g
        return o

    def type(self, store=None) -> GlobalType:
        return GlobalType(ValType(self._global.valtype), self._global.mutable)

    def value(self, store) -> Any:
        s = _check(self, store)
        return from_raw(s._state, self._global.valtype, self._global.get_raw())

    def set_value(self, store, val: Any) -> None:
        s = _check(self, store)
        if not self._global.mutable:
            raise WasmError("cannot set the value of an immutable global")
        self._global.set_raw(to_raw(s._state, self._global.valtype, val))

    def __eq__(self, other):
        return isinstance(other, Global) and other._global is self._global

    def __hash__(self):
        return id(self._global)


def wrap_extern(store, ext):
    """A runtime ``(kind, obj)`` -> the API object."""
    kind, obj = ext
    if kind == "func":
        return store._wrap_func(obj)
    if kind == "memory":
        return Memory._wrap(store, obj)
    if kind == "table":
        return Table._wrap(store, obj)
    if kind == "global":
        return Global._wrap(store, obj)
    raise WasmError(f"unknown extern kind {kind}")


def unwrap_extern(store, item):
    """An API object -> runtime ``(kind, obj)``; TypeError for anything else."""
    from .func import Func
    if isinstance(item, Func):
        if item._store is not store:
            raise WasmError("the Func belongs to another store")
        return ("func", item._funcref)
    if isinstance(item, Memory):
        _check(item, store)
        return ("memory", item._mem)
    if isinstance(item, Table):
        _check(item, store)
        return ("table", item._table)
    if isinstance(item, Global):
        _check(item, store)
        return ("global", item._global)
    raise TypeCheckError(f"expected a Func, Memory, Table or Global, got {type(item).__name__}")
