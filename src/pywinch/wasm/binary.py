"""Decoder of the WebAssembly 2.0 binary format: ``decode_module(data) -> Module``.

Every section is decoded here except the instructions of function bodies,
which stay bytes until the operator stream (operators.py) reads them: the
code section contributes only each body's locals and byte range.  Failures
raise ``MalformedError(message, offset)`` in the words of the specification's
reference interpreter, which the spec suite's ``assert_malformed`` compares.

Counts read from the input never size an allocation before they are checked
against the bytes that remain (every item takes at least one byte).
"""

from __future__ import annotations

from ..errors import MalformedError
from .leb128 import EOF_MESSAGE, read_u32
from .module import (MODE_ACTIVE, MODE_DECLARATIVE, MODE_PASSIVE, ConstExpr, CustomSection, Data,
                     Element, Export, FunctionBody, Global, Import, Module, Names)
from .operators import read_operators
from .types import (EXTERN_FUNC, EXTERN_GLOBAL, EXTERN_MEMORY, EXTERN_TABLE, EXTERNREF, FUNCREF,
                    VALTYPES, FuncType, GlobalType, Limits, MemoryType, TableType)

MAGIC = b"\x00asm"
VERSION = b"\x01\x00\x00\x00"

# Implementation limits, Wasmtime's (wasmparser's), so that pywinch accepts
# exactly the modules Wasmtime accepts; the specification allows them and its
# suite stays far below.  Exceeding one is a MalformedError.
MAX_TYPES = 1_000_000
MAX_FUNCTIONS = 1_000_000      # imported + defined
MAX_IMPORTS = 1_000_000
MAX_EXPORTS = 1_000_000
MAX_GLOBALS = 1_000_000        # imported + defined
MAX_ELEMENT_SEGMENTS = 100_000
MAX_DATA_SEGMENTS = 100_000
MAX_STRING_SIZE = 100_000      # import, export and custom section names
MAX_FUNCTION_SIZE = 7_654_321  # bytes of one code-section entry
MAX_PARAMS = 1000
MAX_RESULTS = 1000
MAX_LOCALS = 50_000            # parameters + declared locals of one function

# Section ids and the order they must come in (data count sits between
# element and code).
SEC_CUSTOM, SEC_TYPE, SEC_IMPORT, SEC_FUNCTION, SEC_TABLE, SEC_MEMORY = 0, 1, 2, 3, 4, 5
SEC_GLOBAL, SEC_EXPORT, SEC_START, SEC_ELEMENT, SEC_CODE, SEC_DATA, SEC_DATACOUNT = 6, 7, 8, 9, 10, 11, 12
_ORDER = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 6, 7: 7, 8: 8, 9: 9, 12: 10, 10: 11, 11: 12}


