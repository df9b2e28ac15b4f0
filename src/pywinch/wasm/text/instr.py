"""Instruction sequences of the text format, compiled straight to bytes.

One loop walks the tokens of a body with an explicit frame stack, so nesting
depth (folded expressions, blocks) costs list entries, never Python stack:

* a folded plain instruction ``(op imm* arg*)`` is encoded when its name is
  read and the bytes wait on the frame until its ``)``, after its arguments;
* folded ``(block ...)``/``(loop ...)`` emit their opcode at once and ``end``
  at ``)``; folded ``(if ...)`` holds its opcode until ``(then``;
* unfolded ``block``/``loop``/``if`` ... ``else`` ... ``end`` use the same stack.

Opcodes come from the shared table :mod:`pywinch.wasm.opcodes`; an
instruction without immediates is one table lookup and one append.
"""

from __future__ import annotations

import struct

from .. import opcodes as op
from ..types import EXTERNREF, FUNCREF
from .encode import u32, s32_of_bits, s64_of_bits, uleb
from .numbers import parse_int, parse_uint, parse_f32, parse_f64

ENC = [op.encoding(c) if op.NAMES[c] is not None else b"" for c in range(op.NUM_CODES)]
IMM = op.IMMEDIATES
# Text names of plain instructions; structured ones are handled by the loop.
BY_NAME = {k: v for k, v in op.BY_NAME.items() if k not in ("else", "end", "select_t")}
NATURAL_ALIGN = op.NATURAL_ALIGN

_IF = op.IF
_BLOCKISH = {"block": op.BLOCK, "loop": op.LOOP, "if": op.IF}

# frame kinds
_PLAIN, _FBLOCK, _FIF, _FTHEN, _FELSE, _UBLOCK, _UIF = range(7)

# The heap types of ``ref.null`` and ``(ref null ...)``: the reference type each stands for.
HEAPTYPES = {"func": FUNCREF, "extern": EXTERNREF}

# Lane count and lane width of each v128 shape.
_SHAPES = {
    "i8x16": (16, 8), "i16x8": (8, 16), "i32x4": (4, 32), "i64x2": (2, 64), "f32x4": (4, 32), "f64x2": (2, 64),
}


def v128_lanes(mod, i: int, end: int) -> tuple[int, int]:
    """Parse ``shape lane*`` of a v128 constant at token ``i``: (next index, value as int)."""
    toks = mod.toks
    shape = toks[i] if i < end else ")"
    info = _SHAPES.get(shape)
    if info is None:
        raise mod.err("expected a v128 shape (i8x16, i16x8, i32x4, i64x2, f32x4, f64x2)", i)
    count, bits = info
    i += 1
    value = 0
    for lane in range(count):
        if i >= end or toks[i] in ("(", ")"):
            raise mod.err(f"expected {count} lane values for {shape}", i)
        t = toks[i]
        try:
            if shape[0] == "i":
                v = parse_int(t, bits)
            elif bits == 32:
                v = parse_f32(t)
            else:
                v = parse_f64(t)
        except ValueError as e:
            raise mod.err(str(e), i) from None
        value |= v << (lane * bits)
        i += 1
    return i, value


