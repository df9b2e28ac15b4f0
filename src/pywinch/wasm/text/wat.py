"""Module text -> binary: module fields, types, abbreviations, sections.

Two passes over the fields of one module, both driven by the token list and
its matching-paren table (so a field is skipped in O(1)):

1. *declare*: give every named entity its index (imports first, as the text
   format requires them to come first) and collect explicit type
   definitions, so bodies may refer forward;
2. *emit*: encode each field in text order into its section.  Implicit
   function types (inline ``(param ...)``/``(result ...)`` without a
   ``(type ...)``) are appended as they are met, as the spec's abbreviation
   says: the first matching type, else a new type at the end.

The encoding choices (element segment flags, data count section, name
section) follow ``wasm-tools parse`` so the two produce the same bytes.
"""

from __future__ import annotations

import re

from ...errors import WatError
from ..types import BY_NAME as VALTYPES, EXTERN_NAMES, EXTERNREF, FUNCREF
from .encode import u32, uleb, name as enc_name, raw_section, section, sleb
from .instr import HEAPTYPES, compile_instrs
from .lexer import Source, decode_utf8, string_bytes, tokenize
from .names import NameSection
from .numbers import parse_uint

REFTYPES = {"funcref": FUNCREF, "externref": EXTERNREF}
SPACES = ("func", "table", "memory", "global", "type", "elem", "data")
_IMPORT_KIND = {name: kind for kind, name in enumerate(EXTERN_NAMES)}   # "func" -> 0 ...
_DEFINABLE = ("func", "table", "memory", "global")
_PAGE = 65536
# An identifier glued to a string (``$l"a"``) is a reserved token, not an id.
_RESERVED = re.compile(r'^\$[^"]*"')
_SPACE_WORDS = {"func": "function", "table": "table", "memory": "memory", "global": "global",
                "type": "type", "elem": "elem segment", "data": "data segment"}


