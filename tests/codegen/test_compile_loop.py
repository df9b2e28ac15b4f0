"""The compile loop (codegen/compiler.py) decodes and validates the frequent
operators itself and leaves the rest to wasm/'s read_op and the validator.
Whatever it rejects must be rejected exactly as the decoder and validator
alone reject it (class, message, offset), and it must accept what they accept.
"""

from __future__ import annotations

import pathlib
import random

import pytest

from pywinch.codegen import compile_module
from pywinch.errors import ModuleError, UnsupportedError
from pywinch.wasm import decode_module, validate_bytes
from pywinch.wasm.leb128 import encode_u32 as u

ROOT = pathlib.Path(__file__).resolve().parents[2]
I32, I64, F32 = 0x7F, 0x7E, 0x7D


def outcome(fn):
    try:
        fn()
    except UnsupportedError:
        return ("unsupported",)
    except ModuleError as e:
        return (type(e).__name__, e.message, e.offset)
    return ("ok",)


def both(data: bytes):
    """(validator alone, compile path) outcomes of ``data``."""
    return outcome(lambda: validate_bytes(data)), outcome(lambda: compile_module(decode_module(data)))


def module(code: bytes, params=(), results=(), locals_=(), memory=True, size=None, extra_globals=0) -> bytes:
    """One function ``code`` (its body bytes, final end included); ``size``
    overrides the body size field (to cut a body short or run it long)."""
    def vec(items):
        return u(len(items)) + b"".join(items)

    def sec(sid, payload):
        return bytes([sid]) + u(len(payload)) + payload
    inner = vec([u(n) + bytes([t]) for n, t in locals_]) + code
    sections = [sec(1, vec([b"\x60" + vec([bytes([t]) for t in params]) + vec([bytes([t]) for t in results])])),
                sec(3, vec([u(0)]))]
    if memory:
        sections.append(sec(5, vec([b"\x00\x01"])))
    if extra_globals:       # i64 constants
        sections.append(sec(6, vec([b"\x7e\x00\x42\x07\x0b"] * extra_globals)))
    sections.append(sec(10, vec([u(len(inner) if size is None else size) + inner])))
    return b"\x00asm\x01\x00\x00\x00" + b"".join(sections)


