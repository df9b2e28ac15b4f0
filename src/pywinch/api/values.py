"""``Val``: a typed Wasm value (wasmtime-py's), accepted wherever a raw Python value is."""

from __future__ import annotations

import typing

from ..errors import TypeCheckError, WasmError
from ..runtime import values as rv
from .types import ValType


class Val:
    __slots__ = ("_kind", "_val")

    def __init__(self, kind, val):
        self._kind = kind._code if isinstance(kind, ValType) else kind
        self._val = val

    @classmethod
    def i32(cls, val: int) -> "Val":
        if not isinstance(val, int):
            raise TypeCheckError("expected an integer")
        return cls(rv.I32, rv.signed32(rv.check_int(rv.I32, val)))

    @classmethod
    def i64(cls, val: int) -> "Val":
        if not isinstance(val, int):
            raise TypeCheckError("expected an integer")
        return cls(rv.I64, rv.signed64(rv.check_int(rv.I64, val)))

    @classmethod
    def f32(cls, val: float) -> "Val":
        if not isinstance(val, float):
            raise TypeCheckError("expected a float")
        return cls(rv.F32, rv.bits_f32(rv.f32_bits(val)))

    @classmethod
    def f64(cls, val: float) -> "Val":
        if not isinstance(val, float):
            raise TypeCheckError("expected a float")
        return cls(rv.F64, val)

    @classmethod
    def v128(cls, val: int) -> "Val":
        return cls(rv.V128, rv.check_int(rv.V128, val))

    @classmethod
    def externref(cls, extern: typing.Any) -> "Val":
        return cls(rv.EXTERNREF, extern)

    @classmethod
    def funcref(cls, f) -> "Val":
        return cls(rv.FUNCREF, f)

    @classmethod
    def ref_null(cls, ty: ValType) -> "Val":
        if ty == ValType.externref():
            return cls.externref(None)
        if ty == ValType.funcref():
            return cls.funcref(None)
        raise WasmError(f"Invalid reference type for `ref_null`: {ty}")

    def __eq__(self, rhs) -> bool:
        if isinstance(rhs, Val):
            return self._kind == rhs._kind and self._val == rhs._val
        return self._val == rhs

    def __hash__(self):
        return hash((self._kind, id(self._val) if self._kind in rv.REF_TYPES else self._val))

    def __repr__(self) -> str:
        return f"Val.{rv.NAMES[self._kind]}({self._val!r})"

    @property
    def value(self):
        return self._val

    @property
    def type(self) -> ValType:
        return ValType(self._kind)

    def _as(self, k):
        return self._val if self._kind == k else None

    def as_i32(self):
        return self._as(rv.I32)

    def as_i64(self):
        return self._as(rv.I64)

    def as_f32(self):
        return self._as(rv.F32)

    def as_f64(self):
        return self._as(rv.F64)

    def as_v128(self):
        return self._as(rv.V128)

    def as_externref(self):
        return self._as(rv.EXTERNREF)

    def as_funcref(self):
        return self._as(rv.FUNCREF)


def to_raw(state, t: int, v) -> int:
    """A Python value (or Val) of Wasm type ``t`` -> raw bits; TypeCheckError if it does not fit."""
    if type(v) is Val:
        if v._kind != t:
            raise TypeCheckError(f"expected a value of type {rv.type_name(t)}, got a Val of type {rv.type_name(v._kind)}")
        v = v._val
    if t == rv.EXTERNREF:
        return state.extern_to_raw(v)
    if t == rv.FUNCREF:
        return state.func_to_raw(v)
    return rv.num_to_raw(t, v)


def from_raw(state, t: int, raw: int):
    if t == rv.EXTERNREF:
        return state.raw_to_extern(raw)
    if t == rv.FUNCREF:
        return state.wrap_func(raw)
    return rv.raw_to_num(t, raw)
