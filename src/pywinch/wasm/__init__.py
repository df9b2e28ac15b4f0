"""The WebAssembly front end: binary decoder, types, operator stream, validator.

``decode_module(data)`` (binary.py) gives a ``Module`` (module.py);
``validate_module(module)`` (validate.py) checks it; ``validate_bytes(data)``
does both.  The compiler validates as it goes: ``check_module(module)`` for the
module-level rules, then a ``FuncValidator`` per function fed the operator
stream (``Module.operators(body)``, operators.py) one operator at a time.  Malformed input raises ``pywinch.errors.MalformedError``, invalid
input ``pywinch.errors.InvalidError``, each with the byte offset.
"""

from __future__ import annotations

from .binary import decode_module
from .modcheck import ModuleContext, check_module
from .module import Module
from .operators import read_operators
from .validate import FuncValidator, validate_function, validate_module


def validate_bytes(data) -> Module:
    """Decode and validate a binary module; return the decoded Module."""
    module = decode_module(data)
    validate_module(module)
    return module


__all__ = ["decode_module", "validate_module", "validate_bytes", "validate_function", "check_module",
           "Module", "ModuleContext", "FuncValidator", "read_operators"]