# Each fast path of the loop, with an error in its immediate or its operands.
CASES = {
    "local.get past the body": module(b"\x20", size=2),
    "local.get leb past the body": module(b"\x20\x80\x00\x0b", size=3),
    "local.get leb past the file": module(b"\x20\x80"),
    "local.get unknown": module(b"\x20\x05\x1a\x0b", locals_=[(1, I32)]),
    "local.get overlong": module(b"\x20\x80\x80\x80\x80\x80\x00\x1a\x0b", locals_=[(1, I32)]),
    "i32.const past the body": module(b"\x41", size=2),
    "i32.const too large": module(b"\x41\x80\x80\x80\x80\x70\x1a\x0b"),
    "i32.add one operand": module(b"\x41\x01\x6a\x1a\x0b"),
    "i32.add wrong type": module(b"\x42\x01\x41\x01\x6a\x1a\x0b"),
    "i32.eqz on i64": module(b"\x42\x01\x45\x1a\x0b"),
    "local.set wrong type": module(b"\x42\x01\x21\x00\x0b", locals_=[(1, I32)]),
    "local.set unknown": module(b"\x41\x01\x21\x03\x0b", locals_=[(1, I32)]),
    "local.tee empty stack": module(b"\x22\x00\x1a\x0b", locals_=[(1, I32)]),
    "local.tee past the body": module(b"\x22", size=2),
    "br_if no condition": module(b"\x02\x40\x0d\x00\x0b\x0b"),
    "br_if i64 condition": module(b"\x02\x40\x42\x00\x0d\x00\x0b\x0b"),
    "br_if unknown label": module(b"\x41\x00\x0d\x05\x0b"),
    "br_if label values": module(b"\x02\x7f\x41\x00\x0d\x00\x1a\x41\x00\x0b\x1a\x0b"),
    "end leftover value": module(b"\x02\x40\x41\x01\x0b\x0b"),
    "end missing result": module(b"\x02\x7f\x0b\x1a\x0b"),
    "end wrong result": module(b"\x02\x7f\x42\x00\x0b\x1a\x0b"),
    "if without else, result": module(b"\x41\x00\x04\x7f\x41\x01\x0b\x1a\x0b"),
    "if without condition": module(b"\x04\x40\x0b\x0b"),
    "if i64 condition": module(b"\x42\x00\x04\x40\x0b\x0b"),
    "block bad type byte": module(b"\x02\x50\x0b\x0b"),
    "block unknown type index": module(b"\x02\x05\x0b\x0b"),
    "block type past the body": module(b"\x02", size=2),
    "else outside if": module(b"\x02\x40\x05\x0b\x0b"),
    "i32.load no address": module(b"\x28\x02\x00\x1a\x0b"),
    "i32.load i64 address": module(b"\x42\x00\x28\x02\x00\x1a\x0b"),
    "i32.load alignment": module(b"\x41\x00\x28\x03\x00\x1a\x0b"),
    "i32.load no memory": module(b"\x41\x00\x28\x02\x00\x1a\x0b", memory=False),
    "i32.load memarg past the body": module(b"\x41\x00\x28\x02", size=5),
    "i32.load offset too large": module(b"\x41\x00\x28\x02\x80\x80\x80\x80\x70\x1a\x0b"),
    "i32.store wrong value": module(b"\x41\x00\x42\x00\x36\x02\x00\x0b"),
    "i32.store alignment": module(b"\x41\x00\x41\x00\x36\x04\x00\x0b"),
    "call unknown": module(b"\x10\x07\x0b"),
    "call wrong argument": module(b"\x42\x00\x10\x00\x0b", params=(I32,)),
    "call missing argument": module(b"\x10\x00\x0b", params=(I32,)),
    "i64.const past the body": module(b"\x42", size=2),
    "i64.const too large": module(b"\x42\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02\x1a\x0b"),
    "i64.const as i32": module(b"\x42\x01\x41\x01\x6a\x1a\x0b"),
    "br unknown label": module(b"\x0c\x02\x0b"),
    "br label values missing": module(b"\x02\x7f\x0c\x00\x0b\x1a\x0b"),
    "global.get then wrong use": module(b"\x23\x00\x45\x0b", extra_globals=1),
    "call past the body": module(b"\x10", size=2),
    "global.get unknown": module(b"\x23\x00\x1a\x0b"),
    "drop empty": module(b"\x1a\x0b"),
    "select mixed": module(b"\x41\x00\x42\x00\x41\x00\x1b\x1a\x0b"),
    "illegal opcode": module(b"\x06\x0b"),
    "illegal prefixed": module(b"\xfc\x7f\x0b"),
    "no final end": module(b"\x41\x00\x1a", size=4),
    "no final end, else after": module(b"\x01\x05\x0b", size=2),
    "bytes after the final end": module(b"\x0b\x01\x0b"),
    "wrong function result": module(b"\x42\x00\x0b", results=(I32,)),
    "after br, wrong type": module(b"\x02\x40\x0c\x00\x42\x00\x6a\x0b\x0b"),
    "after unreachable, block result": module(b"\x00\x02\x7f\x0b\x45\x0b", results=(I32,)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_fast_path_rejects_as_the_validator(name):
    alone, compiled = both(CASES[name])
    assert alone[0] != "ok", "the case must be an error"
    assert compiled == alone


VALID = {
    "unreachable code of every kind": module(
        b"\x00\x41\x01\x6a\x45\x21\x00\x22\x00\x0d\x00\x28\x02\x00\x36\x02\x00\x02\x40\x0b\x04\x40\x05\x0b"
        b"\x1a\x0b", locals_=[(1, I32)]),
    "if with result and else": module(b"\x41\x01\x04\x7f\x41\x02\x05\x41\x03\x0b\x0b", results=(I32,)),
    "loop with br_if": module(b"\x03\x40\x41\x00\x0d\x00\x0b\x0b"),
    "call with arguments and result": module(b"\x20\x00\x10\x00\x0b", params=(I32,), results=(I32,)),
    "br with a value, drop on the dead stack": module(b"\x02\x7e\x42\x05\x0c\x00\x1a\x1a\x0b\x1a\x0b"),
    "global.get": module(b"\x23\x00\x50\x1a\x0b", extra_globals=1),
    "leb immediates": module(b"\x41\x80\x01\x21\x80\x00\x20\x80\x00\x28\x82\x00\x80\x01\x1a\x0b",
                             locals_=[(1, I32)]),
}


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_bodies_compile(name):
    assert both(VALID[name]) == (("ok",), ("ok",))


def test_mutants_of_a_program_agree():
    """Bytes of function bodies of a real program changed at random: the
    compile path and the validator reach the same verdict, message and offset."""
    data = (ROOT / "benchmarks" / "wasm" / "fib.wasm").read_bytes()
    codes = decode_module(data).codes
    rng = random.Random(5)
    seen = set()
    for _ in range(120):
        b = bytearray(data)
        body = rng.choice(codes)
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(body.start, body.end)
            b[i] = rng.choice((rng.randrange(256), b[i] ^ (1 << rng.randrange(8)), b[i] | 0x80,
                               0x0B, 0x20, 0x41, 0x0D, 0x02, 0x28))
        alone, compiled = both(bytes(b))
        assert compiled == alone
        seen.add(alone[0])
    assert {"InvalidError", "MalformedError"} <= seen


def test_spec_suite_rejections_agree(testsuite, tmp_path):
    """Every assert_invalid / assert_malformed binary module of the spec suite."""
    wasm = pytest.importorskip("wasm.spec_json")
    if wasm.wasm_tools() is None:
        pytest.skip("wasm-tools not installed")
    wrong = []
    count = 0
    for wast in sorted(testsuite.glob("*.wast")):
        for kind, data, text, line in wasm.convert(wast, tmp_path / wast.stem):
            if kind == "valid":
                continue
            count += 1
            alone, compiled = both(data)
            if compiled != alone:
                wrong.append(f"{wast.name}:{line}: validator {alone}, compile path {compiled}")
    assert count > 500
    assert not wrong, "\n".join(wrong[:20])


@pytest.mark.parametrize("flags", [{}, {"epoch": 2}, {"epoch": True, "fuel": True}])
def test_replayed_prologue_is_the_emitted_one(flags, monkeypatch):
    """compile_function replays the first function's prologue for the others;
    emitting every prologue afresh gives the same module."""
    from pywinch.codegen import compiler
    data = (ROOT / "benchmarks" / "wasm" / "hashtable.wasm").read_bytes()
    replayed = compile_module(decode_module(data), **flags)
    original = compiler.ModuleCompiler._prologue

    def fresh(self, c, ndeclared):
        self._prologue_template = None
        original(self, c, ndeclared)
    monkeypatch.setattr(compiler.ModuleCompiler, "_prologue", fresh)
    emitted = compile_module(decode_module(data), **flags)
    assert len(replayed.func_offsets) > 10
    assert replayed.code == emitted.code
    assert replayed.traps == emitted.traps


def test_kept_trampolines_are_the_built_ones():
    """Entry trampolines are kept across modules by signature: what a second
    module gets is what building them gives."""
    from pywinch import trampoline as tramp
    from pywinch.codegen import compiler
    m = decode_module((ROOT / "benchmarks" / "wasm" / "fib.wasm").read_bytes())
    compile_module(m)
    for ti in set(m.funcs):
        ft = m.types[ti]
        assert compiler._entry_trampolines(ft) == (tramp.array_to_wasm(ft), tramp.native_to_wasm(ft))


def test_heap_guard_parameter():
    """With heap_guard the loads and stores of a guarded memory lose their
    bounds checks (smaller code); a size the memories do not have is refused."""
    from pywinch.errors import CompileError
    from pywinch.isa.x64.masm import HEAP_GUARD
    data = (ROOT / "benchmarks" / "wasm" / "sieve.wasm").read_bytes()
    checked = compile_module(decode_module(data))
    guarded = compile_module(decode_module(data), heap_guard=HEAP_GUARD)
    assert len(guarded.code) < len(checked.code)
    with pytest.raises(CompileError, match="unsupported heap guard"):
        compile_module(decode_module(data), heap_guard=12345)
