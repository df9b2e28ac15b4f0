"""The public API, mirroring wasmtime-py's core names and semantics.

Everything is re-exported from the package top level (``import pywinch``).
"""

from .engine import Config, Engine
from .extern import Global, Memory, Table
from .func import Caller, Func
from .instance import Instance, InstanceExports
from .linker import Linker
from .module import Module
from .store import Store
from .types import (ExportType, FuncType, GlobalType, ImportType, Limits, MemoryType, TableType,
                    ValType)
from .values import Val

__all__ = [
    "Config", "Engine", "Store", "Module", "Instance", "InstanceExports", "Linker", "Func", "Caller",
    "Memory", "Table", "Global", "FuncType", "ValType", "Val", "MemoryType", "TableType",
    "GlobalType", "Limits", "ImportType", "ExportType",
]
