"""Type objects of the public API (wasmtime-py names and semantics)."""

from __future__ import annotations

from typing import Optional

from ..errors import TypeCheckError, WasmError
from ..runtime import values as rv


class ValType:
    """A value type. Compare with ``==``; create with ``ValType.i32()`` etc."""

    __slots__ = ("_code",)
    _cache: dict = {}

    def __new__(cls, code: int):
        inst = cls._cache.get(code)
        if inst is None:
            if code not in rv.NAMES:
                raise WasmError(f"unknown value type {code:#x}")
            inst = object.__new__(cls)
            inst._code = code
            cls._cache[code] = inst
        return inst

    @classmethod
    def i32(cls) -> "ValType":
        return cls(rv.I32)

    @classmethod
    def i64(cls) -> "ValType":
        return cls(rv.I64)

    @classmethod
    def f32(cls) -> "ValType":
        return cls(rv.F32)

    @classmethod
    def f64(cls) -> "ValType":
        return cls(rv.F64)

    @classmethod
    def v128(cls) -> "ValType":
        return cls(rv.V128)

    @classmethod
    def externref(cls) -> "ValType":
        return cls(rv.EXTERNREF)

    @classmethod
    def funcref(cls) -> "ValType":
        return cls(rv.FUNCREF)

    def __eq__(self, other) -> bool:
        return isinstance(other, ValType) and other._code == self._code

    def __hash__(self) -> int:
        return hash(self._code)

    def __str__(self) -> str:
        return rv.NAMES[self._code]

    def __repr__(self) -> str:
        return f"ValType.{rv.NAMES[self._code]}()"

    def __reduce__(self):
        return (ValType, (self._code,))


def _valtype(t) -> ValType:
    if isinstance(t, ValType):
        return t
    if isinstance(t, int):
        return ValType(t)
    if isinstance(t, str) and t in rv.BY_NAME:
        return ValType(rv.BY_NAME[t])
    raise TypeCheckError(f"expected a ValType, got {t!r}")


class FuncType:
    __slots__ = ("_params", "_results", "_key")

    def __init__(self, params, results):
        self._params = tuple(_valtype(p) for p in params)
        self._results = tuple(_valtype(r) for r in results)
        self._key = (tuple(p._code for p in self._params), tuple(r._code for r in self._results))

    @classmethod
    def _from_key(cls, key) -> "FuncType":
        ft = object.__new__(cls)
        ft._params = tuple(ValType(c) for c in key[0])
        ft._results = tuple(ValType(c) for c in key[1])
        ft._key = (tuple(key[0]), tuple(key[1]))
        return ft

    @property
    def params(self) -> list[ValType]:
        return list(self._params)

    @property
    def results(self) -> list[ValType]:
        return list(self._results)

    def __eq__(self, other) -> bool:
        return isinstance(other, FuncType) and other._key == self._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        p = ", ".join(map(str, self._params))
        r = ", ".join(map(str, self._results))
        return f"FuncType([{p}] -> [{r}])"

    def __reduce__(self):
        return (FuncType._from_key, (self._key,))


class Limits:
    def __init__(self, min: int, max: Optional[int]):
        self.min = min
        self.max = max

    def __eq__(self, other) -> bool:
        return isinstance(other, Limits) and self.min == other.min and self.max == other.max

    def __repr__(self) -> str:
        return f"Limits({self.min}, {self.max})"


class GlobalType:
    __slots__ = ("_content", "_mutable")

    def __init__(self, valtype: ValType, mutable: bool):
        self._content = _valtype(valtype)
        self._mutable = bool(mutable)

    @property
    def content(self) -> ValType:
        return self._content

    @property
    def mutable(self) -> bool:
        return self._mutable

    def __eq__(self, other) -> bool:
        return isinstance(other, GlobalType) and (self._content, self._mutable) == (other._content, other._mutable)

    def __repr__(self) -> str:
        return f"GlobalType({self._content}, mutable={self._mutable})"


class TableType:
    __slots__ = ("_element", "_limits")

    def __init__(self, valtype: ValType, limits: Limits):
        if not isinstance(limits, Limits):
            raise TypeCheckError("expected Limits")
        vt = _valtype(valtype)
        if vt._code not in rv.REF_TYPES:
            raise WasmError("table element type must be a reference type")
        if limits.min >= 1 << 32 or (limits.max is not None and limits.max >= 1 << 32):
            raise WasmError("table size too large")
        self._element = vt
        self._limits = Limits(limits.min, limits.max)

    @property
    def element(self) -> ValType:
        return self._element

    @property
    def limits(self) -> Limits:
        return Limits(self._limits.min, self._limits.max)

    def __eq__(self, other) -> bool:
        return isinstance(other, TableType) and self._element == other._element and self._limits == other._limits

    def __repr__(self) -> str:
        return f"TableType({self._element}, {self._limits})"


class MemoryType:
    __slots__ = ("_limits", "_is_64", "_shared")

    def __init__(self, limits: Limits, is_64: bool = False, shared: bool = False, page_size_log2: int = 16):
        if not isinstance(limits, Limits):
            raise TypeCheckError("expected Limits")
        maximum = (1 << 48) if is_64 else 0x10000
        if limits.min > maximum:
            raise WasmError("minimum size too large")
        if limits.max is not None and limits.max > maximum:
            raise WasmError("maximum size too large")
        if limits.max is not None and limits.max < limits.min:
            raise WasmError("maximum size is smaller than the minimum")
        if shared:
            from ..errors import UnsupportedError
            raise UnsupportedError("shared memories are not supported yet")
        if page_size_log2 != 16:
            from ..errors import UnsupportedError
            raise UnsupportedError("custom page sizes are not supported yet")
        self._limits = Limits(limits.min, limits.max)
        self._is_64 = bool(is_64)
        self._shared = False

    @property
    def limits(self) -> Limits:
        return Limits(self._limits.min, self._limits.max)

    @property
    def is_64(self) -> bool:
        return self._is_64

    @property
    def is_shared(self) -> bool:
        return self._shared

    @property
    def page_size(self) -> int:
        return 0x10000

    @property
    def page_size_log2(self) -> int:
        return 16

    def __eq__(self, other) -> bool:
        return isinstance(other, MemoryType) and self._limits == other._limits and self._is_64 == other._is_64

    def __repr__(self) -> str:
        return f"MemoryType({self._limits}, is_64={self._is_64})"


class ImportType:
    __slots__ = ("_module", "_name", "_type")

    def __init__(self, module: str, name: str, ty):
        self._module = module
        self._name = name
        self._type = ty

    @property
    def module(self) -> str:
        return self._module

    @property
    def name(self) -> Optional[str]:
        return self._name

    @property
    def type(self):
        return self._type

    def __repr__(self) -> str:
        return f"ImportType({self._module!r}, {self._name!r}, {self._type!r})"


class ExportType:
    __slots__ = ("_name", "_type")

    def __init__(self, name: str, ty):
        self._name = name
        self._type = ty

    @property
    def name(self) -> str:
        return self._name

    @property
    def type(self):
        return self._type

    def __repr__(self) -> str:
        return f"ExportType({self._name!r}, {self._type!r})"