class ModuleCompiler:
    """Compiles the fields of one module, tokens ``[start, end)``, to a binary."""

    def __init__(self, src: Source, toks: list[str], offs: list[int], match: list[int]):
        self.src = src
        self.toks = toks
        self.offs = offs
        self.match = match
        self.ids: dict[str, dict[str, int]] = {s: {} for s in SPACES}
        self.counts = dict.fromkeys(SPACES, 0)
        self.types: list[tuple[bytes, bytes]] = []
        self.type_first: dict[tuple[bytes, bytes], int] = {}
        self.needs_datacount = False
        self.names = NameSection()
        self.pending_type_checks: list[tuple[int, int]] = []

    # --- errors and small readers ------------------------------------------------

    def err(self, message: str, i: int) -> WatError:
        offs = self.offs
        if not offs:
            return self.src.error(message, 0)
        if i >= len(offs):
            return self.src.error(message, len(self.src.text))
        return self.src.error(message, offs[i])

    def expect(self, i: int, tok: str) -> int:
        if self.toks[i] != tok:
            raise self.err(f"expected {tok!r}, found {self.toks[i]!r}", i)
        return i + 1

    def check_id(self, i: int) -> str:
        t = self.toks[i]
        if len(t) < 2 or t.startswith('$"') or (t.count('"') and _RESERVED.search(t)):
            raise self.err(f"malformed identifier {t!r}", i)
        return t

    def opt_id(self, i: int) -> tuple[str | None, int]:
        t = self.toks[i]
        if t[0] == "$":
            return self.check_id(i), i + 1
        return None, i

    def uint(self, i: int, what: str, bits: int = 32) -> int:
        t = self.toks[i]
        try:
            return parse_uint(t, bits)
        except ValueError as e:
            if t in ("(", ")") or not ("0" <= t[0] <= "9"):
                raise self.err(f"expected a {what}, found {t!r}", i) from None
            raise self.err(f"{what}: {e}", i) from None

    def string(self, i: int) -> bytes:
        b = string_bytes(self.toks[i])
        if b is None:
            raise self.err(f"expected a string, found {self.toks[i]!r}", i)
        return b

    def strings(self, i: int, end: int) -> list[bytes]:
        """The bytes of the tokens ``[i, end)``, each of which must be a string."""
        return _strings(self.src, self.toks, self.offs, i, end)

    def utf8_name(self, i: int) -> bytes:
        b = self.string(i)
        try:
            b.decode("utf-8")
        except UnicodeDecodeError:
            raise self.err("malformed UTF-8 encoding", i) from None
        return b

    def valtype(self, i: int) -> int:
        v = VALTYPES.get(self.toks[i])
        if v is None:
            raise self.err(f"expected a value type, found {self.toks[i]!r}", i)
        return v

    def reftype(self, i: int) -> tuple[int, int]:
        """A reference type at ``i``: (type byte, next index); ``(ref null func)`` too."""
        t = self.toks[i]
        v = REFTYPES.get(t)
        if v is not None:
            return v, i + 1
        toks = self.toks
        if t == "(" and toks[i + 1] == "ref" and toks[i + 2] == "null" and toks[i + 3] in HEAPTYPES \
                and toks[i + 4] == ")":
            return HEAPTYPES[toks[i + 3]], i + 5
        raise self.err(f"expected a reference type (funcref or externref), found {t!r}", i)

    def index(self, space: str, i: int) -> int:
        t = self.toks[i]
        if t[0] == "$":
            idx = self.ids[space].get(t)
            if idx is None:
                raise self.err(f"unknown {_SPACE_WORDS[space]} {t}", i)
            return idx
        return self.uint(i, f"{_SPACE_WORDS[space]} index")

    def field_end(self, i: int, close: int, what: str) -> None:
        if i != close:
            raise self.err(f"unexpected {self.toks[i]!r} in {what}", i)

    # --- types ---------------------------------------------------------------------

    def functype(self, i: int, close: int) -> tuple[tuple[bytes, bytes], int]:
        """``(func (param ...)* (result ...)*)`` at ``i``."""
        toks = self.toks
        if toks[i] != "(" or toks[i + 1] != "func":
            raise self.err("expected '(func' in a type definition", i)
        end = self.match[i]
        params, pnames, results, j = self._params_results(i + 2, end, True)
        self.field_end(j, end, "function type")
        self.field_end(end + 1, close, "type definition")
        self.names.params_of_type(len(self.types), pnames)
        return (bytes(params), bytes(results)), end + 1

    def _params_results(self, j: int, end: int, names_ok: bool):
        toks = self.toks
        match = self.match
        params = bytearray()
        pnames: list[str | None] = []
        results = bytearray()
        while toks[j] == "(" and toks[j + 1] == "param":
            c = match[j]
            k = j + 2
            if toks[k][0] == "$":
                if not names_ok:
                    raise self.err("unexpected identifier in parameter list", k)
                pnames.append(self.check_id(k))
                params.append(self.valtype(k + 1))
                if k + 2 != c:
                    raise self.err("expected ')' after a named parameter", k + 2)
            else:
                for k in range(k, c):
                    params.append(self.valtype(k))
                    pnames.append(None)
            j = c + 1
        while toks[j] == "(" and toks[j + 1] == "result":
            c = match[j]
            for k in range(j + 2, c):
                results.append(self.valtype(k))
            j = c + 1
        return params, pnames, results, j

    def type_of(self, ft: tuple[bytes, bytes]) -> int:
        """Index of the first type equal to ``ft``, appending it if there is none."""
        idx = self.type_first.get(ft)
        if idx is None:
            idx = len(self.types)
            self.types.append(ft)
            self.type_first[ft] = idx
        return idx

    def typeuse(self, j: int, end: int, names_ok: bool):
        """A type use at ``j``: (type index, param names, next index)."""
        toks = self.toks
        explicit = None
        at = j
        if toks[j] == "(" and toks[j + 1] == "type":
            explicit = self.index("type", j + 2)
            if toks[j + 3] != ")":
                raise self.err("expected ')' after the type index", j + 3)
            j += 4
        params, pnames, results, k = self._params_results(j, end, names_ok)
        inline = k != j
        if explicit is None:
            return self.type_of((bytes(params), bytes(results))), pnames, k
        if explicit < len(self.types):
            declared = self.types[explicit]
            if inline and declared != (bytes(params), bytes(results)):
                raise self.err("inline function type does not match the referenced type", at)
            if not inline:
                pnames = [None] * len(declared[0])
        elif inline:
            # checked once all implicit types exist
            self.pending_type_checks.append((explicit, at))
        return explicit, pnames, k

    def typeuse_index(self, j: int, end: int, out: bytearray) -> int:
        idx, _, j = self.typeuse(j, end, False)
        out += u32(idx)
        return j

    def blocktype(self, j: int, end: int, out: bytearray) -> int:
        toks = self.toks
        if toks[j] != "(":
            out.append(0x40)
            return j
        if toks[j + 1] == "type":
            idx, _, k = self.typeuse(j, end, False)
            out += sleb(idx)
            return k
        params, pnames, results, k = self._params_results(j, end, False)
        if not params:
            if not results:
                out.append(0x40)
            elif len(results) == 1:
                out.append(results[0])
            else:
                out += sleb(self.type_of((b"", bytes(results))))
        else:
            out += sleb(self.type_of((bytes(params), bytes(results))))
        return k

    def limits(self, j: int, what: str) -> tuple[bytes, int]:
        lo = self.uint(j, f"{what} minimum size")
        j += 1
        t = self.toks[j]
        if "0" <= t[0] <= "9":
            hi = self.uint(j, f"{what} maximum size")
            return b"\x01" + u32(lo) + u32(hi), j + 1
        return b"\x00" + u32(lo), j

    def globaltype(self, j: int) -> tuple[bytes, int]:
        toks = self.toks
        if toks[j] == "(" and toks[j + 1] == "mut":
            vt = self.valtype(j + 2)
            self.expect(j + 3, ")")
            return bytes([vt, 1]), j + 4
        return bytes([self.valtype(j), 0]), j + 1

    def const_expr(self, j: int, end: int) -> bytes:
        out = bytearray()
        compile_instrs(self, j, end, None, out)
        out.append(0x0B)
        return bytes(out)

    # --- the two passes --------------------------------------------------------------

    def compile(self, start: int, end: int, module_id: str | None = None) -> bytes:
        toks = self.toks
        match = self.match
        fields = []
        i = start
        first_def = None
        while i < end:
            if toks[i] != "(":
                raise self.err(f"expected a module field '(', found {toks[i]!r}", i)
            close = match[i]
            kw = toks[i + 1]
            fields.append((kw, i, close))
            if kw == "type":
                tid, j = self.opt_id(i + 2)
                self._declare("type", tid, i + 2)
                ft, _ = self.functype(j, close)
                self.types.append(ft)
                self.type_first.setdefault(ft, len(self.types) - 1)
            elif kw == "import":
                if i + 4 >= close or toks[i + 4] != "(":
                    raise self.err("expected '(' and an import description", i + 4)
                kind = toks[i + 5]
                if kind not in _IMPORT_KIND:
                    raise self.err(f"unknown import kind {kind!r}", i + 5)
                if first_def is not None:
                    raise self.err(f"import after {first_def}", i)
                self._declare(kind, self.opt_id(i + 6)[0], i + 6)
            elif kw in _DEFINABLE:
                fid, j = self.opt_id(i + 2)
                while toks[j] == "(" and toks[j + 1] == "export":
                    j = match[j] + 1
                if toks[j] == "(" and toks[j + 1] == "import":
                    if first_def is not None:
                        raise self.err(f"import after {first_def}", i)
                else:
                    first_def = first_def or ("function" if kw == "func" else kw)
                    if kw == "table" and toks[j] != "(" and toks[j + 1] == "(" and toks[j + 2] == "elem":
                        self.counts["elem"] += 1
                    elif kw == "table" and toks[j] == "(" and toks[j + 1] == "ref" \
                            and toks[match[j] + 1] == "(" and toks[match[j] + 2] == "elem":
                        self.counts["elem"] += 1
                    elif kw == "memory" and toks[j] == "(" and toks[j + 1] == "data":
                        self.counts["data"] += 1
                self._declare(kw, fid, i + 2)
            elif kw in ("elem", "data"):
                self._declare(kw, self.opt_id(i + 2)[0], i + 2)
            elif kw in ("export", "start"):
                pass
            else:
                raise self.err(f"unknown module field {kw!r}" if kw not in "()" else "expected a module field", i + 1)
            i = close + 1
        if module_id is not None:
            self.names.module = module_id
        return self._emit(fields)

    def _declare(self, space: str, ident: str | None, i: int) -> None:
        idx = self.counts[space]
        self.counts[space] = idx + 1
        if ident is not None:
            table = self.ids[space]
            if ident in table:
                raise self.err(f"duplicate {_SPACE_WORDS[space]} {ident}", i)
            table[ident] = idx
            self.names.add(space, idx, ident)

    def _emit(self, fields) -> bytes:
        e = _Sections()
        handlers = {
            "type": self._emit_type, "import": self._emit_import, "func": self._emit_func,
            "table": self._emit_table, "memory": self._emit_memory, "global": self._emit_global,
            "export": self._emit_export, "start": self._emit_start, "elem": self._emit_elem,
            "data": self._emit_data,
        }
        for kw, i, close in fields:
            handlers[kw](e, i, close)
        for idx, at in self.pending_type_checks:
            if idx >= len(self.types):
                raise self.err(f"unknown type {idx}", at + 2)
        return e.finish(self)

    # --- fields ------------------------------------------------------------------

    def _exports(self, e, j: int, kind: int, idx: int) -> int:
        toks = self.toks
        while toks[j] == "(" and toks[j + 1] == "export":
            c = self.match[j]
            nm = self.utf8_name(j + 2)
            self.field_end(j + 3, c, "inline export")
            e.exports += enc_name(nm) + bytes([kind]) + u32(idx)
            e.n_exports += 1
            j = c + 1
        return j

    def _inline_import(self, j: int):
        toks = self.toks
        if toks[j] == "(" and toks[j + 1] == "import":
            c = self.match[j]
            mod = self.utf8_name(j + 2)
            fld = self.utf8_name(j + 3)
            self.field_end(j + 4, c, "inline import")
            return enc_name(mod) + enc_name(fld), c + 1
        return None, j

    def _emit_type(self, e, i: int, close: int) -> None:
        pass    # explicit types were collected by the declare pass

    def _emit_import(self, e, i: int, close: int) -> None:
        toks = self.toks
        head = enc_name(self.utf8_name(i + 2)) + enc_name(self.utf8_name(i + 3))
        d = i + 4
        dclose = self.match[d]
        self.field_end(dclose + 1, close, "import")
        kind = toks[d + 1]
        self._import_desc(e, kind, head, self.opt_id(d + 2)[1], dclose)

    def _import_desc(self, e, kind: str, head: bytes, j: int, end: int) -> None:
        if kind == "func":
            tidx, pnames, j = self.typeuse(j, end, True)
            self.field_end(j, end, "imported function")
            e.imports += head + b"\x00" + u32(tidx)
            self.names.locals_of(e.index["func"], pnames)
        elif kind == "table":
            lim, j = self.limits(j, "table")
            rt, j = self.reftype(j)
            self.field_end(j, end, "imported table")
            e.imports += head + bytes([1, rt]) + lim
        elif kind == "memory":
            lim, j = self.limits(j, "memory")
            self.field_end(j, end, "imported memory")
            e.imports += head + b"\x02" + lim
        else:
            gt, j = self.globaltype(j)
            self.field_end(j, end, "imported global")
            e.imports += head + b"\x03" + gt
        e.index[kind] += 1
        e.n_imports += 1

    def _definition(self, e, kind: str, i: int, close: int):
        """The head shared by func, table, memory and global fields: the
        optional id, inline exports, then either an inline import (emitted
        here; returns None) or a definition: ``(its index, its first token)``.
        Imports and definitions of a kind share one index space."""
        idx = e.index[kind]
        j = self._exports(e, self.opt_id(i + 2)[1], _IMPORT_KIND[kind], idx)
        head, j = self._inline_import(j)
        if head is not None:
            self._import_desc(e, kind, head, j, close)
            return None
        e.index[kind] = idx + 1
        return idx, j

    def _emit_func(self, e, i: int, close: int) -> None:
        d = self._definition(e, "func", i, close)
        if d is None:
            return
        fidx, j = d
        tidx, pnames, j = self.typeuse(j, close, True)
        local_names: dict[str, int] = {}
        for k, nm in enumerate(pnames):
            if nm is not None:
                if nm in local_names:
                    raise self.err(f"duplicate local {nm}", j)
                local_names[nm] = k
        toks = self.toks
        n = len(pnames)
        ltypes = bytearray()
        all_names = list(pnames)
        while toks[j] == "(" and toks[j + 1] == "local":
            c = self.match[j]
            k = j + 2
            if toks[k][0] == "$":
                nm = self.check_id(k)
                if nm in local_names:
                    raise self.err(f"duplicate local {nm}", k)
                local_names[nm] = n
                all_names.append(nm)
                ltypes.append(self.valtype(k + 1))
                n += 1
                self.field_end(k + 2, c, "local declaration")
            else:
                for k in range(k, c):
                    ltypes.append(self.valtype(k))
                    all_names.append(None)
                    n += 1
            j = c + 1
        body = bytearray()
        # local declarations: runs of equal types
        runs = []
        for t in ltypes:
            if runs and runs[-1][1] == t:
                runs[-1][0] += 1
            else:
                runs.append([1, t])
        body += u32(len(runs))
        for cnt, t in runs:
            body += u32(cnt)
            body.append(t)
        self.names.begin_func(fidx)
        compile_instrs(self, j, close, local_names, body)
        body.append(0x0B)
        self.names.end_func()
        self.names.locals_of(fidx, all_names)
        e.funcs += u32(tidx)
        e.n_funcs += 1
        e.code += uleb(len(body)) + body

    def _emit_table(self, e, i: int, close: int) -> None:
        toks = self.toks
        d = self._definition(e, "table", i, close)
        if d is None:
            return
        tidx, j = d
        t = toks[j]
        if t in REFTYPES or t == "(":
            rt, j = self.reftype(j)
            if toks[j] != "(" or toks[j + 1] != "elem":
                raise self.err("expected '(elem' after the table's element type", j)
            c = self.match[j]
            payload, count, is_exprs = self._elem_list(j + 2, c, rt, allow_bare=True)
            self.field_end(c + 1, close, "table")
            lim = b"\x01" + u32(count) + u32(count)
            e.tables += bytes([rt]) + lim
            e.n_tables += 1
            seg = self._elem_segment("active", tidx, True, b"\x41\x00\x0b", rt, payload, count, is_exprs)
            e.elems += seg
            e.n_elems += 1
            return
        lim, j = self.limits(j, "table")
        rt, j = self.reftype(j)
        self.field_end(j, close, "table")
        e.tables += bytes([rt]) + lim
        e.n_tables += 1

    def _emit_memory(self, e, i: int, close: int) -> None:
        toks = self.toks
        d = self._definition(e, "memory", i, close)
        if d is None:
            return
        _, j = d
        if toks[j] == "(" and toks[j + 1] == "data":
            c = self.match[j]
            data = b"".join(self.strings(j + 2, c))
            self.field_end(c + 1, close, "memory")
            pages = (len(data) + _PAGE - 1) // _PAGE
            e.mems += b"\x01" + u32(pages) + u32(pages)
            e.n_mems += 1
            e.datas += b"\x00\x41\x00\x0b" + u32(len(data)) + data
            e.n_datas += 1
            return
        lim, j = self.limits(j, "memory")
        self.field_end(j, close, "memory")
        e.mems += lim
        e.n_mems += 1

    def _emit_global(self, e, i: int, close: int) -> None:
        d = self._definition(e, "global", i, close)
        if d is None:
            return
        _, j = d
        gt, j = self.globaltype(j)
        e.globals += gt + self.const_expr(j, close)
        e.n_globals += 1

    def _emit_export(self, e, i: int, close: int) -> None:
        toks = self.toks
        nm = self.utf8_name(i + 2)
        d = i + 3
        if toks[d] != "(":
            raise self.err("expected an export description '('", d)
        kind = toks[d + 1]
        if kind not in _IMPORT_KIND:
            raise self.err(f"unknown export kind {kind!r}", d + 1)
        idx = self.index(kind, d + 2)
        self.field_end(d + 3, self.match[d], "export description")
        self.field_end(self.match[d] + 1, close, "export")
        e.exports += enc_name(nm) + bytes([_IMPORT_KIND[kind]]) + u32(idx)
        e.n_exports += 1

    def _emit_start(self, e, i: int, close: int) -> None:
        if e.start is not None:
            raise self.err("multiple start sections", i)
        e.start = self.index("func", i + 2)
        self.field_end(i + 3, close, "start")

    def _offset(self, j: int) -> tuple[bytes, int]:
        toks = self.toks
        if toks[j] != "(":
            raise self.err("expected an offset expression", j)
        c = self.match[j]
        if toks[j + 1] == "offset":
            return self.const_expr(j + 2, c), c + 1
        return self.const_expr(j, c + 1), c + 1

    def _elem_list(self, j: int, end: int, rt: int | None, allow_bare: bool):
        """Element list items: (payload bytes, count, whether expressions)."""
        toks = self.toks
        out = bytearray()
        count = 0
        if toks[j] == "(" or (rt is not None and not allow_bare):
            # expressions: (item instr*) or one folded instruction each
            while j < end:
                if toks[j] != "(":
                    raise self.err("expected an element expression '('", j)
                c = self.match[j]
                if toks[j + 1] == "item":
                    out += self.const_expr(j + 2, c)
                else:
                    out += self.const_expr(j, c + 1)
                count += 1
                j = c + 1
            return out, count, True
        while j < end:
            out += u32(self.index("func", j))
            count += 1
            j += 1
        return out, count, False

    def _elem_segment(self, mode: str, table: int, explicit: bool, offset: bytes, rt: int,
                      payload: bytes, count: int, is_exprs: bool) -> bytes:
        body = u32(count) + payload
        if not is_exprs:
            if mode == "active":
                if not explicit:
                    return b"\x00" + offset + body
                return b"\x02" + u32(table) + offset + b"\x00" + body
            return (b"\x01" if mode == "passive" else b"\x03") + b"\x00" + body
        if mode == "active":
            if not explicit and rt == FUNCREF:
                return b"\x04" + offset + body
            return b"\x06" + u32(table) + offset + bytes([rt]) + body
        return (b"\x05" if mode == "passive" else b"\x07") + bytes([rt]) + body

    def _emit_elem(self, e, i: int, close: int) -> None:
        toks = self.toks
        ident, j = self.opt_id(i + 2)
        mode = "passive"
        table = 0
        explicit = False
        offset = b""
        if toks[j] == "declare":
            mode = "declare"
            j += 1
        else:
            if toks[j] == "(" and toks[j + 1] == "table":
                table = self.index("table", j + 2)
                self.field_end(j + 3, self.match[j], "table use")
                explicit = True
                j = self.match[j] + 1
                mode = "active"
            elif "0" <= toks[j][0] <= "9" and toks[j + 1] == "(":
                table = self.uint(j, "table index")
                explicit = table != 0
                j += 1
                mode = "active"
            if toks[j] == "(" and toks[j + 1] not in ("item",) and toks[j + 1] != "ref":
                offset, j = self._offset(j)
                mode = "active"
            elif mode == "active":
                raise self.err("expected an offset expression", j)
        t = toks[j]
        if t == "func":
            payload, count, is_exprs = self._elem_list(j + 1, close, None, True)
            rt = FUNCREF
            if is_exprs:
                raise self.err("expected function indices after 'func'", j + 1)
        elif t in REFTYPES or (t == "(" and toks[j + 1] == "ref"):
            rt, j = self.reftype(j)
            payload, count, is_exprs = self._elem_list(j, close, rt, False)
        elif mode == "active" and not explicit:
            rt = FUNCREF
            payload, count, is_exprs = self._elem_list(j, close, None, True)
            if is_exprs:
                raise self.err("expected function indices", j)
        else:
            raise self.err(f"expected an element type or 'func', found {t!r}", j)
        e.elems += self._elem_segment(mode, table, explicit, offset, rt, payload, count, is_exprs)
        e.n_elems += 1

    def _emit_data(self, e, i: int, close: int) -> None:
        toks = self.toks
        ident, j = self.opt_id(i + 2)
        mem = None
        if toks[j] == "(" and toks[j + 1] == "memory":
            mem = self.index("memory", j + 2)
            self.field_end(j + 3, self.match[j], "memory use")
            j = self.match[j] + 1
        elif "0" <= toks[j][0] <= "9" and toks[j + 1] == "(":
            mem = self.uint(j, "memory index")
            j += 1
        if toks[j] == "(":
            offset, j = self._offset(j)
            data = b"".join(self.strings(j, close))
            if mem:
                e.datas += b"\x02" + u32(mem) + offset + u32(len(data)) + data
            else:
                e.datas += b"\x00" + offset + u32(len(data)) + data
        else:
            if mem is not None:
                raise self.err("expected an offset expression", j)
            data = b"".join(self.strings(j, close))
            e.datas += b"\x01" + u32(len(data)) + data
        e.n_datas += 1