def compile_instrs(mod, i: int, end: int, local_names: dict | None, out: bytearray) -> None:
    """Compile the instructions in tokens ``[i, end)`` into ``out`` (no final ``end``).

    ``mod`` is the module compiler (name resolution, types); ``local_names``
    maps local identifiers to indices (None in constant expressions).
    """
    toks = mod.toks
    match = mod.match
    frames: list[list] = []
    labels: list[str | None] = []
    names = mod.names
    block_no = 0
    while i < end:
        t = toks[i]
        if t == "(":
            name = toks[i + 1] if i + 1 < end else ")"
            code = BY_NAME.get(name)
            top = frames[-1][0] if frames else -1
            if code is not None and code not in _BLOCKISH_CODES:
                if top == _FIF and frames[-1][2] > 0:
                    raise mod.err("expected '(then' or '(else' in folded if", i + 1)
                buf = bytearray()
                j = _immediates(mod, code, i + 2, match[i], local_names, labels, buf)
                frames.append([_PLAIN, buf, 0])
                i = j
                continue
            if name in _BLOCKISH:
                if top == _FIF and frames[-1][2] > 0:
                    raise mod.err("expected '(then' or '(else' in folded if", i + 1)
                label, j = _label(mod, i + 2)
                if label is not None:
                    names.label(block_no, label)
                block_no += 1
                buf = bytearray(ENC[_BLOCKISH[name]])
                j = mod.blocktype(j, match[i], buf)
                if name == "if":
                    frames.append([_FIF, buf, 0, label])
                else:
                    out += buf
                    labels.append(label)
                    frames.append([_FBLOCK, None, 0])
                i = j
                continue
            if name == "then" and top == _FIF and frames[-1][2] == 0:
                f = frames[-1]
                out += f[1]
                labels.append(f[3])
                f[2] = 1
                frames.append([_FTHEN, None, 0])
                i += 2
                continue
            if name == "else" and top == _FIF and frames[-1][2] == 1:
                out += ENC[op.ELSE]
                frames[-1][2] = 2
                frames.append([_FELSE, None, 0])
                i += 2
                continue
            if name in ("then", "else"):
                raise mod.err(f"unexpected '({name}' outside a folded if", i + 1)
            raise mod.err(f"unknown operator {name!r}" if name not in "()" else "expected an instruction", i + 1)
        if t == ")":
            if not frames:
                raise mod.err("unexpected ')'", i)
            f = frames.pop()
            kind = f[0]
            if kind == _PLAIN:
                out += f[1]
            elif kind == _FBLOCK:
                out += ENC[op.END]
                labels.pop()
            elif kind == _FIF:
                if f[2] == 0:
                    raise mod.err("expected '(then' in folded if", i)
                out += ENC[op.END]
                labels.pop()
            elif kind == _FTHEN or kind == _FELSE:
                pass
            else:
                raise mod.err("expected 'end' to close the block", i)
            i += 1
            continue
        # An unfolded (plain) instruction.
        if frames:
            k = frames[-1][0]
            if k == _PLAIN or k == _FIF:
                raise mod.err("expected a folded instruction '(' or ')'", i)
        code = BY_NAME.get(t)
        if code is None:
            if t[0] == "(":
                raise mod.err("expected an instruction", i)
            if t == "end":
                if not frames or frames[-1][0] < _UBLOCK:
                    raise mod.err("unexpected 'end' (no open block)", i)
                f = frames.pop()
                i = _end_label(mod, i + 1, labels.pop())
                out += ENC[op.END]
                continue
            if t == "else":
                if not frames or frames[-1][0] != _UIF or frames[-1][2]:
                    raise mod.err("unexpected 'else' (no open if)", i)
                frames[-1][2] = 1
                i = _end_label(mod, i + 1, labels[-1])
                out += ENC[op.ELSE]
                continue
            if t[0] == "$":
                raise mod.err(f"unexpected identifier {t}", i)
            raise mod.err(f"unknown operator {t!r}", i)
        kind = IMM[code]
        if kind == 0 and code != _SELECT:
            out += ENC[code]
            i += 1
            continue
        if code in _BLOCKISH_CODES:
            label, j = _label(mod, i + 1)
            if label is not None:
                names.label(block_no, label)
            block_no += 1
            out += ENC[code]
            i = mod.blocktype(j, end, out)
            labels.append(label)
            frames.append([_UIF if code == _IF else _UBLOCK, None, 0])
            continue
        i = _immediates(mod, code, i + 1, end, local_names, labels, out)
    if frames:
        raise mod.err("expected 'end' to close the block", end)


_BLOCKISH_CODES = {op.BLOCK, op.LOOP, op.IF}
_SELECT = op.SELECT


def _label(mod, i: int) -> tuple[str | None, int]:
    t = mod.toks[i]
    if t[0] == "$":
        mod.check_id(i)
        return t, i + 1
    return None, i


