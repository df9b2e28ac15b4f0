"""The builtins compiled code calls through ``VMCTX_BUILTINS`` (SysV, vmctx first).

They are ctypes callbacks: slow next to inline code, but they do bulk work
(grow, fill, copy, init) where the per-call cost is dwarfed.  One process-wide
table; the callbacks live as long as the module.  A builtin never lets a
Python exception escape into native code: a failure becomes -1 or a TrapCode.
"""

from __future__ import annotations

import ctypes
from ctypes import c_int64, c_uint32, c_uint64

from .. import vmoffsets as vo
from ..errors import TrapCode
from . import sysmem

M32 = 0xFFFFFFFF
_OK = 0
_MEM_OOB = TrapCode.HEAP_OUT_OF_BOUNDS
_TAB_OOB = TrapCode.TABLE_OUT_OF_BOUNDS

# vmctx address -> runtime Instance, filled by instance.py (weak values).
from .instance_registry import instance_of  # noqa: E402


def _mem(inst, idx):
    return inst.memories[idx]


def _charge(vmctx, units):
    """Charge the units a successful bulk operation or grow touched (bytes,
    elements, pages) to the store's fuel, as Wasmtime 50 does, so a tank runs
    out at the same point in both engines.  Stores without fuel never read the
    counter, so it is charged whatever the configuration."""
    if units:
        limits = c_uint64.from_address(vmctx + vo.VMCTX_LIMITS).value
        consumed = c_int64.from_address(limits + vo.LIMITS_FUEL_CONSUMED)
        consumed.value += units


def memory_grow(vmctx, mem, delta):
    try:
        m = _mem(instance_of(vmctx), mem)
        if not m.is64:
            delta &= M32
        old = m.grow(delta)
        if old != -1:
            _charge(vmctx, delta)
        return old
    except Exception:
        return -1


def memory_fill(vmctx, mem, dst, val, n):
    try:
        m = _mem(instance_of(vmctx), mem)
        if not m.is64:
            dst &= M32
            n &= M32
        if dst + n > m.pages * 0x10000:
            return _MEM_OOB
        if n:
            ctypes.memset(m.base + dst, val & 0xFF, n)
            _charge(vmctx, n)
        return _OK
    except Exception:
        return _MEM_OOB


def memory_copy(vmctx, dst_mem, src_mem, dst, src, n):
    try:
        inst = instance_of(vmctx)
        d = _mem(inst, dst_mem)
        s = _mem(inst, src_mem)
        if not (d.is64 and s.is64):
            n &= M32
        if not d.is64:
            dst &= M32
        if not s.is64:
            src &= M32
        if dst + n > d.pages * 0x10000 or src + n > s.pages * 0x10000:
            return _MEM_OOB
        if n:
            ctypes.memmove(d.base + dst, s.base + src, n)
            _charge(vmctx, n)
        return _OK
    except Exception:
        return _MEM_OOB


def memory_init(vmctx, mem, data, dst, src, n):
    try:
        inst = instance_of(vmctx)
        m = _mem(inst, mem)
        seg = inst.datas[data]
        if not m.is64:
            dst &= M32
        src &= M32
        n &= M32
        if src + n > len(seg) or dst + n > m.pages * 0x10000:
            return _MEM_OOB
        if n:
            ctypes.memmove(m.base + dst, seg[src:src + n], n)
            _charge(vmctx, n)
        return _OK
    except Exception:
        return _MEM_OOB


def data_drop(vmctx, data):
    try:
        instance_of(vmctx).datas[data] = b""
    except Exception:
        pass
    return 0


def table_grow(vmctx, table, init, delta):
    try:
        old = instance_of(vmctx).tables[table].grow(delta & M32, init)
        if old != -1:
            _charge(vmctx, delta & M32)
        return old
    except Exception:
        return -1


def table_fill(vmctx, table, dst, val, n):
    try:
        t = instance_of(vmctx).tables[table]
        if not t.fill(dst & M32, val, n & M32):
            return _TAB_OOB
        _charge(vmctx, n & M32)
        return _OK
    except Exception:
        return _TAB_OOB


def table_copy(vmctx, dst_t, src_t, dst, src, n):
    try:
        inst = instance_of(vmctx)
        if not inst.tables[dst_t].copy_from(inst.tables[src_t], dst & M32, src & M32, n & M32):
            return _TAB_OOB
        _charge(vmctx, n & M32)
        return _OK
    except Exception:
        return _TAB_OOB


def table_init(vmctx, table, elem, dst, src, n):
    try:
        inst = instance_of(vmctx)
        if not inst.tables[table].init_from(inst.elems[elem], dst & M32, src & M32, n & M32):
            return _TAB_OOB
        _charge(vmctx, n & M32)
        return _OK
    except Exception:
        return _TAB_OOB


def elem_drop(vmctx, elem):
    try:
        instance_of(vmctx).elems[elem] = []
    except Exception:
        pass
    return 0


_SPECS = {
    vo.BUILTIN_MEMORY_GROW: (memory_grow, c_int64, (c_uint64, c_uint32, c_uint64)),
    vo.BUILTIN_MEMORY_FILL: (memory_fill, c_uint64, (c_uint64, c_uint32, c_uint64, c_uint32, c_uint64)),
    vo.BUILTIN_MEMORY_COPY: (memory_copy, c_uint64, (c_uint64, c_uint32, c_uint32, c_uint64, c_uint64, c_uint64)),
    vo.BUILTIN_MEMORY_INIT: (memory_init, c_uint64, (c_uint64, c_uint32, c_uint32, c_uint64, c_uint64, c_uint64)),
    vo.BUILTIN_DATA_DROP: (data_drop, c_uint64, (c_uint64, c_uint32)),
    vo.BUILTIN_TABLE_GROW: (table_grow, c_int64, (c_uint64, c_uint32, c_uint64, c_uint64)),
    vo.BUILTIN_TABLE_FILL: (table_fill, c_uint64, (c_uint64, c_uint32, c_uint64, c_uint64, c_uint64)),
    vo.BUILTIN_TABLE_COPY: (table_copy, c_uint64, (c_uint64, c_uint32, c_uint32, c_uint64, c_uint64, c_uint64)),
    vo.BUILTIN_TABLE_INIT: (table_init, c_uint64, (c_uint64, c_uint32, c_uint32, c_uint64, c_uint64, c_uint64)),
    vo.BUILTIN_ELEM_DROP: (elem_drop, c_uint64, (c_uint64, c_uint32)),
}
assert len(_SPECS) == vo.BUILTIN_COUNT

PROTOTYPES = {i: ctypes.CFUNCTYPE(res, *args) for i, (_, res, args) in _SPECS.items()}
# Kept alive for the life of the process: compiled code holds their addresses.
_CALLBACKS = [PROTOTYPES[i](_SPECS[i][0]) for i in range(vo.BUILTIN_COUNT)]
TABLE = sysmem.Buffer(8 * vo.BUILTIN_COUNT)
for _i, _cb in enumerate(_CALLBACKS):
    TABLE.q[_i] = ctypes.cast(_cb, ctypes.c_void_p).value
ADDR = TABLE.addr


def native(index: int):
    """A ctypes function calling builtin ``index`` through its native address (for tests)."""
    return PROTOTYPES[index](TABLE.q[index])
