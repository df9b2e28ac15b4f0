"""The decoded module: what binary.py produces and everything else consumes.

Index spaces follow the specification: imported entities come first, then the
module's own.  ``Module.func_types`` (one type index per function of the whole
index space), ``table_types``, ``memory_types`` and ``global_types`` are those
spaces ready to index; ``func_type(i)`` gives the ``FuncType`` of function
``i`` (valid once the module validated).

Function bodies stay bytes until asked for: ``Module.codes[i]`` is a
``FunctionBody`` (locals and the byte range of its instructions) and
``Module.operators(body)`` decodes them as the operator stream.

Constant expressions (global initializers, segment offsets and element items)
are decoded eagerly as ``ConstExpr`` (the operators before the final ``end``),
so that instantiation evaluates them without touching the bytes again.
"""

from __future__ import annotations

from .operators import read_operators
from .types import (EXTERN_FUNC, EXTERN_GLOBAL, EXTERN_MEMORY, EXTERN_TABLE, FuncType,
                    GlobalType, MemoryType, TableType)

MODE_ACTIVE = "active"
MODE_PASSIVE = "passive"
MODE_DECLARATIVE = "declarative"


class Import:
    """``type`` is a type index (int) for a function import, else the
    TableType / MemoryType / GlobalType."""

    __slots__ = ("module", "name", "kind", "type", "offset")

    def __init__(self, module: str, name: str, kind: int, type, offset: int):
        self.module = module
        self.name = name
        self.kind = kind
        self.type = type
        self.offset = offset

    def __repr__(self):
        return f"Import({self.module!r}, {self.name!r}, kind={self.kind}, {self.type!r})"


class Export:
    __slots__ = ("name", "kind", "index", "offset")

    def __init__(self, name: str, kind: int, index: int, offset: int):
        self.name = name
        self.kind = kind
        self.index = index
        self.offset = offset

    def __repr__(self):
        return f"Export({self.name!r}, kind={self.kind}, index={self.index})"


class ConstExpr:
    """``ops``: the ``(code, imm, offset)`` operators before the final end."""

    __slots__ = ("ops", "offset")

    def __init__(self, ops: tuple, offset: int):
        self.ops = ops
        self.offset = offset

    def __repr__(self):
        return f"ConstExpr({[(c, i) for c, i, _ in self.ops]!r})"


class Global:
    __slots__ = ("type", "init")

    def __init__(self, type: GlobalType, init: ConstExpr):
        self.type = type
        self.init = init


class Element:
    """An element segment.  ``items`` holds function indices when
    ``uses_exprs`` is false, else ``ConstExpr``s.  ``table`` and ``offset``
    matter for active segments only."""

    __slots__ = ("mode", "table", "offset", "type", "items", "uses_exprs", "pos")

    def __init__(self, mode, table, offset, type, items, uses_exprs, pos):
        self.mode = mode
        self.table = table
        self.offset = offset
        self.type = type
        self.items = items
        self.uses_exprs = uses_exprs
        self.pos = pos


class Data:
    """A data segment; ``data`` is a slice (bytes) of the module."""

    __slots__ = ("mode", "memory", "offset", "data", "pos")

    def __init__(self, mode, memory, offset, data, pos):
        self.mode = mode
        self.memory = memory
        self.offset = offset
        self.data = data
        self.pos = pos


class FunctionBody:
    """One entry of the code section.  ``locals`` is the compressed list of
    ``(count, type)``; ``local_types`` expands it (parameters not included);
    instructions span ``data[start:end]``; ``offset`` is where the entry's
    size field starts."""

    __slots__ = ("locals", "num_locals", "start", "end", "offset")

    def __init__(self, locals, num_locals, start, end, offset):
        self.locals = locals
        self.num_locals = num_locals
        self.start = start
        self.end = end
        self.offset = offset

    @property
    def local_types(self) -> list:
        out = []
        for count, t in self.locals:
            out.extend([t] * count)
        return out


class Names:
    """What the ``name`` custom section says; all parts optional."""

    __slots__ = ("module", "functions", "locals")

    def __init__(self):
        self.module: str | None = None
        self.functions: dict[int, str] = {}
        self.locals: dict[int, dict[int, str]] = {}


class CustomSection:
    __slots__ = ("name", "data", "offset")

    def __init__(self, name: str, data: bytes, offset: int):
        self.name = name
        self.data = data
        self.offset = offset


class Module:
    """A decoded (not yet validated) WebAssembly module."""

    def __init__(self, data: bytes):
        self.data = data
        self.types: list[FuncType] = []
        self.imports: list[Import] = []
        self.funcs: list[int] = []            # type index of each defined function
        self.tables: list[TableType] = []     # defined tables
        self.memories: list[MemoryType] = []  # defined memories
        self.globals: list[Global] = []       # defined globals
        self.exports: list[Export] = []
        self.start: int | None = None
        self.start_offset: int = 0
        self.elements: list[Element] = []
        self.datas: list[Data] = []
        self.data_count: int | None = None
        self.codes: list[FunctionBody] = []
        self.customs: list[CustomSection] = []
        self.names = Names()
        self.code_section_size = 0
        # Index spaces, completed by finish().
        self.func_types: list[int] = []
        self.table_types: list[TableType] = []
        self.memory_types: list[MemoryType] = []
        self.global_types: list[GlobalType] = []
        self.num_imported_funcs = 0
        self.num_imported_tables = 0
        self.num_imported_memories = 0
        self.num_imported_globals = 0

    def finish(self) -> None:
        """Build the index spaces from the imports and definitions."""
        ft, tt, mt, gt = [], [], [], []
        for imp in self.imports:
            k = imp.kind
            if k == EXTERN_FUNC:
                ft.append(imp.type)
            elif k == EXTERN_TABLE:
                tt.append(imp.type)
            elif k == EXTERN_MEMORY:
                mt.append(imp.type)
            else:
                gt.append(imp.type)
        self.num_imported_funcs = len(ft)
        self.num_imported_tables = len(tt)
        self.num_imported_memories = len(mt)
        self.num_imported_globals = len(gt)
        ft.extend(self.funcs)
        tt.extend(self.tables)
        mt.extend(self.memories)
        gt.extend(g.type for g in self.globals)
        self.func_types, self.table_types, self.memory_types, self.global_types = ft, tt, mt, gt

    # --- queries ---------------------------------------------------------------
    @property
    def num_funcs(self) -> int:
        return len(self.func_types)

    def func_type(self, func_index: int) -> FuncType:
        return self.types[self.func_types[func_index]]

    def extern_type(self, kind: int, index: int):
        """The type of entity ``index`` of ``kind``: FuncType, TableType, MemoryType or GlobalType."""
        if kind == EXTERN_FUNC:
            return self.func_type(index)
        if kind == EXTERN_TABLE:
            return self.table_types[index]
        if kind == EXTERN_MEMORY:
            return self.memory_types[index]
        if kind == EXTERN_GLOBAL:
            return self.global_types[index]
        raise ValueError(f"extern kind {kind}")

    def operators(self, body: FunctionBody):
        """The operator stream of ``body`` (see operators.py)."""
        return read_operators(self.data, body.start, body.end)