class Reader:
    """A cursor over ``data[pos:end]`` (one section)."""

    __slots__ = ("data", "pos", "end")

    def __init__(self, data: bytes, pos: int, end: int):
        self.data = data
        self.pos = pos
        self.end = end

    def eof(self) -> MalformedError:
        return MalformedError(EOF_MESSAGE, self.pos)

    def byte(self) -> int:
        pos = self.pos
        if pos >= self.end:
            raise self.eof()
        self.pos = pos + 1
        return self.data[pos]

    def u32(self) -> int:
        v, self.pos = read_u32(self.data, self.pos, self.end)
        return v

    def count(self, limit: int | None = None, what: str = "", already: int = 0) -> int:
        """A vector length; each element takes at least one byte.  With
        ``limit``: at most ``limit - already`` elements of ``what``."""
        at = self.pos
        n = self.u32()
        if n > self.end - self.pos:
            raise MalformedError(EOF_MESSAGE, at)
        if limit is not None and n + already > limit:
            raise MalformedError(f"{what} count exceeds limit of {limit}", at)
        return n

    def length(self) -> int:
        """A byte length, checked as the reference interpreter does: beyond
        what remains from the length field on is "length out of bounds"."""
        at = self.pos
        n = self.u32()
        if n > self.end - at:
            raise MalformedError("length out of bounds", at)
        return n

    def bytes(self) -> bytes:
        n = self.length()
        pos = self.pos
        if n > self.end - pos:
            raise MalformedError(EOF_MESSAGE, self.end)
        self.pos = pos + n
        return self.data[pos:pos + n]

    def name(self) -> str:
        at = self.pos
        raw = self.bytes()
        if len(raw) > MAX_STRING_SIZE:
            raise MalformedError("string size out of bounds", at)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedError("malformed UTF-8 encoding", at) from None

    def valtype(self) -> int:
        t = self.byte()
        if t not in VALTYPES:
            raise MalformedError("malformed value type", self.pos - 1)
        return t

    def reftype(self) -> int:
        t = self.byte()
        if t != FUNCREF and t != EXTERNREF:
            raise MalformedError("malformed reference type", self.pos - 1)
        return t

    def limits(self) -> Limits:
        at = self.pos
        flag = self.byte()
        if flag == 0:
            return Limits(self.u32())
        if flag == 1:
            mn = self.u32()
            return Limits(mn, self.u32())
        # The flag is a one-byte LEB128 u1 to the reference interpreter.
        raise MalformedError("integer representation too long" if flag & 0x80 else "integer too large", at)

    def global_type(self) -> GlobalType:
        t = self.valtype()
        m = self.byte()
        if m > 1:
            raise MalformedError("malformed mutability", self.pos - 1)
        return GlobalType(t, m == 1)

    def const_expr(self) -> ConstExpr:
        start = self.pos
        ops = []
        last = start
        # Bounded by the file, not the section, as the reference interpreter
        # reads it: a missing end then meets the next section's bytes (an
        # "illegal opcode"), and an overrun is a section size mismatch.
        for item in read_operators(self.data, start, len(self.data), exact=False):
            ops.append(item)
            last = item[2]
        # The stream stopped right after the final end (a 1-byte opcode).
        ops.pop()
        self.pos = last + 1
        return ConstExpr(tuple(ops), start)


def decode_module(data) -> Module:
    """Decode a binary module.  ``data`` is bytes-like; the Module keeps a bytes copy."""
    if not isinstance(data, bytes):
        data = bytes(data)
    size = len(data)
    if size < 4:
        raise MalformedError("unexpected end", size)
    if data[:4] != MAGIC:
        raise MalformedError("magic header not detected", 0)
    if size < 8:
        raise MalformedError("unexpected end", size)
    if data[4:8] != VERSION:
        raise MalformedError("unknown binary version", 4)
    m = Module(data)
    pos = 8
    last = 0
    func_count = None      # from the function section
    try:
        while pos < size:
            sec_at = pos
            sid = data[pos]
            if sid > 12:
                raise MalformedError("malformed section id", pos)
            # Sections are read up to the end of the file and then must have
            # ended where their size said: the reference interpreter's order of
            # checks, which the spec suite's messages reflect.
            r = Reader(data, pos + 1, size)
            length = r.u32()
            start = r.pos
            if length > size - start:
                raise MalformedError("length out of bounds", start)
            end = start + length
            if sid != SEC_CUSTOM:
                rank = _ORDER[sid]
                if rank <= last:
                    raise MalformedError("unexpected content after last section", sec_at)
                last = rank
            if sid == SEC_CUSTOM:
                r.end = end
                _custom(m, r)
            elif sid == SEC_TYPE:
                _types(m, r)
            elif sid == SEC_IMPORT:
                _imports(m, r)
            elif sid == SEC_FUNCTION:
                n = r.count(MAX_FUNCTIONS, "functions", sum(1 for i in m.imports if i.kind == EXTERN_FUNC))
                m.funcs = [r.u32() for _ in range(n)]
                func_count = n
            elif sid == SEC_TABLE:
                m.tables = [TableType(r.reftype(), r.limits()) for _ in range(r.count())]
            elif sid == SEC_MEMORY:
                m.memories = [MemoryType(r.limits()) for _ in range(r.count())]
            elif sid == SEC_GLOBAL:
                n = r.count(MAX_GLOBALS, "globals", sum(1 for i in m.imports if i.kind == EXTERN_GLOBAL))
                m.globals = [Global(r.global_type(), r.const_expr()) for _ in range(n)]
            elif sid == SEC_EXPORT:
                _exports(m, r)
            elif sid == SEC_START:
                m.start_offset = r.pos
                m.start = r.u32()
            elif sid == SEC_ELEMENT:
                m.elements = [_element(r) for _ in range(r.count(MAX_ELEMENT_SEGMENTS, "element segments"))]
            elif sid == SEC_DATACOUNT:
                m.data_count = r.u32()
            elif sid == SEC_CODE:
                _code(m, r, func_count, sec_at, end)
            elif sid == SEC_DATA:
                _datas(m, r)
            if r.pos != end:
                raise MalformedError("section size mismatch", r.pos)
            pos = end
        if (func_count or 0) != len(m.codes):
            raise MalformedError("function and code section have inconsistent lengths", pos)
        if m.data_count is not None and m.data_count != len(m.datas):
            raise MalformedError("data count and data section have inconsistent lengths", pos)
    except MalformedError as e:
        # The reference interpreter decodes each function body as it reads
        # the code section; pywinch decodes bodies lazily (in the compile
        # loop).  A later failure (a section after the code section, the
        # next body's header, the final checks) is reported only when no
        # body read so far is malformed: else that body's error comes first.
        if m.codes:
            _first_body_error(data, m.codes, e)
        raise
    m.finish()
    return m


