"""Config and Engine (wasmtime-py names)."""

from __future__ import annotations

import threading

from ..errors import TypeCheckError, UnsupportedError, WasmError
from ..runtime.store import EngineState

# Feature switches a user may set, with their defaults (Wasmtime 50's).
_FEATURES = {
    "wasm_simd": True, "wasm_multi_value": True, "wasm_bulk_memory": True,
    "wasm_reference_types": True, "wasm_tail_call": False, "wasm_multi_memory": False,
    "wasm_memory64": False, "wasm_threads": False, "wasm_relaxed_simd": False,
    "wasm_relaxed_simd_deterministic": False, "wasm_exceptions": False,
    "wasm_function_references": False, "wasm_gc": False, "wasm_wide_arithmetic": False,
    "wasm_custom_page_sizes": False, "wasm_component_model": False, "wasm_stack_switching": False,
    "wasm_extended_const": True,
}
_OTHER = {
    "consume_fuel": False, "epoch_interruption": False, "max_wasm_stack": 512 * 1024,
    "debug_info": False, "cranelift_debug_verifier": False, "cranelift_opt_level": "speed",
    "profiler": "none", "cache": False, "parallel_compilation": True, "strategy": "winch",
    "shared_memory": False, "gc_support": False, "cranelift_nan_canonicalization": False,
    "memory_may_move": False, "memory_reservation": 8 << 30, "memory_guard_size": 0,
    "memory_reservation_for_growth": 0, "native_unwind_info": False, "macos_use_mach_ports": False,
    # On (where supported: Linux x86-64): 32-bit memories are guarded and
    # compiled code has no explicit bounds checks (see heap_guard below).
    "signals_based_traps": True, "memory_init_cow": False, "target": None,
    # pywinch's own: compile the epoch checks that let Ctrl-C stop a running call
    # even without epoch_interruption (they cost 5-10% in tight loops).
    "interruptible": True,
}


class Config:
    """Engine settings. Every attribute is write-only in wasmtime-py; here they are also readable."""

    def __init__(self):
        object.__setattr__(self, "_values", {**_FEATURES, **_OTHER})
        object.__setattr__(self, "_frozen", False)

    def __setattr__(self, name, value):
        if name not in self._values:
            raise AttributeError(f"Config has no setting {name!r}")
        if self._frozen:
            raise WasmError("a Config cannot be changed once an Engine uses it")
        if name == "strategy" and value not in ("auto", "winch", "cranelift", "pywinch"):
            raise WasmError(f"unknown compilation strategy {value!r}")
        if name == "max_wasm_stack":
            if not isinstance(value, int) or value <= 0:
                raise WasmError("max_wasm_stack must be a positive integer")
            if value < 16 * 1024:
                raise WasmError("max_wasm_stack must be at least 16 KiB")
        if name in ("wasm_threads", "wasm_gc", "wasm_exceptions", "wasm_component_model",
                    "wasm_stack_switching", "shared_memory", "wasm_function_references") and value:
            raise UnsupportedError(f"{name} is not supported yet")
        self._values[name] = value

    def __getattr__(self, name):
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def cranelift_flag_enable(self, flag: str) -> None:
        pass

    def cranelift_flag_set(self, key: str, value: str) -> None:
        pass

    def features(self) -> dict:
        return {k: self._values[k] for k in _FEATURES}


def heap_guard(config: Config) -> int:
    """Guard bytes past a 32-bit memory's 4 GiB index space that code compiled
    under ``config`` may rely on instead of bounds checks: masm.HEAP_GUARD when
    Config.signals_based_traps is on and this process guards its memories
    (runtime/memory.py, runtime/faults.py), else 0 (explicit checks).
    memory_reservation and memory_guard_size are accepted and ignored: every
    guarded memory reserves 4 GiB + HEAP_GUARD."""
    from ..runtime.memory import GUARDED, HEAP_GUARD
    return HEAP_GUARD if GUARDED and config.signals_based_traps else 0


class Engine:
    """Compilation settings and code shared by stores; ``increment_epoch`` works from any thread."""

    _defaults: dict = {}
    _default_lock = threading.Lock()

    def __init__(self, config: Config | None = None):
        if config is None:
            config = Config()
        elif not isinstance(config, Config):
            raise TypeCheckError("expected a Config")
        object.__setattr__(config, "_frozen", True)
        self.config = config
        self._state = EngineState(epoch_interruption=bool(config.epoch_interruption),
                                  consume_fuel=bool(config.consume_fuel),
                                  max_wasm_stack=config.max_wasm_stack)
        self._w2n: dict[tuple, int] = {}
        self._w2n_code: list = []
        self._lock = threading.Lock()

    def increment_epoch(self) -> None:
        self._state.increment_epoch()

    def is_pulley(self) -> bool:
        return False

    @classmethod
    def default(cls, consume_fuel: bool = False) -> "Engine":
        """A process-wide engine with the default Config (used when unpickling modules)."""
        with cls._default_lock:
            e = cls._defaults.get(consume_fuel)
            if e is None:
                config = Config()
                config.consume_fuel = consume_fuel
                e = cls._defaults[consume_fuel] = cls(config)
            return e

    def _wasm_to_native(self, key: tuple) -> int:
        """Address of the wasm-to-native trampoline for signature ``key`` (engine-wide cache)."""
        addr = self._w2n.get(key)
        if addr is not None:
            return addr
        with self._lock:
            addr = self._w2n.get(key)
            if addr is None:
                from . import compiler
                mem, addr = compiler.wasm_to_native(key)
                self._w2n_code.append(mem)
                self._w2n[key] = addr
        return addr
