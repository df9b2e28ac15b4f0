"""Module: decoded, validated and compiled once; instantiated any number of times."""

from __future__ import annotations

import os
import struct
from typing import Union

from ..compiled import EPOCH_DEADLINE, EPOCH_INTERRUPT, CompiledModule
from ..errors import MalformedError, TypeCheckError, WasmError
from ..wasm.binary import decode_module
from ..wasm.types import EXTERN_FUNC, EXTERN_MEMORY, EXTERN_TABLE
from ..wasm.validate import validate_module
from . import compiler
from .engine import Engine
from .types import ExportType, FuncType, GlobalType, ImportType, Limits, MemoryType, TableType, ValType

_SER_MAGIC = b"PYWMOD\x00\x02"
_HEADER = struct.Struct("<8sIIQ")      # magic, flags, reserved, length of the Wasm binary
_FLAG_FUEL = 1                         # compiled with fuel checks (Config.consume_fuel)
_FLAG_EPOCH = 2                        # compiled with epoch-deadline checks (any config may run it)
_FLAG_INTERRUPT = 4                    # compiled with the Ctrl-C-only check (not for epoch_interruption)
_FLAG_GUARD = 8                        # no bounds checks: needs guarded memories (engine.heap_guard)


def _to_binary(wasm) -> bytes:
    if isinstance(wasm, str):
        from ..wasm.text import wat2wasm
        return wat2wasm(wasm)
    if isinstance(wasm, (bytes, bytearray, memoryview)):
        wasm = bytes(wasm)
        if wasm[:4] != b"\0asm":
            try:
                text = wasm.decode("utf-8")
            except UnicodeDecodeError:
                return wasm       # let the decoder report it
            from ..wasm.text import wat2wasm
            return wat2wasm(text)
        return wasm
    raise TypeCheckError("expected bytes (binary or text) or str (text)")


class Module:
    """A compiled module. ``Module(engine, wasm)`` takes binary or text."""

    def __init__(self, engine: Engine, wasm: Union[bytes, bytearray, str]):
        if not isinstance(engine, Engine):
            raise TypeCheckError("expected an Engine")
        binary = _to_binary(wasm)
        m = decode_module(binary)
        compiled = compiler.compile_module(m, engine.config)     # validates as it compiles
        self._setup(engine, binary, m, compiled)

    def _setup(self, engine, binary, m, compiled):
        self.engine = engine
        self._binary = binary
        self._module = m
        self._compiled = compiled
        self._plan = compiler.make_plan(m, compiled)

    @classmethod
    def from_file(cls, engine: Engine, path: Union[str, bytes, os.PathLike]) -> "Module":
        with open(path, "rb") as f:
            return cls(engine, f.read())

    @classmethod
    def validate(cls, engine: Engine, wasm: Union[bytes, bytearray]) -> None:
        """Raise unless ``wasm`` decodes and validates (no compilation)."""
        validate_module(decode_module(_to_binary(wasm)))

    # --- serialization ---------------------------------------------------------
    def serialize(self) -> bytearray:
        """Machine code and module, loadable by :meth:`deserialize` without compiling."""
        code = self._compiled.serialize()
        cfg = self.engine.config
        mode = self._compiled.features.get("epoch", 0)
        flags = (_FLAG_FUEL if cfg.consume_fuel else 0) | \
            (_FLAG_EPOCH if mode == EPOCH_DEADLINE else _FLAG_INTERRUPT if mode == EPOCH_INTERRUPT else 0) | \
            (_FLAG_GUARD if self._compiled.features.get("heap_guard") else 0)
        return bytearray(_HEADER.pack(_SER_MAGIC, flags, 0, len(self._binary)) + self._binary + code)

    @classmethod
    def deserialize(cls, engine: Engine, encoded: Union[bytes, bytearray]) -> "Module":
        data = bytes(encoded)
        if len(data) < _HEADER.size or data[:8] != _SER_MAGIC:
            raise WasmError("not a serialized pywinch module (or one of another version)")
        _, flags, _, n = _HEADER.unpack_from(data)
        h = _HEADER.size
        if h + n > len(data):
            raise WasmError("serialized module is truncated")
        if bool(flags & _FLAG_FUEL) != bool(engine.config.consume_fuel):
            raise WasmError("serialized module was compiled with a different Config.consume_fuel "
                            "than this engine's")
        if engine.config.epoch_interruption and not flags & _FLAG_EPOCH:
            raise WasmError("serialized module was compiled without the epoch checks "
                            "Config.epoch_interruption needs")
        guard = 0
        if flags & _FLAG_GUARD:
            # The code has no bounds checks: only guarded memories keep it in bounds.
            from ..runtime.memory import GUARDED, HEAP_GUARD
            if not GUARDED:
                raise WasmError("serialized module was compiled for guarded memories "
                                "(Config.signals_based_traps), which this process does not have")
            guard = HEAP_GUARD
        binary = data[h:h + n]
        compiled = CompiledModule.deserialize(data[h + n:])
        try:
            m = decode_module(binary)
        except MalformedError as e:
            raise WasmError(f"serialized module is corrupt: {e}") from None
        if len(compiled.func_offsets) != len(m.funcs):
            raise WasmError("serialized module is corrupt: code does not match the module")
        mod = cls.__new__(cls)
        mod._setup(engine, binary, m, compiled)
        return mod

    @classmethod
    def deserialize_file(cls, engine: Engine, path: str) -> "Module":
        with open(path, "rb") as f:
            return cls.deserialize(engine, f.read())

    def __reduce__(self):
        return (_unpickle, (bytes(self.serialize()),))

    # --- types -------------------------------------------------------------------
    def _extern_type(self, kind, t):
        m = self._module
        if kind == EXTERN_FUNC:
            ft = m.types[t] if isinstance(t, int) else t
            return FuncType._from_key((ft.params, ft.results))
        if kind == EXTERN_TABLE:
            return TableType(ValType(t.elem), Limits(t.limits.min, t.limits.max))
        if kind == EXTERN_MEMORY:
            return MemoryType(Limits(t.limits.min, t.limits.max), bool(getattr(t, "is64", False)))
        return GlobalType(ValType(t.valtype), t.mutable)

    @property
    def imports(self) -> list[ImportType]:
        return [ImportType(i.module, i.name, self._extern_type(i.kind, i.type)) for i in self._module.imports]

    @property
    def exports(self) -> list[ExportType]:
        m = self._module
        out = []
        for e in m.exports:
            t = m.func_types[e.index] if e.kind == EXTERN_FUNC else m.extern_type(e.kind, e.index)
            out.append(ExportType(e.name, self._extern_type(e.kind, t)))
        return out

    @property
    def name(self):
        return self._module.names.module

    @property
    def compiled(self) -> CompiledModule:
        return self._compiled


def _unpickle(data: bytes) -> Module:
    fuel = len(data) >= _HEADER.size and bool(_HEADER.unpack_from(data)[1] & _FLAG_FUEL)
    return Module.deserialize(Engine.default(consume_fuel=fuel), data)
