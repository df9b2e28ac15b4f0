"""Linker: names -> definitions, resolving a module's imports by name."""

from __future__ import annotations

from typing import Any, Callable

from ..errors import LinkError, TypeCheckError, WasmError
from .extern import Global, Memory, Table
from .func import Func
from .instance import Instance
from .types import FuncType


class _HostDef:
    """A store-independent function definition (define_func); one Func per store."""

    __slots__ = ("ty", "func", "access_caller", "__weakref__")

    def __init__(self, ty, func, access_caller):
        self.ty = ty
        self.func = func
        self.access_caller = access_caller

    def materialize(self, store) -> Func:
        # Cached in the store (not here): a cache keyed by store whose values
        # reference the store would keep every store alive.
        f = store._linker_cache.get(id(self))
        if f is None:
            f = Func(store, self.ty, self.func, self.access_caller)
            store._linker_cache[id(self)] = f
            store._state.keep.append(self)     # pins id(self) for the store's life
        return f


class Linker:
    def __init__(self, engine):
        from .engine import Engine
        if not isinstance(engine, Engine):
            raise TypeCheckError("expected an Engine")
        self.engine = engine
        self._defs: dict[tuple[str, str], Any] = {}
        self._allow_shadowing = False
        self._wasi = False

    @property
    def allow_shadowing(self) -> bool:
        return self._allow_shadowing

    @allow_shadowing.setter
    def allow_shadowing(self, allow: bool) -> None:
        self._allow_shadowing = bool(allow)

    def _insert(self, module: str, name: str, item) -> None:
        if not isinstance(module, str) or not isinstance(name, str):
            raise TypeCheckError("module and name must be str")
        key = (module, name)
        if key in self._defs and not self._allow_shadowing:
            raise WasmError(f"import of `{module}::{name}` defined twice")
        self._defs[key] = item

    def define(self, store, module: str, name: str, item) -> None:
        if not isinstance(item, (Func, Memory, Table, Global)):
            raise TypeCheckError(f"expected a Func, Memory, Table or Global, got {type(item).__name__}")
        self._insert(module, name, item)

    def define_func(self, module: str, name: str, ty: FuncType, func: Callable[..., Any],
                    access_caller: bool = False) -> None:
        if not isinstance(ty, FuncType):
            raise TypeCheckError("expected a FuncType")
        if not callable(func):
            raise TypeCheckError("expected a callable")
        self._insert(module, name, _HostDef(ty, func, access_caller))

    def define_instance(self, store, name: str, instance: Instance) -> None:
        if not isinstance(instance, Instance):
            raise TypeCheckError("expected an Instance")
        for export_name, item in instance.exports(store).items():
            self._insert(name, export_name, item)

    def define_module(self, store, name: str, module) -> None:
        self.define_instance(store, name, self.instantiate(store, module))

    def define_wasi(self) -> None:
        from .wasi import define_wasi
        define_wasi(self)
        self._wasi = True

    def _resolve(self, store, module: str, name: str):
        item = self._defs.get((module, name))
        if item is None:
            return None
        if isinstance(item, _HostDef):
            return item.materialize(store)
        if callable(getattr(item, "materialize", None)):
            return item.materialize(store)
        return item

    def instantiate(self, store, module) -> Instance:
        from .func import Caller
        if isinstance(store, Caller):
            store = store._store
        imports = []
        for imp in module.imports:
            item = self._resolve(store, imp.module, imp.name)
            if item is None:
                raise LinkError(f"unknown import: `{imp.module}::{imp.name}` has not been defined")
            imports.append(item)
        return Instance(store, module, imports)

    def instantiate_pre(self, module) -> "InstancePre":
        """Check now that every import is defined; instantiate later, in any store."""
        for imp in module.imports:
            if (imp.module, imp.name) not in self._defs:
                raise LinkError(f"unknown import: `{imp.module}::{imp.name}` has not been defined")
        return InstancePre(self, module)

    def get(self, store, module: str, name: str):
        item = self._resolve(store, module, name)
        if item is None:
            raise WasmError(f"no item named `{module}::{name}` in linker")
        return item

    def get_default(self, store, name: str) -> Func:
        item = self._defs.get((name, ""))
        if item is not None:
            return self._resolve(store, name, "")
        item = self._defs.get((name, "_start"))
        if item is not None:
            return self._resolve(store, name, "_start")
        return Func(store, FuncType([], []), lambda: None)

    def define_unknown_imports_as_traps(self, module) -> None:
        from ..errors import Trap, TrapCode
        for imp in module.imports:
            if (imp.module, imp.name) not in self._defs and isinstance(imp.type, FuncType):
                def trap(*args, _imp=imp):
                    raise Trap(TrapCode.UNREACHABLE, f"unknown import `{_imp.module}::{_imp.name}` called")
                self._insert(imp.module, imp.name, _HostDef(imp.type, trap, False))


class InstancePre:
    """A module whose imports a Linker resolved by name (``Linker.instantiate_pre``)."""

    def __init__(self, linker: Linker, module):
        self._linker = linker
        self._module = module

    def instantiate(self, store) -> Instance:
        return self._linker.instantiate(store, self._module)
