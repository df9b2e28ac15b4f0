"""The operator stream of a function body (or constant expression).

``read_operators(data, pos, end)`` is a generator of ``(code, imm, offset)``
triples, one per instruction, each decoded exactly once:

- ``code``: the dense opcode code of opcodes.py (``0x00..0xFF`` single-byte,
  ``FC_BASE + sub``, ``FD_BASE + sub``);
- ``offset``: the instruction's byte offset in ``data`` (the whole module, so
  offsets are module offsets, as Wasmtime reports them);
- ``imm``: by immediate kind (``opcodes.IMMEDIATES[code]``):

  ============== ===========================================================
  NONE           None
  BLOCKTYPE      int: ``>= 0`` a type index; ``-0x40`` (BLOCK_EMPTY) no
                 result; otherwise ``-t`` for the single result type ``t``
                 (``-0x7F`` is ``[] -> [i32]``)
  LABEL          int (relative depth)
  BR_TABLE       ``(labels: tuple[int, ...], default: int)``
  FUNC           int function index
  CALL_INDIRECT  ``(typeidx, tableidx)``
  LOCAL, GLOBAL  int index
  TABLE          int table index
  MEMARG         ``(align_log2, offset, memidx)``; memidx is 0 in 2.0
  MEMORY         int memory index (0)
  I32, I64       int, signed
  F32, F64       int, the raw IEEE bits
  SELECT_T       tuple of value types (the validator checks its length)
  REFTYPE        int value type (FUNCREF or EXTERNREF)
  MEMORY_INIT    ``(dataidx, memidx)``
  DATA, ELEM     int segment index
  MEMORY_COPY    ``(dst_memidx, src_memidx)``
  TABLE_INIT     ``(elemidx, tableidx)``
  TABLE_COPY     ``(dst_tableidx, src_tableidx)``
  V128           int, the 16 bytes little-endian
  SHUFFLE        bytes of the 16 lane indices
  LANE           int lane index
  MEMARG_LANE    ``(align_log2, offset, memidx, lane)``
  ============== ===========================================================

The stream tracks block nesting and stops right after the ``end`` that closes
the body; bytes left before ``end`` are the caller's to check (binary.py).  A
body that runs out before that ``end`` is malformed.  Every decoding failure
raises ``MalformedError`` with the specification's words.
"""

from __future__ import annotations

from ..errors import MalformedError
from . import opcodes as op
from .leb128 import EOF_MESSAGE, read_s32, read_s33, read_s64, read_u32
from .types import EXTERNREF, FUNCREF, VALTYPES

BLOCK_EMPTY = -0x40

# The stream's own dense classes of single-byte opcodes, tested as literals
# in the loop (most frequent first): 0 a u32 immediate (local.*, global.*, br,
# br_if, call), 1 none, 2 i32, 3 memarg, 4 end, 5 block type, 6 prefix,
# 7 illegal, 8 any other immediate (decoded by _read_imm).
_CLASS = [7] * 256
for _c in range(256):
    _k = op.IMMEDIATES[_c]
    if op.NAMES[_c] is None:
        continue
    if _k in (op.LOCAL, op.GLOBAL, op.LABEL, op.FUNC):
        _CLASS[_c] = 0
    elif _k == op.NONE:
        _CLASS[_c] = 1
    elif _k == op.I32:
        _CLASS[_c] = 2
    elif _k == op.MEMARG:
        _CLASS[_c] = 3
    elif _k == op.BLOCKTYPE:
        _CLASS[_c] = 5
    else:
        _CLASS[_c] = 8
_CLASS[op.END] = 4
_CLASS[0xFC] = 6
_CLASS[0xFD] = 6
del _c, _k

_IMM = op.IMMEDIATES
_NAMES = op.NAMES


class _Body(Exception):
    """Internal: an instruction ran past the end of the body."""


def _zero_byte(data, pos: int, end: int):
    if pos >= end:
        raise MalformedError(EOF_MESSAGE, pos)
    if data[pos] != 0:
        raise MalformedError("zero byte expected", pos)
    return pos + 1


