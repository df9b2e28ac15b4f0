"""The runner's own form of a WAST script: a flat list of commands.

The text parser (pywinch.wasm.text) produces a ``Script``; ``frontend.py``
turns it into these commands. Keeping the runner on its own small form lets
other front ends feed it (tests use wasm-tools' JSON to cross-check the
parser), and keeps values as bit patterns (see values.py).
"""

from __future__ import annotations

__all__ = ["ModuleSource", "Action", "Command", "COMMAND_KINDS"]

COMMAND_KINDS = (
    "module",                 # source, name
    "register",               # as_name, name (module name or None for the last one)
    "action",                 # action
    "assert_return",          # action, expected (list of patterns)
    "assert_trap",            # action, message
    "assert_exhaustion",      # action, message
    "assert_trap_module",     # source, message: instantiation must trap
    "assert_uninstantiable",  # source, message
    "assert_unlinkable",      # source, message
    "assert_invalid",         # source, message
    "assert_malformed",       # source, message
)


class ModuleSource:
    """Where a module's bytes come from.

    kind ``binary``: ``data`` is the encoded module; ``quote``: ``data`` is
    WAT text that the runner encodes (and that may be malformed on purpose);
    ``thunk``: ``data`` is a callable returning the bytes, for front ends that
    encode text modules lazily.
    """

    __slots__ = ("kind", "data")

    def __init__(self, kind: str, data):
        if kind not in ("binary", "quote", "thunk"):
            raise ValueError(f"unknown module source kind {kind!r}")
        self.kind = kind
        self.data = data

    def __repr__(self):
        return f"ModuleSource({self.kind})"


class Action:
    """``invoke`` (``args`` is a list of values, see values.py) or ``get``."""

    __slots__ = ("kind", "module", "field", "args")

    def __init__(self, kind: str, module: str | None, field: str, args=()):
        self.kind = kind
        self.module = module
        self.field = field
        self.args = list(args)

    def describe(self) -> str:
        where = f"{self.module}." if self.module else ""
        return f"{self.kind} {where}{self.field!r}"


class Command:
    __slots__ = ("kind", "line", "name", "as_name", "source", "action", "expected", "message")

    def __init__(self, kind: str, line: int, *, name=None, as_name=None, source=None,
                 action=None, expected=None, message=None):
        if kind not in COMMAND_KINDS:
            raise ValueError(f"unknown command kind {kind!r}")
        self.kind = kind
        self.line = line
        self.name = name
        self.as_name = as_name
        self.source = source
        self.action = action
        self.expected = expected
        self.message = message

    def __repr__(self):
        return f"Command({self.kind} @{self.line})"
