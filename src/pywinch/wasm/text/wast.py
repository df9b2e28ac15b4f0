"""WAST scripts: the spec test format, parsed into command objects.

:func:`parse_wast` returns a :class:`Script` whose ``commands`` a runner
executes in order.  Every command has ``line`` (1-based, where its ``(``
is) and ``kind`` (the WAST keyword: ``"module"``, ``"register"``,
``"action"``, ``"assert_return"``, ...).

Values (arguments and expected results):

* :class:`Const` ``(type, value)``: ``type`` is ``"i32" "i64" "f32" "f64" "v128"``;
  ``value`` is always the *unsigned bit pattern* (``i32.const -1`` gives
  ``0xFFFFFFFF``; floats are their IEEE bits so NaN payloads and ``-0.0``
  survive; ``v128`` is the 128-bit little-endian lane concatenation).
* :class:`RefNull` ``(heap)``: ``"func"`` or ``"extern"``.
* :class:`RefExtern` ``(value)``: host reference ``N``; ``value`` None in a
  result pattern ``(ref.extern)`` means any non-null externref.
* :class:`RefFunc` ``(value)``: None in ``(ref.func)`` means any non-null funcref.

Result patterns add :class:`NanPattern` ``(type, kind)`` with kind
``"canonical"``/``"arithmetic"``, :class:`V128Pattern` ``(shape, lanes)`` for
a v128 whose float lanes include NaN patterns (each lane an int bit pattern
or a NanPattern), and :class:`Either` ``(alternatives)``.

Modules (:class:`ModuleCommand`, also what assertions carry):
``kind_of_source`` is ``"text"``, ``"binary"`` or ``"quote"``; ``binary`` is
the encoded module (None for ``quote``: the runner calls ``wat2wasm`` on
``text`` -- a str, or bytes when the quoted strings are not UTF-8 -- and, for
``assert_malformed``, expects a WatError; also None for a text module inside
``assert_malformed`` that fails to encode, whose source is ``span``); ``span``
is the (start, end) character range of the module in the script.
"""

from __future__ import annotations

from ...errors import WatError
from .lexer import Source, decode_utf8, string_bytes, tokenize
from .numbers import parse_int, parse_f32, parse_f64
from .instr import v128_lanes
from .wat import compile_module, module_from_tokens


class Const:
    __slots__ = ("type", "value")

    def __init__(self, type: str, value: int):
        self.type = type
        self.value = value

    def __repr__(self):
        return f"Const({self.type}, {self.value:#x})"

    def __eq__(self, other):
        return isinstance(other, Const) and other.type == self.type and other.value == self.value

    def __hash__(self):
        return hash((self.type, self.value))


class RefNull:
    __slots__ = ("heap",)

    def __init__(self, heap: str):
        self.heap = heap

    def __repr__(self):
        return f"RefNull({self.heap})"

    def __eq__(self, other):
        return isinstance(other, RefNull) and other.heap == self.heap

    def __hash__(self):
        return hash(("null", self.heap))


class RefExtern:
    __slots__ = ("value",)

    def __init__(self, value: int | None):
        self.value = value

    def __repr__(self):
        return f"RefExtern({self.value})"

    def __eq__(self, other):
        return isinstance(other, RefExtern) and other.value == self.value

    def __hash__(self):
        return hash(("extern", self.value))


class RefFunc:
    __slots__ = ("value",)

    def __init__(self, value: int | None):
        self.value = value

    def __repr__(self):
        return f"RefFunc({self.value})"


class NanPattern:
    __slots__ = ("type", "kind")

    def __init__(self, type: str, kind: str):
        self.type = type
        self.kind = kind

    def __repr__(self):
        return f"NanPattern({self.type}, {self.kind})"


class V128Pattern:
    __slots__ = ("shape", "lanes")

    def __init__(self, shape: str, lanes: list):
        self.shape = shape
        self.lanes = lanes

    def __repr__(self):
        return f"V128Pattern({self.shape}, {self.lanes})"


