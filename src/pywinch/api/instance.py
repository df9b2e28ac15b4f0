"""Instance and its exports."""

from __future__ import annotations

from typing import Iterator, Mapping, Sequence

from ..errors import TypeCheckError, WasmError
from ..runtime.instance import instantiate
from .extern import unwrap_extern, wrap_extern
from .func import Caller
from .module import Module
from .store import Store


def _run_start(store):
    def call_start(inst, funcref):
        store._wrap_func(funcref)._call(store, ())
    return call_start


class Instance:
    """``Instance(store, module, imports)``: imports are Func/Memory/Table/Global in import order."""

    __slots__ = ("_store", "_module", "_inst", "_exports", "__weakref__")

    def __init__(self, store, module, imports: Sequence):
        if isinstance(store, Caller):
            store = store._store
        if not isinstance(store, Store):
            raise TypeCheckError("expected a Store")
        if not isinstance(module, Module):
            raise TypeCheckError("expected a Module")
        if module.engine is not store.engine and \
                bool(module.engine.config.consume_fuel) != bool(store.engine.config.consume_fuel):
            raise WasmError("the module and the store come from engines with different consume_fuel settings")
        try:
            externs = [unwrap_extern(store, i) for i in imports]
        except TypeError as e:
            raise TypeCheckError(str(e)) from None
        self._store = store
        self._module = module
        self._exports = None
        self._inst = instantiate(store._state, module._plan, externs, _run_start(store))

    def exports(self, store=None) -> "InstanceExports":
        if self._exports is None:
            self._exports = InstanceExports(self._store, self._inst)
        return self._exports


class InstanceExports(Mapping):
    """Exports by name (``exports["add"]``) and by index (``exports[0]``, ``by_index``)."""

    def __init__(self, store, inst):
        self._map = {}
        seq = []
        for name, ext in inst.export_list:
            obj = wrap_extern(store, ext)
            self._map[name] = obj
            seq.append(obj)
        self._seq = tuple(seq)

    @property
    def by_index(self) -> Sequence:
        return self._seq

    def __getitem__(self, key):
        if isinstance(key, int):
            return self._seq[key]
        return self._map[key]

    def __len__(self) -> int:
        return len(self._seq)

    def __iter__(self) -> Iterator[str]:
        return iter(self._map)
