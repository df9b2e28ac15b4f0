"""The single-pass compiler (see compiler.py and context.py)."""

from .compiler import compile_module

__all__ = ["compile_module"]