def _first_body_error(data, codes, later: MalformedError) -> None:
    """Raise the first decoding error (in binary order) of the bodies ``codes``,
    chained to ``later``; return when they all decode.  Only on an error path:
    the bodies are decoded once more, as the compile loop would."""
    for body in codes:
        try:
            for _ in read_operators(data, body.start, body.end):
                pass
        except MalformedError as e:
            raise e from later


def _custom(m: Module, r: Reader) -> None:
    at = r.pos - 1
    name = r.name()
    payload = r.data[r.pos:r.end]
    r.pos = r.end
    m.customs.append(CustomSection(name, payload, at))
    if name == "name":
        try:
            m.names = _names(Reader(r.data, r.end - len(payload), r.end))
        except MalformedError:
            # Custom sections are not part of validity: a broken name
            # section loses the names, not the module.
            m.names = Names()


def _types(m: Module, r: Reader) -> None:
    types = m.types
    for _ in range(r.count(MAX_TYPES, "types")):
        form = r.byte()
        if form != 0x60:
            raise MalformedError("integer representation too long" if form & 0x80 else "malformed functype",
                                 r.pos - 1)
        at = r.pos
        n = r.count()
        if n > MAX_PARAMS:
            raise MalformedError("function params size is out of bounds", at)
        params = [r.valtype() for _ in range(n)]
        at = r.pos
        n = r.count()
        if n > MAX_RESULTS:
            raise MalformedError("function returns size is out of bounds", at)
        results = [r.valtype() for _ in range(n)]
        types.append(FuncType(params, results))


def _imports(m: Module, r: Reader) -> None:
    imports = m.imports
    for _ in range(r.count(MAX_IMPORTS, "imports")):
        at = r.pos
        module = r.name()
        name = r.name()
        kind = r.byte()
        if kind == EXTERN_FUNC:
            t = r.u32()
        elif kind == EXTERN_TABLE:
            t = TableType(r.reftype(), r.limits())
        elif kind == EXTERN_MEMORY:
            t = MemoryType(r.limits())
        elif kind == EXTERN_GLOBAL:
            t = r.global_type()
        else:
            raise MalformedError("malformed import kind", r.pos - 1)
        imports.append(Import(module, name, kind, t, at))


def _exports(m: Module, r: Reader) -> None:
    exports = m.exports
    for _ in range(r.count(MAX_EXPORTS, "exports")):
        at = r.pos
        name = r.name()
        kind = r.byte()
        if kind > EXTERN_GLOBAL:
            raise MalformedError("malformed export kind", r.pos - 1)
        exports.append(Export(name, kind, r.u32(), at))