class _Sections:
    """Section bodies being filled while the fields are emitted."""

    def __init__(self):
        self.imports = bytearray()
        self.funcs = bytearray()
        self.tables = bytearray()
        self.mems = bytearray()
        self.globals = bytearray()
        self.exports = bytearray()
        self.elems = bytearray()
        self.code = bytearray()
        self.datas = bytearray()
        self.n_imports = self.n_funcs = self.n_tables = self.n_mems = self.n_globals = 0
        self.n_exports = self.n_elems = self.n_datas = 0
        # The next index of each kind: imports come first, then definitions.
        self.index = dict.fromkeys(_IMPORT_KIND, 0)
        self.start = None

    def finish(self, m: ModuleCompiler) -> bytes:
        out = bytearray(b"\x00asm\x01\x00\x00\x00")
        if m.types:
            body = bytearray()
            for params, results in m.types:
                body += b"\x60" + u32(len(params)) + params + u32(len(results)) + results
            out += section(1, len(m.types), body)
        for sid, n, body in ((2, self.n_imports, self.imports), (3, self.n_funcs, self.funcs),
                             (4, self.n_tables, self.tables), (5, self.n_mems, self.mems),
                             (6, self.n_globals, self.globals), (7, self.n_exports, self.exports)):
            if n:
                out += section(sid, n, body)
        if self.start is not None:
            out += raw_section(8, u32(self.start))
        if self.n_elems:
            out += section(9, self.n_elems, self.elems)
        if m.needs_datacount:
            out += raw_section(12, u32(self.n_datas))
        if self.n_funcs:
            out += section(10, self.n_funcs, self.code)
        if self.n_datas:
            out += section(11, self.n_datas, self.datas)
        names = m.names.encode()
        if names:
            out += raw_section(0, enc_name(b"name") + names)
        return bytes(out)


