"""Which error a malformed module reports when a function body and a later
part of the binary are both malformed.

The reference interpreter decodes each body while it reads the code section,
so a body's decoding error comes before any error further on (the next
body's header, later sections, trailing bytes, the final count checks);
pywinch decodes bodies lazily and must still report the body's error.  The
suite's binary-leb128.wast relies on it: a memarg offset whose LEB128 runs
past the body's declared size, the bytes left over then read as sections.
"""

from __future__ import annotations

import pytest

import pywinch as wasm
from pywinch.errors import InvalidError, MalformedError
from pywinch.wasm import decode_module, validate_bytes
from pywinch.wasm.types import I32

from .wasmbuild import HEADER, functype, section, u, vec

TOO_LONG = "integer representation too long"
TOO_LARGE = "integer too large"


def _cut_module(instrs: bytes, cut: int, memory: bool = True) -> bytes:
    """One ``[] -> []`` function whose body (one i32 local, then ``instrs``) is
    declared ``cut`` bytes shorter than it is; the code section's size matches
    the declared body, so the rest of the instructions follow the section."""
    full = vec([u(1) + bytes([I32])]) + instrs
    declared = len(full) - cut
    code = section(10, vec([u(declared) + full[:declared]]))
    return (HEADER + section(1, vec([functype()])) + section(3, vec([u(0)]))
            + (section(5, vec([b"\x00\x01"])) if memory else b"") + code + full[declared:])


# (instructions, bytes of them past the declared body end, expected message):
# a memarg offset of 2 with one byte too many, or with unused bits set in its
# fifth byte, as binary-leb128.wast has them for a load and for a store.
LOAD = b"\x41\x00\x28\x02"
STORE = b"\x41\x00\x41\x03\x36\x02"
CASES = [
    (LOAD + b"\x82\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00" + b"\x1a\x0b", 5, TOO_LONG),
    (STORE + b"\x82\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00" + b"\x0b", 4, TOO_LONG),
    (LOAD + b"\x82\x80\x80\x80\x80\x80\x80\x80\x80\x10" + b"\x1a\x0b", 5, TOO_LONG),
    (LOAD + b"\x82\x80\x80\x80\x80\x80\x80\x80\x80\x40" + b"\x1a\x0b", 5, TOO_LONG),
    (STORE + b"\x82\x80\x80\x80\x80\x80\x80\x80\x80\x10" + b"\x0b", 4, TOO_LONG),
    (STORE + b"\x82\x80\x80\x80\x80\x80\x80\x80\x80\x40" + b"\x0b", 4, TOO_LONG),
    # Five bytes, unused bits set in the fifth, which lies past the body.
    (LOAD + b"\x82\x80\x80\x80\x70" + b"\x1a\x0b", 3, TOO_LARGE),
    # An i32.const and a local.get index, likewise.
    (b"\x41\x80\x80\x80\x80\x80\x00\x1a\x0b", 4, TOO_LONG),
    (b"\x20\x80\x80\x80\x80\x10\x1a\x0b", 3, TOO_LARGE),
]


@pytest.mark.parametrize("instrs, cut, message", CASES, ids=[
    "load-long", "store-long", "load-bits", "load-somebits", "store-bits", "store-somebits",
    "load-large", "const-long", "local-large"])
def test_leb128_running_past_the_body(instrs, cut, message):
    data = _cut_module(instrs, cut)
    with pytest.raises(MalformedError) as e:
        decode_module(data)
    assert e.value.message == message
    # Reported where the LEB128 goes wrong, inside the instructions.
    assert data.index(instrs) < e.value.offset < len(data)
    with pytest.raises(MalformedError, match=message):
        wasm.Module(wasm.Engine(), data)
    with pytest.raises(MalformedError, match=message):
        wasm.Module.validate(wasm.Engine(), data)


def _module(bodies, after=b"", count=None):
    """Functions ``[] -> []`` with the given raw code-section entries."""
    n = len(bodies) if count is None else count
    return (HEADER + section(1, vec([functype()])) + section(3, vec([u(0)] * n))
            + section(10, vec(bodies)) + after)


def _entry(instrs: bytes, locals_: bytes = b"\x00") -> bytes:
    return u(len(locals_) + len(instrs)) + locals_ + instrs


BAD_DATA_KIND = section(11, vec([b"\x09"]))      # malformed data segment kind


@pytest.mark.parametrize("after, later", [
    (BAD_DATA_KIND, "malformed data segment kind"),
    (b"\x0d\x00", "malformed section id"),
    (section(0, b"\x05ab"), "length out of bounds"),
], ids=["data-kind", "section-id", "custom-name"])
def test_a_body_error_comes_before_later_sections(after, later):
    illegal = _entry(b"\xff\x0b")                 # illegal opcode
    fine = _entry(b"\x01\x0b")
    data = _module([fine, illegal, fine], after)
    with pytest.raises(MalformedError) as e:
        decode_module(data)
    assert e.value.message == "illegal opcode"
    assert e.value.offset == data.index(b"\xff\x0b")
    assert e.value.__cause__ is not None and e.value.__cause__.message == later
    # Without the body error the later one stands.
    with pytest.raises(MalformedError, match=later):
        decode_module(_module([fine, fine, fine], after))


def test_the_first_malformed_body_wins():
    data = _module([_entry(b"\x01\x0b"), _entry(b"\xfc\xff\x01\x0b"), _entry(b"\xff\x0b")], BAD_DATA_KIND)
    with pytest.raises(MalformedError) as e:
        decode_module(data)
    assert e.value.message == "illegal opcode" and e.value.offset == data.index(b"\xfc\xff\x01")


def test_a_body_error_comes_before_the_next_bodys_header():
    # The second entry declares more locals than allowed: found while reading
    # its header, after the first body's instructions.
    too_many = u(4) + vec([u(60_000) + bytes([I32])])
    data = _module([_entry(b"\x41\x80\x80\x80\x80\x80\x00\x0b"), too_many])
    with pytest.raises(MalformedError, match=TOO_LONG):
        decode_module(data)
    with pytest.raises(MalformedError, match="too many locals"):
        decode_module(_module([_entry(b"\x01\x0b"), too_many]))


def _with_data_count(bodies):
    """A data count of 1 and no data section."""
    return (HEADER + section(1, vec([functype()])) + section(3, vec([u(0)] * len(bodies)))
            + section(12, u(1)) + section(10, vec(bodies)))


def test_a_body_error_comes_before_the_final_count_checks():
    data = _with_data_count([_entry(b"\x02\x40\x0b")])     # a block without its end
    with pytest.raises(MalformedError) as e:
        decode_module(data)
    assert e.value.message == "unexpected end of section or function"     # read on to the end of the file
    with pytest.raises(MalformedError, match="data count and data section have inconsistent lengths"):
        decode_module(_with_data_count([_entry(b"\x01\x0b")]))


def test_an_invalid_body_does_not_hide_a_malformed_section():
    """Validation follows decoding: a well-formed but invalid body is not an
    earlier error than a malformed section after it."""
    invalid = _entry(b"\x41\x00\x0b")            # leaves an i32 on a [] -> [] function
    with pytest.raises(MalformedError, match="malformed data segment kind"):
        decode_module(_module([invalid], BAD_DATA_KIND))
    with pytest.raises(InvalidError, match="type mismatch"):
        validate_bytes(_module([invalid]))


def test_well_formed_modules_decode_as_before():
    m = decode_module(_module([_entry(b"\x01\x0b"), _entry(b"\x41\x05\x1a\x0b")]))
    assert len(m.codes) == 2