def _end_label(mod, i: int, label: str | None) -> int:
    t = mod.toks[i]
    if t[0] == "$":
        if t != label:
            raise mod.err(f"mismatching label {t} (block label is {label or 'absent'})", i)
        return i + 1
    return i


def _label_index(mod, i: int, labels: list) -> int:
    t = mod.toks[i]
    if t[0] == "$":
        for depth in range(len(labels) - 1, -1, -1):
            if labels[depth] == t:
                return len(labels) - 1 - depth
        raise mod.err(f"unknown label {t}", i)
    try:
        return parse_uint(t)
    except ValueError:
        raise mod.err(f"expected a label, found {t!r}", i) from None


def _is_index(t: str) -> bool:
    c = t[0]
    return c == "$" or "0" <= c <= "9"


def _immediates(mod, code: int, i: int, end: int, local_names, labels, out: bytearray) -> int:
    """Encode instruction ``code`` and its immediates starting at token ``i``; returns the next index."""
    toks = mod.toks
    kind = IMM[code]
    enc = ENC[code]
    if kind == 0:
        if code == _SELECT and toks[i] == "(" and toks[i + 1] == "result":
            types = bytearray()
            while toks[i] == "(" and toks[i + 1] == "result":
                close = mod.match[i]
                for j in range(i + 2, close):
                    types.append(mod.valtype(j))
                i = close + 1
            out += ENC[op.SELECT_TYPED]
            out += u32(len(types))
            out += types
            return i
        out += enc
        return i
    if kind == op.LOCAL:
        t = toks[i]
        if t[0] == "$":
            idx = local_names.get(t) if local_names is not None else None
            if idx is None:
                raise mod.err(f"unknown local {t}", i)
        else:
            idx = mod.uint(i, "local index")
        out += enc
        out += u32(idx)
        return i + 1
    if kind == op.I32:
        try:
            v = parse_int(toks[i], 32)
        except ValueError as e:
            raise mod.err(str(e) if toks[i] not in "()" else "expected an i32 literal", i) from None
        out += enc
        out += s32_of_bits(v)
        return i + 1
    if kind == op.I64:
        try:
            v = parse_int(toks[i], 64)
        except ValueError as e:
            raise mod.err(str(e) if toks[i] not in "()" else "expected an i64 literal", i) from None
        out += enc
        out += s64_of_bits(v)
        return i + 1
    if kind == op.F32 or kind == op.F64:
        try:
            if kind == op.F32:
                data = struct.pack("<I", parse_f32(toks[i]))
            else:
                data = struct.pack("<Q", parse_f64(toks[i]))
        except ValueError as e:
            raise mod.err(str(e) if toks[i] not in "()" else "expected a float literal", i) from None
        out += enc
        out += data
        return i + 1
    if kind == op.MEMARG:
        return _memarg(mod, code, i, end, out, lane=False)
    if kind == op.GLOBAL:
        out += enc
        out += u32(mod.index("global", i))
        return i + 1
    if kind == op.FUNC:
        out += enc
        out += u32(mod.index("func", i))
        return i + 1
    if kind == op.LABEL:
        out += enc
        out += u32(_label_index(mod, i, labels))
        return i + 1
    if kind == op.BR_TABLE:
        targets = []
        while i < end and toks[i] not in ("(", ")") and _is_index(toks[i]):
            targets.append(_label_index(mod, i, labels))
            i += 1
        if not targets:
            raise mod.err("expected a label for br_table", i)
        out += enc
        out += u32(len(targets) - 1)
        for tgt in targets:
            out += u32(tgt)
        return i
    if kind == op.CALL_INDIRECT:
        table = 0
        if _is_index(toks[i]):
            table = mod.index("table", i)
            i += 1
        tbuf = bytearray()
        i = mod.typeuse_index(i, end, tbuf)
        out += enc
        out += tbuf
        out += u32(table)
        return i
    if kind == op.TABLE:
        table = 0
        if _is_index(toks[i]):
            table = mod.index("table", i)
            i += 1
        out += enc
        out += u32(table)
        return i
    if kind == op.MEMORY:
        mem = 0
        if _is_index(toks[i]):
            mem = mod.index("memory", i)
            i += 1
        out += enc
        out += u32(mem)
        return i
    if kind == op.REFTYPE:
        ht = HEAPTYPES.get(toks[i])
        if ht is None:
            raise mod.err("expected a heap type (func or extern)", i)
        out += enc
        out.append(ht)
        return i + 1
    if kind == op.DATA or kind == op.ELEM:
        space = "data" if kind == op.DATA else "elem"
        out += enc
        out += u32(mod.index(space, i))
        if kind == op.DATA:
            mod.needs_datacount = True
        return i + 1
    if kind == op.MEMORY_INIT or kind == op.TABLE_INIT:
        first_space, second = ("memory", "data") if kind == op.MEMORY_INIT else ("table", "elem")
        if _is_index(toks[i]) and i + 1 < end and _is_index(toks[i + 1]):
            outer = mod.index(first_space, i)
            seg = mod.index(second, i + 1)
            i += 2
        else:
            outer = 0
            seg = mod.index(second, i)
            i += 1
        out += enc
        out += u32(seg)
        out += u32(outer)
        if kind == op.MEMORY_INIT:
            mod.needs_datacount = True
        return i
    if kind == op.MEMORY_COPY or kind == op.TABLE_COPY:
        space = "memory" if kind == op.MEMORY_COPY else "table"
        dst = src_ = 0
        if _is_index(toks[i]):
            dst = mod.index(space, i)
            if i + 1 < end and _is_index(toks[i + 1]):
                src_ = mod.index(space, i + 1)
                i += 2
            else:
                raise mod.err(f"expected a second {space} index", i + 1)
        out += enc
        out += u32(dst)
        out += u32(src_)
        return i
    if kind == op.V128:
        i, value = v128_lanes(mod, i, end)
        out += enc
        out += value.to_bytes(16, "little")
        return i
    if kind == op.SHUFFLE:
        lanes = bytearray()
        for _ in range(16):
            if i >= end or toks[i] in ("(", ")"):
                raise mod.err("expected 16 lane indices for i8x16.shuffle", i)
            lanes.append(mod.uint(i, "lane index", 8))
            i += 1
        out += enc
        out += lanes
        return i
    if kind == op.LANE:
        lane = mod.uint(i, "lane index", 8)
        out += enc
        out.append(lane)
        return i + 1
    if kind == op.MEMARG_LANE:
        return _memarg(mod, code, i, end, out, lane=True)
    raise mod.err(f"instruction {op.NAMES[code]} is not supported", i)   # pragma: no cover