class Either:
    __slots__ = ("alternatives",)

    def __init__(self, alternatives: list):
        self.alternatives = alternatives

    def __repr__(self):
        return f"Either({self.alternatives})"


class Command:
    __slots__ = ("line",)
    kind = "?"


class ModuleCommand(Command):
    """``(module $name? ...)``: ``name`` is the ``$id`` or None."""

    __slots__ = ("name", "kind_of_source", "binary", "text", "span", "is_definition")
    kind = "module"

    def __init__(self, line, name, kind_of_source, binary, text, span):
        self.line = line
        self.name = name
        self.kind_of_source = kind_of_source
        self.binary = binary
        self.text = text
        self.span = span
        self.is_definition = False

    def __repr__(self):
        return f"<module {self.name or ''} {self.kind_of_source} line {self.line}>"


class Register(Command):
    """``(register "as" $module?)``: ``name_as`` the import name, ``module_name`` the ``$id`` or None."""

    __slots__ = ("name_as", "module_name")
    kind = "register"

    def __init__(self, line, name_as, module_name):
        self.line = line
        self.name_as = name_as
        self.module_name = module_name


class Action(Command):
    """``(invoke $m? "f" arg*)`` or ``(get $m? "g")``: ``action`` is ``"invoke"`` or ``"get"``."""

    __slots__ = ("action", "module_name", "field", "args")
    kind = "action"

    def __init__(self, line, action, module_name, field, args):
        self.line = line
        self.action = action
        self.module_name = module_name
        self.field = field
        self.args = args

    def __repr__(self):
        return f"<{self.action} {self.module_name or ''} {self.field!r} {self.args}>"


class AssertReturn(Command):
    __slots__ = ("action", "expected")
    kind = "assert_return"

    def __init__(self, line, action, expected):
        self.line = line
        self.action = action
        self.expected = expected


class AssertTrap(Command):
    """``action`` is an :class:`Action` or a :class:`ModuleCommand` (trap at instantiation)."""

    __slots__ = ("action", "message")
    kind = "assert_trap"

    def __init__(self, line, action, message):
        self.line = line
        self.action = action
        self.message = message

    @property
    def module(self):
        return self.action if isinstance(self.action, ModuleCommand) else None


class AssertExhaustion(Command):
    __slots__ = ("action", "message")
    kind = "assert_exhaustion"

    def __init__(self, line, action, message):
        self.line = line
        self.action = action
        self.message = message


class _ModuleAssertion(Command):
    __slots__ = ("module", "message")

    def __init__(self, line, module, message):
        self.line = line
        self.module = module
        self.message = message


class AssertInvalid(_ModuleAssertion):
    __slots__ = ()
    kind = "assert_invalid"


class AssertMalformed(_ModuleAssertion):
    __slots__ = ()
    kind = "assert_malformed"


class AssertUnlinkable(_ModuleAssertion):
    __slots__ = ()
    kind = "assert_unlinkable"


class AssertUninstantiable(_ModuleAssertion):
    __slots__ = ()
    kind = "assert_uninstantiable"


class Script:
    """A parsed WAST script: ``commands`` in order, ``filename``, ``source`` (the text)."""

    __slots__ = ("commands", "filename", "source")

    def __init__(self, commands, filename, source):
        self.commands = commands
        self.filename = filename
        self.source = source

    def modules(self):
        """Every module of the script (top-level and inside assertions), in order."""
        for c in self.commands:
            m = c if isinstance(c, ModuleCommand) else getattr(c, "module", None)
            if isinstance(m, ModuleCommand):
                yield c, m


_MODULE_ASSERTIONS = {
    "assert_invalid": AssertInvalid, "assert_malformed": AssertMalformed,
    "assert_unlinkable": AssertUnlinkable, "assert_uninstantiable": AssertUninstantiable,
}
_MODULE_FIELDS = {"type", "import", "func", "table", "memory", "global", "export", "start", "elem", "data"}
_SCALARS = {
    "i32.const": ("i32", lambda v: parse_int(v, 32)), "i64.const": ("i64", lambda v: parse_int(v, 64)),
    "f32.const": ("f32", parse_f32), "f64.const": ("f64", parse_f64),
}
_NAN_PATTERNS = {"nan:canonical": "canonical", "nan:arithmetic": "arithmetic"}