def _read_imm(kind: int, data, pos: int, end: int):
    """Decode the immediate of ``kind`` at ``pos``: ``(imm, new_pos)``.
    ``end`` is the end of the file: the caller checks the body's end after.
    Only the kinds the loop does not decode itself reach here (not NONE,
    BLOCKTYPE, LABEL, FUNC, LOCAL, GLOBAL, I32, nor a single-byte MEMARG)."""
    if kind == op.BR_TABLE:
        count, pos = read_u32(data, pos, end)
        if count > end - pos:
            raise MalformedError(EOF_MESSAGE, pos)
        labels = []
        append = labels.append
        for _ in range(count):
            v = data[pos]
            if v & 0x80:
                v, pos = read_u32(data, pos, end)
            else:
                pos += 1
            append(v)
        default, pos = read_u32(data, pos, end)
        return (tuple(labels), default), pos
    if kind == op.I64:
        return read_s64(data, pos, end)
    if kind == op.F32:
        if pos + 4 > end:
            raise MalformedError(EOF_MESSAGE, pos)
        return int.from_bytes(data[pos:pos + 4], "little"), pos + 4
    if kind == op.F64:
        if pos + 8 > end:
            raise MalformedError(EOF_MESSAGE, pos)
        return int.from_bytes(data[pos:pos + 8], "little"), pos + 8
    if kind == op.CALL_INDIRECT or kind == op.TABLE_INIT or kind == op.TABLE_COPY:
        a, pos = read_u32(data, pos, end)
        b, pos = read_u32(data, pos, end)
        return (a, b), pos
    if kind == op.TABLE or kind == op.DATA or kind == op.ELEM:
        return read_u32(data, pos, end)
    if kind == op.MEMARG or kind == op.MEMARG_LANE:
        align, pos = read_u32(data, pos, end)
        offset, pos = read_u32(data, pos, end)
        if kind == op.MEMARG:
            return (align, offset, 0), pos
        if pos >= end:
            raise MalformedError(EOF_MESSAGE, pos)
        return (align, offset, 0, data[pos]), pos + 1
    if kind == op.MEMORY:
        return 0, _zero_byte(data, pos, end)
    if kind == op.MEMORY_INIT:
        idx, pos = read_u32(data, pos, end)
        return (idx, 0), _zero_byte(data, pos, end)
    if kind == op.MEMORY_COPY:
        pos = _zero_byte(data, pos, end)
        return (0, 0), _zero_byte(data, pos, end)
    if kind == op.SELECT_T:
        count, pos = read_u32(data, pos, end)
        if count > end - pos:
            raise MalformedError(EOF_MESSAGE, pos)
        types = []
        for _ in range(count):
            t = data[pos]
            if t not in VALTYPES:
                raise MalformedError("malformed value type", pos)
            types.append(t)
            pos += 1
        return tuple(types), pos
    if kind == op.REFTYPE:
        if pos >= end:
            raise MalformedError(EOF_MESSAGE, pos)
        t = data[pos]
        if t != FUNCREF and t != EXTERNREF:
            raise MalformedError("malformed reference type", pos)
        return t, pos + 1
    if kind == op.V128:
        if pos + 16 > end:
            raise MalformedError(EOF_MESSAGE, pos)
        return int.from_bytes(data[pos:pos + 16], "little"), pos + 16
    if kind == op.SHUFFLE:
        if pos + 16 > end:
            raise MalformedError(EOF_MESSAGE, pos)
        return bytes(data[pos:pos + 16]), pos + 16
    if kind == op.LANE:
        if pos >= end:
            raise MalformedError(EOF_MESSAGE, pos)
        return data[pos], pos + 1
    raise AssertionError(f"immediate kind {kind}")


def read_blocktype(data, pos: int, end: int):
    b = data[pos]
    if not b & 0x80:
        if b & 0x40:
            if b != 0x40 and b not in VALTYPES:
                raise MalformedError("malformed value type", pos)
            return -b, pos + 1
        return b, pos + 1
    v, npos = read_s33(data, pos, end)
    if v < 0:
        raise MalformedError("malformed value type", pos)
    return v, npos


