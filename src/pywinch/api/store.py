"""Store: the unit of isolation owning instances, host functions and their state."""

from __future__ import annotations

import weakref
from typing import Any

from ..errors import TypeCheckError
from ..runtime import interrupt
from ..runtime.store import StoreState
from .engine import Engine


class Store:
    """Everything an instance creates lives as long as its Store (as in Wasmtime)."""

    def __init__(self, engine: Engine | None = None, data: Any = None):
        if engine is None:
            engine = Engine()
        elif not isinstance(engine, Engine):
            raise TypeCheckError("expected an Engine")
        self.engine = engine
        self._data = data
        self._state = st = StoreState(engine._state)
        # Weak back references: dropping the Store frees its memories at once,
        # without waiting for the cycle collector.
        me = weakref.ref(self)
        st.owner = me
        st.wrap_func = lambda addr: me()._wrap_func(addr)
        self._linker_cache: dict = {}
        self._wasi = None
        interrupt.watch(st)

    def _wrap_func(self, addr: int):
        if not addr:
            return None
        f = self._state.api_funcs.get(addr)
        if f is None:
            from .func import Func
            f = Func._from_funcref(self, addr)
        return f

    @property
    def data(self) -> Any:
        return self._data

    @data.setter
    def data(self, value: Any) -> None:
        self._data = value

    def gc(self) -> None:
        """Forget the externref values no table, global or segment of this store holds."""
        st = self._state
        if not st.in_wasm():
            st.collect_externs(st.next_handle)

    def set_fuel(self, fuel: int) -> None:
        if not self.engine.config.consume_fuel:
            from ..errors import WasmError
            raise WasmError("fuel is not configured in this store (Config.consume_fuel)")
        self._state.set_fuel(fuel)

    def get_fuel(self) -> int:
        if not self.engine.config.consume_fuel:
            from ..errors import WasmError
            raise WasmError("fuel is not configured in this store (Config.consume_fuel)")
        return self._state.get_fuel()

    def set_epoch_deadline(self, ticks_after_current: int) -> None:
        self._state.set_epoch_deadline(ticks_after_current)

    def set_limits(self, memory_size: int = -1, table_elements: int = -1, instances: int = -1,
                   tables: int = -1, memories: int = -1) -> None:
        lim = self._state.limiter
        if memory_size >= 0:
            lim.memory_size = memory_size
        if table_elements >= 0:
            lim.table_elements = table_elements
        if instances >= 0:
            lim.instances = instances
        if tables >= 0:
            lim.tables = tables
        if memories >= 0:
            lim.memories = memories

    def set_wasi(self, wasi) -> None:
        self._wasi = wasi

    def _store_state(self) -> StoreState:
        return self._state
