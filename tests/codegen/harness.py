"""A minimal runtime of the tests' own: enough to call compiled code without
pywinch's runtime (placing code with runtime.code, a vmctx and limits laid out
per vmoffsets, one linear memory, and the native-to-wasm trampoline through
ctypes).  It checks the compiler against the contract on its own."""

from __future__ import annotations

import ctypes

from pywinch import vmoffsets as vo
from pywinch.codegen import compile_module
from pywinch.errors import Trap
from pywinch.runtime.code import CodeMemory
from pywinch.wasm.binary import decode_module
from pywinch.wasm.text.wat import wat2wasm
from pywinch.wasm.types import EXTERN_FUNC, F32, F64, I32, I64

CTYPES = {I32: ctypes.c_int32, I64: ctypes.c_int64, F32: ctypes.c_float, F64: ctypes.c_double}


class Harness:
    def __init__(self, wat: str, *, fuel=False, epoch=False):
        self.module = m = decode_module(wat2wasm(wat))
        if m.num_imported_funcs or m.num_imported_memories or m.num_imported_tables or m.num_imported_globals:
            raise ValueError("the test harness does not link imports")
        self.compiled = compile_module(m, fuel=fuel, epoch=epoch)
        self.code = CodeMemory(self.compiled.code)
        self.vmo = vmo = vo.VMOffsets(
            num_types=len(m.types), num_defined_funcs=len(m.funcs), num_defined_tables=len(m.tables),
            num_defined_memories=len(m.memories), num_defined_globals=len(m.globals))
        self.limits = (ctypes.c_uint8 * vo.LIMITS_SIZE)()
        self.vmctx_buf = (ctypes.c_uint8 * (vmo.size + 16))()
        addr = ctypes.addressof(self.vmctx_buf)
        self.vmctx = (addr + 15) & -16
        self.epoch_counter = ctypes.c_uint64(0)
        self._set(self.vmctx + vo.VMCTX_LIMITS, ctypes.addressof(self.limits))
        self._set(ctypes.addressof(self.limits) + vo.LIMITS_EPOCH_COUNTER_PTR, ctypes.addressof(self.epoch_counter))
        self._set(ctypes.addressof(self.limits) + vo.LIMITS_EPOCH_DEADLINE, 1 << 63)
        for i in range(len(m.types)):
            ctypes.c_uint32.from_address(self.vmctx + vmo.type_id(i)).value = i
        self.memory = None
        if m.memories:
            size = m.memories[0].limits.min * 65536
            self.memory = (ctypes.c_uint8 * max(size, 1))()
            d = self.vmctx + vmo.memory_definition(0)
            self._set(d + vo.MEMORY_BASE, ctypes.addressof(self.memory))
            self._set(d + vo.MEMORY_LENGTH, size)
        self.exports = {e.name: e.index for e in m.exports if e.kind == EXTERN_FUNC}

    @staticmethod
    def _set(addr, value):
        ctypes.c_uint64.from_address(addr).value = value

    def _get(self, off):
        return ctypes.c_uint64.from_address(ctypes.addressof(self.limits) + off).value

    def set_fuel(self, remaining):
        ctypes.c_int64.from_address(ctypes.addressof(self.limits) + vo.LIMITS_FUEL_CONSUMED).value = -remaining

    def fuel_consumed(self):
        return ctypes.c_int64.from_address(ctypes.addressof(self.limits) + vo.LIMITS_FUEL_CONSUMED).value

    def call(self, name, *args):
        m = self.module
        fi = self.exports[name]
        ti = m.func_types[fi]
        ft = m.types[ti]
        _, native = self.compiled.trampolines[ti]
        restype = CTYPES[ft.results[0]] if ft.results else None
        proto = ctypes.CFUNCTYPE(restype, ctypes.c_uint64, ctypes.c_uint64, ctypes.c_uint64,
                                 *[CTYPES[p] for p in ft.params])
        fn = proto(self.code.addr + native)
        code = self.code.addr + self.compiled.func_offsets[fi - m.num_imported_funcs]
        ctypes.c_uint32.from_address(ctypes.addressof(self.limits) + vo.LIMITS_TRAP_CODE).value = 0
        r = fn(code, self.vmctx, self.vmctx, *args)
        tc = ctypes.c_uint32.from_address(ctypes.addressof(self.limits) + vo.LIMITS_TRAP_CODE).value
        if tc:
            pc = self._get(vo.LIMITS_TRAP_PC) - self.code.addr
            site = self.compiled.trap_at(pc)
            err = Trap(tc)
            err.site = site
            raise err
        return r
