"""pywinch: a WebAssembly runtime whose engine is a single-pass x86-64 compiler.

The API mirrors wasmtime-py's core (see docs/api.md)::

    import pywinch as wasm
    engine = wasm.Engine()
    store = wasm.Store(engine)
    module = wasm.Module(engine, '(module (func (export "add") (param i32 i32) (result i32)'
                                 ' local.get 0 local.get 1 i32.add))')
    instance = wasm.Instance(store, module, [])
    instance.exports(store)["add"](store, 1, 2)   # 3
"""

from .errors import (
    WasmError, ModuleError, MalformedError, InvalidError, WatError, UnsupportedError,
    CompileError, AssemblerError, LinkError, InstantiationError, TypeCheckError, MemoryBoundsError,
    Trap, TrapCode, ExitTrap,
)
from .api import (
    Config, Engine, Store, Module, Instance, InstanceExports, Linker, Func, Caller, Memory, Table,
    Global, FuncType, ValType, Val, MemoryType, TableType, GlobalType, Limits, ImportType, ExportType,
)
from .runtime.traps import Frame

# wasmtime-py's name for the common base class.
WasmtimeError = WasmError


def __getattr__(name):
    # WASI lives in its own layer; import it only when asked for.
    if name == "WasiConfig":
        from .api.wasi import WasiConfig
        return WasiConfig
    if name == "wat2wasm":          # wasmtime.wat2wasm; the text parser loads on first use
        from .wasm.text import wat2wasm
        return wat2wasm
    raise AttributeError(f"module 'pywinch' has no attribute {name!r}")


__version__ = "0.1.0"