def _strings(src: Source, toks, offs, i: int, end: int) -> list[bytes]:
    out = []
    for k in range(i, end):
        b = string_bytes(toks[k])
        if b is None:
            raise src.error(f"expected a string, found {toks[k]!r}", offs[k])
        out.append(b)
    return out


def compile_module(src: Source, toks, offs, match, start: int, end: int, module_id: str | None = None) -> bytes:
    """Compile module fields in tokens ``[start, end)`` (after ``module $id?``)."""
    return ModuleCompiler(src, toks, offs, match).compile(start, end, module_id)


def wat2wasm(text: str | bytes) -> bytes:
    """Translate WebAssembly text to a binary module.

    ``text`` is a module in the text format: ``(module ...)``, a bare list of
    module fields, or ``(module binary ...)``/``(module quote ...)``.
    Raises :class:`pywinch.errors.WatError` (with ``line`` and ``column``) on
    any syntax error.
    """
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = decode_utf8(bytes(text))
    src = Source(text)
    toks, offs, match = tokenize(src)
    n = len(toks)
    if n == 0:
        # The grammar's bare `modulefield*` admits empty text, but an empty file
        # handed to Module is a mistake far more often than an empty module, so
        # refuse it as wasmtime-py (the wat crate) does.
        raise WatError("expected at least one module field", 1, 1)
    if n >= 2 and toks[0] == "(" and toks[1] == "module" and match[0] == n - 1:
        return module_from_tokens(src, toks, offs, match, 0)
    m = ModuleCompiler(src, toks, offs, match)
    return m.compile(0, n)


def module_from_tokens(src: Source, toks, offs, match, i: int) -> bytes:
    """The binary of the ``(module ...)`` at token ``i`` (text, binary or quote form)."""
    close = match[i]
    j = i + 2
    mid = None
    if toks[j][0] == "$":
        mid = toks[j]
        j += 1
    if toks[j] == "binary":
        return b"".join(_strings(src, toks, offs, j + 1, close))
    if toks[j] == "quote":
        return wat2wasm(b" ".join(_strings(src, toks, offs, j + 1, close)))
    return compile_module(src, toks, offs, match, j, close, mid)
