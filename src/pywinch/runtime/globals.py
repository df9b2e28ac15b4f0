"""Globals: 16-byte slots, inline in the defining VMContext or owned by the host."""

from __future__ import annotations

from .. import vmoffsets as vo
from . import sysmem
from .values import V128

_M64 = 0xFFFFFFFFFFFFFFFF


class RuntimeGlobal:
    __slots__ = ("valtype", "mutable", "addr", "owner", "__weakref__")

    def __init__(self, valtype: int, mutable: bool, addr: int | None = None, owner=None):
        self.valtype = valtype
        self.mutable = mutable
        if addr is None:
            owner = sysmem.Buffer(vo.GLOBAL_SIZE)
            addr = owner.addr
        self.addr = addr
        self.owner = owner   # keeps the memory holding the slot alive

    def get_raw(self) -> int:
        lo = sysmem.read_u64(self.addr)
        if self.valtype == V128:
            return lo | (sysmem.read_u64(self.addr + 8) << 64)
        return lo

    def set_raw(self, raw: int) -> None:
        sysmem.write_u64(self.addr, raw & _M64)
        sysmem.write_u64(self.addr + 8, (raw >> 64) & _M64 if self.valtype == V128 else 0)
