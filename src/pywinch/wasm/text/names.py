"""The ``name`` custom section built from the text's identifiers.

Written as ``wasm-tools parse`` writes it, with the extended subsections:
module (0), functions (1), locals (2), labels (3), types (4), tables (5),
memories (6), globals (7), elements (8), data (9), and the parameter names
of explicit function types (12).  Only named entities
appear; the runtime reads it for backtraces.
"""

from __future__ import annotations

from .encode import u32, name as enc_name

_SUBSECTION = {"func": 1, "type": 4, "table": 5, "memory": 6, "global": 7, "elem": 8, "data": 9}


class NameSection:
    __slots__ = ("module", "maps", "locals", "labels", "cur_func", "type_params")

    def __init__(self):
        self.module: str | None = None
        self.maps: dict[int, list[tuple[int, str]]] = {}
        self.locals: list[tuple[int, list[tuple[int, str]]]] = []
        self.labels: list[tuple[int, list[tuple[int, str]]]] = []
        self.cur_func: list | None = None
        # parameter names of explicit function types (wasm-tools' subsection 12)
        self.type_params: list[tuple[int, list[tuple[int, str]]]] = []

    def add(self, space: str, idx: int, ident: str) -> None:
        self.maps.setdefault(_SUBSECTION[space], []).append((idx, ident))

    def locals_of(self, func: int, names: list) -> None:
        """``names``: an identifier or None per local (parameters first)."""
        _add_named(self.locals, func, names)

    def params_of_type(self, type_idx: int, names: list) -> None:
        _add_named(self.type_params, type_idx, names)

    def begin_func(self, func: int) -> None:
        self.cur_func = []
        self.labels.append((func, self.cur_func))

    def label(self, block_no: int, ident: str) -> None:
        if self.cur_func is not None:
            self.cur_func.append((block_no, ident))

    def end_func(self) -> None:
        self.cur_func = None

    def encode(self) -> bytes:
        out = bytearray()
        if self.module is not None:
            _sub(out, 0, enc_name(self.module[1:].encode()))
        subs = self.maps
        for sid in sorted(set(subs) | {2, 3, 12}):
            if sid == 12:
                _indirect(out, 12, self.type_params)
            elif sid == 2:
                _indirect(out, 2, self.locals)
            elif sid == 3:
                _indirect(out, 3, [(f, ls) for f, ls in self.labels if ls])
            else:
                entries = sorted(subs[sid])
                _sub(out, sid, _name_map(entries))
        return bytes(out)


def _add_named(groups: list, idx: int, names: list) -> None:
    named = [(k, n) for k, n in enumerate(names) if n is not None]
    if named:
        groups.append((idx, named))


def _name_map(entries) -> bytes:
    body = bytearray(u32(len(entries)))
    for idx, ident in entries:
        body += u32(idx) + enc_name(ident[1:].encode())
    return bytes(body)


def _indirect(out: bytearray, sid: int, groups) -> None:
    if not groups:
        return
    body = bytearray(u32(len(groups)))
    for idx, entries in sorted(groups, key=lambda g: g[0]):
        body += u32(idx) + _name_map(entries)
    _sub(out, sid, body)


def _sub(out: bytearray, sid: int, body: bytes) -> None:
    out.append(sid)
    out += u32(len(body))
    out += body