def _element(r: Reader) -> Element:
    at = r.pos
    flags = r.u32()
    if flags > 7:
        raise MalformedError("malformed elements segment kind", at)
    table = 0
    offset = None
    if flags & 1:
        mode = MODE_DECLARATIVE if flags & 2 else MODE_PASSIVE
    else:
        mode = MODE_ACTIVE
        if flags & 2:
            table = r.u32()
        offset = r.const_expr()
    uses_exprs = bool(flags & 4)
    if flags & 3:
        # An explicit element kind (0x00 = funcref) or reference type.
        if uses_exprs:
            etype = r.reftype()
        else:
            k = r.byte()
            if k != 0:
                raise MalformedError("malformed element kind", r.pos - 1)
            etype = FUNCREF
    else:
        etype = FUNCREF
    n = r.count()
    if uses_exprs:
        items = [r.const_expr() for _ in range(n)]
    else:
        items = [r.u32() for _ in range(n)]
    return Element(mode, table, offset, etype, items, uses_exprs, at)


def _datas(m: Module, r: Reader) -> None:
    datas = m.datas
    for _ in range(r.count(MAX_DATA_SEGMENTS, "data segments")):
        at = r.pos
        flags = r.u32()
        if flags == 0:
            offset = r.const_expr()
            datas.append(Data(MODE_ACTIVE, 0, offset, r.bytes(), at))
        elif flags == 1:
            datas.append(Data(MODE_PASSIVE, 0, None, r.bytes(), at))
        elif flags == 2:
            mem = r.u32()
            offset = r.const_expr()
            datas.append(Data(MODE_ACTIVE, mem, offset, r.bytes(), at))
        else:
            raise MalformedError("malformed data segment kind", at)


def _code(m: Module, r: Reader, func_count, sec_at: int, sec_end: int) -> None:
    n = r.count()
    if n != (func_count or 0):
        raise MalformedError("function and code section have inconsistent lengths", sec_at)
    m.code_section_size = sec_end - r.pos
    codes = m.codes
    types = m.types
    for i in range(n):
        at = r.pos
        size = r.length()
        if size > MAX_FUNCTION_SIZE:
            raise MalformedError(f"function body size exceeds limit of {MAX_FUNCTION_SIZE}", at)
        body_start = r.pos
        body_end = body_start + size
        groups = r.count()
        locals_ = []
        t = m.funcs[i]
        total = len(types[t].params) if t < len(types) else 0
        for _ in range(groups):
            count = r.u32()
            total += count
            if total > MAX_LOCALS:
                raise MalformedError("too many locals", r.pos)
            locals_.append((count, r.valtype()))
        if r.pos > body_end:
            raise MalformedError("section size mismatch", body_end)
        codes.append(FunctionBody(tuple(locals_), sum(c for c, _ in locals_), r.pos, body_end, at))
        r.pos = body_end


def _names(r: Reader) -> Names:
    names = Names()
    last_id = -1
    while r.pos < r.end:
        sub = r.byte()
        if sub <= last_id:
            raise MalformedError("out-of-order name subsection", r.pos - 1)
        last_id = sub
        size = r.u32()
        if size > r.end - r.pos:
            raise r.eof()
        sr = Reader(r.data, r.pos, r.pos + size)
        r.pos += size
        if sub == 0:
            names.module = sr.name()
        elif sub == 1:
            names.functions = _name_map(sr)
        elif sub == 2:
            locals_ = {}
            for _ in range(sr.count()):
                func = sr.u32()
                locals_[func] = _name_map(sr)
            names.locals = locals_
        else:
            continue    # later proposals' subsections (labels, types...): skipped
        if sr.pos != sr.end:
            raise MalformedError("section size mismatch", sr.pos)
    return names


def _name_map(r: Reader) -> dict:
    out = {}
    for _ in range(r.count()):
        idx = r.u32()
        out[idx] = r.name()
    return out