def read_op(data, pos: int, body_end: int):
    """Decode the one instruction at ``pos`` (``pos < body_end``):
    ``(code, imm, next_pos)``.  Raises exactly what ``read_operators`` raises
    for that instruction, so a hot loop that decodes the common forms itself
    (codegen/compiler.py) calls this for the rest and for every error."""
    end = len(data)
    off = pos
    try:
        code = data[pos]
        pos += 1
        k = _CLASS[code]
        if k == 0:
            imm, pos = read_u32(data, pos, end)
        elif k == 1 or k == 4:
            imm = None
        elif k == 2:
            imm, pos = read_s32(data, pos, end)
        elif k == 3:
            a, pos = read_u32(data, pos, end)
            o, pos = read_u32(data, pos, end)
            imm = (a, o, 0)
        elif k == 5:
            imm, pos = read_blocktype(data, pos, end)
        elif k == 6:
            sub, pos = read_u32(data, pos, end)
            code = (op.FC_BASE if code == 0xFC else op.FD_BASE) + sub
            if sub > 0xFF or _NAMES[code] is None:
                raise MalformedError("illegal opcode", off)
            if pos > body_end:
                raise _Body()
            kind = _IMM[code]
            imm = None
            if kind:
                imm, pos = _read_imm(kind, data, pos, end)
        elif k == 7:
            raise MalformedError("illegal opcode", off)
        else:
            imm, pos = _read_imm(_IMM[code], data, pos, end)
        if pos > body_end:
            raise _Body()
    except IndexError:
        raise MalformedError(EOF_MESSAGE, end) from None
    except _Body:
        raise MalformedError("section size mismatch", body_end) from None
    return code, imm, pos


def ran_out(data, pos: int):
    """The error of a body that ran out at ``pos`` before its final ``end``.
    The reference interpreter reads on into the next bytes: an else there
    ends the instruction sequence ("END opcode expected"), anything else
    eventually overruns the body."""
    if pos >= len(data):
        return MalformedError(EOF_MESSAGE, pos)
    if data[pos] == op.ELSE:
        return MalformedError("END opcode expected", pos)
    return MalformedError("section size mismatch", pos)


def read_operators(data: bytes, pos: int, end: int, exact: bool = True):
    """Yield ``(code, imm, offset)`` for the instructions in ``data[pos:end]``
    up to and including the ``end`` that closes the outermost block.  With
    ``exact`` (function bodies) that ``end`` must be the last byte: the
    generator raises "section size mismatch" when resumed after it otherwise.

    Immediates are read up to the end of ``data`` (as the reference
    interpreter does, so an overlong LEB128 crossing the body's end is
    reported as such); an instruction that ends past ``end`` is never
    yielded: it is "section size mismatch"."""
    classes = _CLASS
    depth = 0
    body_end = end
    end = len(data)
    try:
        while pos < body_end:
            off = pos
            code = data[pos]
            pos += 1
            k = classes[code]
            if k == 0:
                v = data[pos]
                if v & 0x80:
                    v, pos = read_u32(data, pos, end)
                else:
                    pos += 1
                if pos > body_end:
                    raise _Body()
                yield code, v, off
            elif k == 1:
                yield code, None, off
            elif k == 2:
                v = data[pos]
                if v & 0x80:
                    v, pos = read_s32(data, pos, end)
                else:
                    pos += 1
                    if v & 0x40:
                        v -= 0x80
                if pos > body_end:
                    raise _Body()
                yield code, v, off
            elif k == 3:
                a = data[pos]
                if a & 0x80:
                    a, pos = read_u32(data, pos, end)
                else:
                    pos += 1
                o = data[pos]
                if o & 0x80:
                    o, pos = read_u32(data, pos, end)
                else:
                    pos += 1
                if pos > body_end:
                    raise _Body()
                yield code, (a, o, 0), off
            elif k == 4:
                yield code, None, off
                if depth == 0:
                    if exact and pos != body_end:
                        raise MalformedError("section size mismatch", pos)
                    return
                depth -= 1
            else:
                # Block types, prefixed instructions, the other immediates and
                # illegal opcodes.
                code, imm, pos = read_op(data, off, body_end)
                if k == 5:
                    depth += 1
                yield code, imm, off
    except IndexError:
        raise MalformedError(EOF_MESSAGE, end) from None
    except _Body:
        raise MalformedError("section size mismatch", body_end) from None
    raise ran_out(data, pos)