def _memarg(mod, code: int, i: int, end: int, out: bytearray, lane: bool) -> int:
    toks = mod.toks
    mem = 0
    t = toks[i]
    # An index first is the memory, unless it is the lane of a lane instruction.
    if _is_index(t) and (not lane or (i + 1 < end and (_is_index(toks[i + 1])
                                                       or toks[i + 1].startswith(("offset=", "align="))))):
        mem = mod.index("memory", i)
        i += 1
        t = toks[i]
    offset = 0
    align = 1 << NATURAL_ALIGN[code]
    if t.startswith("offset="):
        try:
            offset = parse_uint(t[7:], 32)      # memory64 is not supported
        except ValueError as e:
            raise mod.err(str(e), i) from None
        i += 1
        t = toks[i]
    if t.startswith("align="):
        try:
            align = parse_uint(t[6:])
        except ValueError as e:
            raise mod.err(str(e), i) from None
        if align == 0 or align & (align - 1):
            raise mod.err(f"alignment must be a power of two, found {t[6:]}", i)
        i += 1
    flags = align.bit_length() - 1
    out += ENC[code]
    if mem:
        out += u32(flags | 0x40)
        out += u32(mem)
    else:
        out += u32(flags)
    out += uleb(offset)
    if lane:
        out.append(mod.uint(i, "lane index", 8))
        i += 1
    return i
