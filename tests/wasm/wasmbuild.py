"""A few helpers to write binary modules byte by byte in tests."""

from __future__ import annotations

from pywinch.wasm.leb128 import encode_s, encode_u32

HEADER = b"\x00asm\x01\x00\x00\x00"


def u(n: int) -> bytes:
    return encode_u32(n)


def s(n: int) -> bytes:
    return encode_s(n)


def vec(items) -> bytes:
    items = list(items)
    return u(len(items)) + b"".join(items)


def name(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return u(len(raw)) + raw


def section(sid: int, payload: bytes) -> bytes:
    return bytes([sid]) + u(len(payload)) + payload


def functype(params=(), results=()) -> bytes:
    return b"\x60" + vec(bytes([t]) for t in params) + vec(bytes([t]) for t in results)


def body(code: bytes, locals_=()) -> bytes:
    """A code-section entry: ``locals_`` as (count, type) pairs; ``code`` must end with 0x0B."""
    inner = vec(u(n) + bytes([t]) for n, t in locals_) + code
    return u(len(inner)) + inner


def module(*sections: bytes) -> bytes:
    return HEADER + b"".join(sections)


def one_func(code: bytes, params=(), results=(), locals_=(), extra=b"") -> bytes:
    """A module with one function of the given type and body (plus ``extra`` sections placed after function)."""
    return module(section(1, vec([functype(params, results)])), section(3, vec([u(0)])), extra,
                  section(10, vec([body(code, locals_)])))
