"""The WebAssembly text format (WAT modules, WAST scripts) in pure Python.

Public interface:

* :func:`wat2wasm` ``(text: str | bytes) -> bytes`` -- a module's text to its
  binary; raises :class:`pywinch.errors.WatError` with line and column.
* :func:`parse_wast` ``(text: str, filename="<wast>") -> Script`` -- a spec
  test script; see :mod:`pywinch.wasm.text.wast` for the command objects.
"""

from .wat import wat2wasm
from .wast import parse_wast, Script

__all__ = ["wat2wasm", "parse_wast", "Script"]
