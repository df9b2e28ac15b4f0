"""The pywinch exception hierarchy.

Every failure pywinch reports derives from :class:`WasmError`, so a caller can
catch one type.  Malformed (cannot be decoded) and invalid (decodes but fails
validation) modules are distinct types, as the specification distinguishes them.
"""

from __future__ import annotations


class WasmError(Exception):
    """Base class of every pywinch error (wasmtime-py: ``WasmtimeError``)."""


class ModuleError(WasmError):
    """A module could not be accepted. ``offset`` is the byte offset, if known."""

    def __init__(self, message: str, offset: int | None = None):
        self.message = message
        self.offset = offset
        if offset is not None:
            super().__init__(f"{message} (at offset {offset:#x})")
        else:
            super().__init__(message)


class MalformedError(ModuleError):
    """The bytes (or text) are not a well-formed module."""


class InvalidError(ModuleError):
    """The module decodes but does not validate."""


class WatError(MalformedError):
    """Text-format syntax error, with line and column."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.line = line
        self.column = column
        where = f"{line}:{column}: " if line is not None else ""
        ModuleError.__init__(self, where + message)
        self.message = message


class UnsupportedError(WasmError):
    """A feature pywinch does not support yet."""


class CompileError(WasmError):
    """The compiler hit an internal limit or an unsupported construct."""


class AssemblerError(WasmError):
    """An instruction could not be encoded (bad operand, immediate out of range, unbound label)."""


class LinkError(WasmError):
    """Instantiation failed because imports do not match (``unlinkable``)."""


class InstantiationError(WasmError):
    """Instantiation failed at run time (segment out of bounds, start trapped)."""


class MemoryBoundsError(WasmError, IndexError):
    """A host-side read or write outside a linear memory or table (an
    ``IndexError`` too, as wasmtime-py raises there)."""


class TypeCheckError(WasmError, TypeError):
    """A Python value does not fit the Wasm type expected at the boundary."""


class TrapCode:
    """Trap codes as stored by compiled code in ``VMRuntimeLimits.trap_code``.

    The numbers are part of the runtime contract (docs/architecture.md); the
    messages are the specification's words, which ``assert_trap`` compares.
    """

    STACK_OVERFLOW = 1
    HEAP_OUT_OF_BOUNDS = 2
    TABLE_OUT_OF_BOUNDS = 3
    INDIRECT_CALL_TO_NULL = 4   # "uninitialized element"
    BAD_SIGNATURE = 5
    INTEGER_OVERFLOW = 6
    INTEGER_DIVISION_BY_ZERO = 7
    BAD_CONVERSION_TO_INTEGER = 8
    UNREACHABLE = 9
    INTERRUPT = 10
    OUT_OF_FUEL = 11
    UNDEFINED_ELEMENT = 12      # call_indirect index beyond the table
    NULL_REFERENCE = 13
    HOST_EXCEPTION = 14         # a host function raised; the exception is re-raised as is
    MEMORY_OUT_OF_BOUNDS = HEAP_OUT_OF_BOUNDS   # wasmtime-py's name for it

    MESSAGES = {
        STACK_OVERFLOW: "call stack exhausted",
        HEAP_OUT_OF_BOUNDS: "out of bounds memory access",
        TABLE_OUT_OF_BOUNDS: "out of bounds table access",
        INDIRECT_CALL_TO_NULL: "uninitialized element",
        BAD_SIGNATURE: "indirect call type mismatch",
        INTEGER_OVERFLOW: "integer overflow",
        INTEGER_DIVISION_BY_ZERO: "integer divide by zero",
        BAD_CONVERSION_TO_INTEGER: "invalid conversion to integer",
        UNREACHABLE: "unreachable",
        INTERRUPT: "interrupt",
        OUT_OF_FUEL: "all fuel consumed by WebAssembly",
        UNDEFINED_ELEMENT: "undefined element",
        NULL_REFERENCE: "null reference",
        HOST_EXCEPTION: "host function raised an exception",
    }


class Trap(WasmError):
    """Wasm code trapped. ``code`` is a :class:`TrapCode` number; ``frames`` the wasm backtrace."""

    def __init__(self, code: int | str | None = None, message: str | None = None, frames: list | None = None):
        if isinstance(code, str) and message is None:
            # wasmtime-py's Trap("message"): a trap raised by a host function, no code.
            code, message = None, code
        self.code = code
        self.message = message or TrapCode.MESSAGES.get(code, f"trap {code}")
        self.frames = list(frames or [])
        text = "wasm trap: " + self.message
        if self.frames:
            text += "\nwasm backtrace:\n" + "\n".join(f"  {i}: {f}" for i, f in enumerate(self.frames))
        super().__init__(text)

    @property
    def trap_code(self) -> int:
        return self.code

    def __reduce__(self):
        # Picklable with its code and frames (traps raised in worker processes).
        return (type(self), (self.code, self.message, self.frames))


class ExitTrap(WasmError):
    """A WASI program called ``proc_exit``; ``code`` is its exit status."""

    def __init__(self, code: int):
        self.code = code
        super().__init__(f"Exited with i32 exit status {code}")

    def __reduce__(self):
        return (type(self), (self.code,))