class _Parser:
    def __init__(self, src: Source):
        self.src = src
        self.toks, self.offs, self.match = tokenize(src)

    def err(self, message: str, i: int) -> WatError:
        offs = self.offs
        return self.src.error(message, offs[i] if i < len(offs) else len(self.src.text))

    def line(self, i: int) -> int:
        return self.src.line_col(self.offs[i])[0]

    def string(self, i: int) -> bytes:
        b = string_bytes(self.toks[i])
        if b is None:
            raise self.err(f"expected a string, found {self.toks[i]!r}", i)
        return b

    def text_string(self, i: int) -> str:
        try:
            return self.string(i).decode("utf-8")
        except UnicodeDecodeError:
            raise self.err("malformed UTF-8 encoding", i) from None

    def expect_close(self, i: int, close: int, what: str) -> None:
        if i != close:
            raise self.err(f"unexpected {self.toks[i]!r} in {what} (expected ')')", i)

    def script(self, filename: str) -> Script:
        toks = self.toks
        match = self.match
        commands = []
        i = 0
        n = len(toks)
        if n > 1 and toks[0] == "(" and toks[1] in _MODULE_FIELDS:
            # A script may be one module written as its bare fields.
            binary = compile_module(self.src, toks, self.offs, match, 0, n)
            mod = ModuleCommand(1, None, "text", binary, None, (0, len(self.src.text)))
            return Script([mod], filename, self.src.text)
        while i < n:
            if toks[i] != "(":
                raise self.err(f"expected a command '(', found {toks[i]!r}", i)
            commands.append(self.command(i))
            i = match[i] + 1
        return Script(commands, filename, self.src.text)

    def command(self, i: int):
        toks = self.toks
        close = self.match[i]
        kw = toks[i + 1]
        line = self.line(i)
        if kw == "module":
            return self.module(i, line)
        if kw in ("invoke", "get"):
            return self.action(i)
        if kw == "register":
            as_name = self.text_string(i + 2)
            mod = None
            j = i + 3
            if toks[j][0] == "$":
                mod = toks[j]
                j += 1
            self.expect_close(j, close, "register")
            return Register(line, as_name, mod)
        if kw == "assert_return":
            act = self.action(i + 2)
            expected = []
            j = self.match[i + 2] + 1
            while j < close:
                pat, j = self.result(j)
                expected.append(pat)
            return AssertReturn(line, act, expected)
        if kw in ("assert_trap", "assert_exhaustion"):
            j = i + 2
            if toks[j] != "(":
                raise self.err("expected an action or module '('", j)
            if toks[j + 1] == "module":
                target = self.module(j, self.line(j))
            else:
                target = self.action(j)
            msg = self.text_string(self.match[j] + 1)
            self.expect_close(self.match[j] + 2, close, kw)
            if kw == "assert_trap":
                return AssertTrap(line, target, msg)
            return AssertExhaustion(line, target, msg)
        cls = _MODULE_ASSERTIONS.get(kw)
        if cls is not None:
            j = i + 2
            if toks[j] != "(" or toks[j + 1] != "module":
                raise self.err("expected '(module'", j)
            mod = self.module(j, self.line(j), lenient=cls is AssertMalformed)
            msg = self.text_string(self.match[j] + 1)
            self.expect_close(self.match[j] + 2, close, kw)
            return cls(line, mod, msg)
        raise self.err(f"unknown command {kw!r}", i + 1)

    def module(self, i: int, line: int, lenient: bool = False) -> ModuleCommand:
        toks = self.toks
        close = self.match[i]
        j = i + 2
        name = None
        if toks[j][0] == "$":
            name = toks[j]
            j += 1
        span = (self.offs[i], self.offs[close] + 1)
        if toks[j] == "quote":
            parts = [self.string(k) for k in range(j + 1, close)]
            text = b" ".join(parts)
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                pass    # kept as bytes: wat2wasm reports the bad encoding as a WatError
            return ModuleCommand(line, name, "quote", None, text, span)
        kind = "binary" if toks[j] == "binary" else "text"
        try:
            binary = module_from_tokens(self.src, toks, self.offs, self.match, i)
        except WatError:
            if not lenient:
                raise
            binary = None
        return ModuleCommand(line, name, kind, binary, None, span)

    def action(self, i: int) -> Action:
        toks = self.toks
        close = self.match[i]
        if toks[i] != "(" or toks[i + 1] not in ("invoke", "get"):
            raise self.err("expected '(invoke' or '(get'", i)
        kind = toks[i + 1]
        j = i + 2
        mod = None
        if toks[j][0] == "$":
            mod = toks[j]
            j += 1
        fld = self.text_string(j)
        j += 1
        args = []
        while j < close:
            v, j = self.const(j, False)
            args.append(v)
        if kind == "get" and args:
            raise self.err("'get' takes no arguments", j)
        return Action(self.line(i), kind, mod, fld, args)

    def result(self, j: int):
        toks = self.toks
        if toks[j] == "(" and toks[j + 1] == "either":
            c = self.match[j]
            alts = []
            k = j + 2
            while k < c:
                v, k = self.const(k, True)
                alts.append(v)
            return Either(alts), c + 1
        return self.const(j, True)

    def const(self, j: int, pattern: bool):
        """A ``(t.const v)`` or reference value at ``j``: (value, next index)."""
        toks = self.toks
        if toks[j] != "(":
            raise self.err(f"expected a constant '(', found {toks[j]!r}", j)
        c = self.match[j]
        op = toks[j + 1]
        v = toks[j + 2]
        scalar = _SCALARS.get(op)
        if scalar is not None:
            self.expect_close(j + 3, c, op)
            if pattern and v in _NAN_PATTERNS and scalar[0][0] == "f":
                return NanPattern(scalar[0], _NAN_PATTERNS[v]), c + 1
            try:
                return Const(scalar[0], scalar[1](v)), c + 1
            except ValueError as e:
                raise self.err(str(e), j + 2) from None
        if op == "v128.const":
            shape = v
            if pattern and shape in ("f32x4", "f64x2") and any(
                    toks[k] in _NAN_PATTERNS for k in range(j + 3, c)):
                parse = parse_f32 if shape == "f32x4" else parse_f64
                lanes = []
                for k in range(j + 3, c):
                    t = toks[k]
                    if t in _NAN_PATTERNS:
                        lanes.append(NanPattern(shape[:3], _NAN_PATTERNS[t]))
                    else:
                        try:
                            lanes.append(parse(t))
                        except ValueError as e:
                            raise self.err(str(e), k) from None
                if len(lanes) != (4 if shape == "f32x4" else 2):
                    raise self.err(f"expected {4 if shape == 'f32x4' else 2} lanes for {shape}", j + 3)
                return V128Pattern(shape, lanes), c + 1
            k, value = v128_lanes(self, j + 2, c)
            self.expect_close(k, c, op)
            return Const("v128", value), c + 1
        if op == "ref.null":
            if v not in ("func", "extern"):
                raise self.err("expected 'func' or 'extern' after ref.null", j + 2)
            self.expect_close(j + 3, c, op)
            return RefNull(v), c + 1
        if op in ("ref.extern", "ref.func"):
            cls = RefExtern if op == "ref.extern" else RefFunc
            if j + 2 == c:
                if not pattern:
                    raise self.err(f"{op} needs a value", j + 2)
                return cls(None), c + 1
            try:
                val = parse_int(v, 64) if op == "ref.extern" else parse_int(v, 32)
            except ValueError as e:
                raise self.err(str(e), j + 2) from None
            self.expect_close(j + 3, c, op)
            return cls(val), c + 1
        raise self.err(f"unknown constant {op!r}", j + 1)


def parse_wast(text: str, filename: str = "<wast>") -> Script:
    """Parse a WAST script; raises :class:`pywinch.errors.WatError` on a syntax error."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = decode_utf8(bytes(text))
    src = Source(text, filename)
    return _Parser(src).script(filename)
