"""pywinch's WAST parser (pywinch.wasm.text) to the runner's commands."""

from __future__ import annotations

from pywinch.wasm.text import parse_wast
from pywinch.wasm.text import wast as W

from .commands import Action, Command, ModuleSource
from .values import HostRef, lanes_of

__all__ = ["parse", "convert"]


def parse(text: str, filename: str = "<wast>") -> list[Command]:
    """Parse a script; a syntax error raises pywinch.errors.WatError (with ``line``)."""
    return convert(parse_wast(text, filename))


def convert(script) -> list[Command]:
    source_text = script.source
    out = []
    for c in script.commands:
        out.append(_CONVERT[type(c)](c, source_text))
    return out


def _source(m, text: str) -> ModuleSource:
    if m.kind_of_source == "quote":
        return ModuleSource("quote", m.text)
    if m.binary is None:
        # a text module the parser let through unencoded (inside assert_malformed):
        # encoding it again raises the syntax error the assertion expects
        start, end = m.span
        return ModuleSource("quote", text[start:end])
    return ModuleSource("binary", m.binary)


def _arg(v) -> tuple:
    t = type(v)
    if t is W.Const:
        return (v.type, v.value)
    if t is W.RefNull:
        return (v.heap + "ref", None)
    if t is W.RefExtern:
        return ("externref", HostRef(v.value))
    raise ValueError(f"unsupported argument {v!r}")


def _pattern(v) -> tuple:
    t = type(v)
    if t is W.Const:
        if v.type == "v128":
            return ("v128", "i32", lanes_of(v.value, "i32"))
        return (v.type, v.value)
    if t is W.NanPattern:
        return (v.type, "nan:" + v.kind)
    if t is W.V128Pattern:
        lanes = [("nan:" + l.kind) if type(l) is W.NanPattern else l for l in v.lanes]
        return ("v128", v.shape[:3], lanes)
    if t is W.RefNull:
        return ("ref.null", v.heap)
    if t is W.RefExtern:
        return ("ref.extern", v.value)
    if t is W.RefFunc:
        return ("ref.func", None)
    if t is W.Either:
        return ("either", [_pattern(a) for a in v.alternatives])
    raise ValueError(f"unsupported result pattern {v!r}")


def _action(a) -> Action:
    return Action(a.action, a.module_name, a.field, [_arg(x) for x in a.args])


def _module(c, text):
    return Command("module", c.line, name=c.name, source=_source(c, text))


def _register(c, text):
    return Command("register", c.line, name=c.module_name, as_name=c.name_as)


def _bare_action(c, text):
    return Command("action", c.line, action=_action(c))


def _assert_return(c, text):
    return Command("assert_return", c.line, action=_action(c.action), expected=[_pattern(e) for e in c.expected])


def _assert_trap(c, text):
    if isinstance(c.action, W.ModuleCommand):
        return Command("assert_trap_module", c.line, source=_source(c.action, text), message=c.message)
    return Command(c.kind, c.line, action=_action(c.action), message=c.message)


def _module_assertion(c, text):
    return Command(c.kind, c.line, source=_source(c.module, text), message=c.message)


_CONVERT = {
    W.ModuleCommand: _module,
    W.Register: _register,
    W.Action: _bare_action,
    W.AssertReturn: _assert_return,
    W.AssertTrap: _assert_trap,
    W.AssertExhaustion: _assert_trap,
    W.AssertInvalid: _module_assertion,
    W.AssertMalformed: _module_assertion,
    W.AssertUnlinkable: _module_assertion,
    W.AssertUninstantiable: _module_assertion,
}
