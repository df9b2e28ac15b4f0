"""pywinch: a WebAssembly runtime whose engine is a single-pass x86-64 compiler."""

from .errors import (
    WasmError, ModuleError, MalformedError, InvalidError, WatError, UnsupportedError,
    CompileError, AssemblerError, LinkError, InstantiationError, TypeCheckError,
    Trap, TrapCode, ExitTrap,
)

__version__ = "0.1.0"
