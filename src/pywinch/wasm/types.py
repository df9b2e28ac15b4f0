"""WebAssembly 2.0 types as the front end and the compiler see them.

Value types are small ints, their binary encodings, so a decoded byte *is* the
type and a type comparison is an int comparison:

    I32 = 0x7F   I64 = 0x7E   F32 = 0x7D   F64 = 0x7C   V128 = 0x7B
    FUNCREF = 0x70   EXTERNREF = 0x6F

``type_name(t)`` gives the text-format name.  ``FuncType``, ``Limits``,
``TableType``, ``MemoryType`` and ``GlobalType`` are immutable, hashable and
compare by value (``FuncType`` is the key of the engine-wide type ids).

External kinds (imports, exports) are ``EXTERN_FUNC`` .. ``EXTERN_GLOBAL``
(0..3, their binary encodings).
"""

from __future__ import annotations

I32 = 0x7F
I64 = 0x7E
F32 = 0x7D
F64 = 0x7C
V128 = 0x7B
FUNCREF = 0x70
EXTERNREF = 0x6F

VALTYPES = frozenset((I32, I64, F32, F64, V128, FUNCREF, EXTERNREF))

_NAMES = {I32: "i32", I64: "i64", F32: "f32", F64: "f64", V128: "v128",
          FUNCREF: "funcref", EXTERNREF: "externref"}
BY_NAME = {v: k for k, v in _NAMES.items()}

EXTERN_FUNC = 0
EXTERN_TABLE = 1
EXTERN_MEMORY = 2
EXTERN_GLOBAL = 3
EXTERN_NAMES = ("func", "table", "memory", "global")

MAX_PAGES = 65536          # 4 GiB of 64 KiB pages: the 2.0 memory32 limit
PAGE_SIZE = 65536


def type_name(t: int) -> str:
    """The text-format name of value type ``t`` (``"i32"``, ``"funcref"``...)."""
    name = _NAMES.get(t)
    return name if name is not None else f"<type {t:#x}>"


class FuncType:
    """A function signature: ``params`` and ``results`` are tuples of value types."""

    __slots__ = ("params", "results", "_hash")

    def __init__(self, params, results):
        self.params = tuple(params)
        self.results = tuple(results)
        self._hash = hash((self.params, self.results))

    def __eq__(self, other):
        return (self is other or isinstance(other, FuncType)
                and self.params == other.params and self.results == other.results)

    def __hash__(self):
        return self._hash

    def __repr__(self):
        p = " ".join(map(type_name, self.params))
        r = " ".join(map(type_name, self.results))
        return f"FuncType([{p}] -> [{r}])"


class Limits:
    """``min`` and optional ``max`` (None when absent), in pages or elements."""

    __slots__ = ("min", "max")

    def __init__(self, min: int, max: int | None = None):
        self.min = min
        self.max = max

    def __eq__(self, other):
        return isinstance(other, Limits) and self.min == other.min and self.max == other.max

    def __hash__(self):
        return hash((self.min, self.max))

    def __repr__(self):
        return f"Limits({self.min}, {self.max})"


class TableType:
    __slots__ = ("elem", "limits")

    def __init__(self, elem: int, limits: Limits):
        self.elem = elem
        self.limits = limits

    def __eq__(self, other):
        return isinstance(other, TableType) and self.elem == other.elem and self.limits == other.limits

    def __hash__(self):
        return hash((self.elem, self.limits))

    def __repr__(self):
        return f"TableType({type_name(self.elem)}, {self.limits!r})"


class MemoryType:
    __slots__ = ("limits",)

    def __init__(self, limits: Limits):
        self.limits = limits

    def __eq__(self, other):
        return isinstance(other, MemoryType) and self.limits == other.limits

    def __hash__(self):
        return hash(self.limits)

    def __repr__(self):
        return f"MemoryType({self.limits!r})"


class GlobalType:
    __slots__ = ("valtype", "mutable")

    def __init__(self, valtype: int, mutable: bool):
        self.valtype = valtype
        self.mutable = bool(mutable)

    def __eq__(self, other):
        return (isinstance(other, GlobalType) and self.valtype == other.valtype
                and self.mutable == other.mutable)

    def __hash__(self):
        return hash((self.valtype, self.mutable))

    def __repr__(self):
        return f"GlobalType({type_name(self.valtype)}, {'mut' if self.mutable else 'const'})"
