"""The operator stream's immediate shapes and the validator's step interface."""

from __future__ import annotations

import pytest

from pywinch.errors import InvalidError, MalformedError
from pywinch.wasm import decode_module, opcodes as op
from pywinch.wasm.operators import BLOCK_EMPTY, read_operators
from pywinch.wasm.types import EXTERNREF, F64, FUNCREF, I32, I64, V128
from pywinch.wasm.validate import FuncValidator, check_module

from .wasmbuild import functype, module, one_func, section, u, vec


def ops(code: bytes):
    data = b"\x00" * 3 + code
    return [(c, imm) for c, imm, _ in read_operators(data, 3, len(data))]


def test_immediate_shapes():
    code = (b"\x02\x40" b"\x03\x7f" b"\x04\x00" b"\x0b\x0b\x0b"           # block [], loop i32, if type 0
            b"\x0e\x02\x00\x01\x02"                                       # br_table [0 1] 2
            b"\x11\x03\x01"                                               # call_indirect type 3 table 1
            b"\x28\x02\x90\x03"                                           # i32.load align 2 offset 400
            b"\x41\x7f\x42\x80\x7f"                                       # i32.const -1, i64.const -128
            b"\x43\x00\x00\x80\x3f\x44" + bytes.fromhex("000000000000f83f") +
            b"\x1c\x01\x7b\xd0\x6f"                                       # select (result v128), ref.null extern
            b"\xfc\x08\x05\x00\xfc\x0a\x00\x00\xfc\x0c\x02\x01\xfc\x0e\x01\x02"
            b"\xfd\x0c" + bytes(range(16)) + b"\xfd\x0d" + bytes(range(16)) +
            b"\xfd\x15\x07\xfd\x54\x00\x08\x03" b"\x3f\x00" b"\x0b")
    got = ops(code)
    assert got == [
        (op.BLOCK, BLOCK_EMPTY), (op.LOOP, -I32), (op.IF, 0), (op.END, None), (op.END, None), (op.END, None),
        (op.BR_TABLE_OP, ((0, 1), 2)), (op.CALL_INDIRECT_OP, (3, 1)), (0x28, (2, 400, 0)),
        (0x41, -1), (0x42, -128), (0x43, 0x3F800000), (0x44, 0x3FF8000000000000),
        (op.SELECT_TYPED, (V128,)), (0xD0, EXTERNREF),
        (op.BY_NAME["memory.init"], (5, 0)), (op.BY_NAME["memory.copy"], (0, 0)),
        (op.BY_NAME["table.init"], (2, 1)), (op.BY_NAME["table.copy"], (1, 2)),
        (op.BY_NAME["v128.const"], int.from_bytes(bytes(range(16)), "little")),
        (op.BY_NAME["i8x16.shuffle"], bytes(range(16))),
        (op.BY_NAME["i8x16.extract_lane_s"], 7), (op.BY_NAME["v128.load8_lane"], (0, 8, 0, 3)),
        (op.BY_NAME["memory.size"], 0), (op.END, None),
    ]


def test_stream_offsets_are_module_offsets():
    data = one_func(b"\x41\x05\x1a\x0b")
    m = decode_module(data)
    offs = [o for _, _, o in m.operators(m.codes[0])]
    assert [data[o] for o in offs] == [0x41, 0x1A, 0x0B]


@pytest.mark.parametrize("code,msg", [
    (b"\x06\x0b", "illegal opcode"), (b"\xfc\x20\x0b", "illegal opcode"), (b"\xfd\x9a\x01\x0b", "illegal opcode"),
    (b"\x3f\x01\x1a\x0b", "zero byte expected"), (b"\xd0\x7f\x0b", "malformed reference type"),
    (b"\x02\x50\x0b\x0b", "malformed value type"), (b"\x41\x00\x0b\x1a\x0b", "section size mismatch"),
])
def test_stream_malformed(code, msg):
    m = decode_module(one_func(code))
    with pytest.raises(MalformedError, match=msg):
        list(m.operators(m.codes[0]))


@pytest.mark.parametrize("code", [b"\x20\x80", b"\x41\x80", b"\x28\x00\x80", b"\x28\x80"])
def test_multibyte_immediate_past_the_body_is_never_yielded(code):
    # The LEB128 reads on into the next body's size byte: the instruction ends
    # past its body, so it is malformed, never handed to the validator (which
    # would call local 256 or memory 0 unknown).
    entry = u(1 + len(code)) + b"\x00" + code
    data = module(section(1, vec([functype()])), section(3, vec([u(0), u(0)])),
                  section(10, u(2) + entry + b"\x02\x00\x0b"))
    m = decode_module(data)
    seen = []
    with pytest.raises(MalformedError, match="section size mismatch"):
        for item in m.operators(m.codes[0]):
            seen.append(item)
    assert seen == []


def run(data: bytes):
    m = decode_module(data)
    ctx = check_module(m)
    v = FuncValidator(ctx, m.num_imported_funcs)
    for code, imm, off in m.operators(m.codes[0]):
        v.step(code, imm, off)
        yield v, code, imm


def test_step_interface_for_the_compiler():
    # (func (param i32) (result i64) (block (result i64) (i64.const 1) (br 0)) unreachable-tail... )
    code = b"\x02\x7e\x42\x01\x0c\x00\x0b\x0b"
    seen = []
    for v, code_, imm in run(one_func(code, params=(I32,), results=(I64,))):
        if code_ == op.BLOCK:
            assert v.block_type(imm).results == (I64,)
            assert v.label_types(0) == (I64,) and v.frame_kind(0) == op.BLOCK
        seen.append((code_, v.unreachable, list(v.stack)))
    assert seen == [(op.BLOCK, False, []), (0x42, False, [I64]), (op.BR, True, []),
                    (op.END, False, [I64]), (op.END, True, [])]
    assert v.done and v.locals == [I32]


@pytest.mark.parametrize("code,params,results,msg", [
    (b"\x20\x01\x1a\x0b", (I32,), (), "unknown local 1"),
    (b"\x23\x00\x1a\x0b", (), (), "unknown global 0"),
    (b"\x10\x05\x0b", (), (), "unknown function 5"),
    (b"\x0c\x01\x0b", (), (), "unknown label 1"),
    (b"\x41\x00\x28\x02\x00\x1a\x0b", (), (), "unknown memory 0"),
    (b"\x42\x00\x41\x00\x6a\x1a\x0b", (), (), "type mismatch"),
    (b"\x00\x41\x00\x42\x00\x6a\x1a\x0b", (), (), "type mismatch"),
    (b"\xd0\x70\xd0\x70\x41\x01\x1b\x1a\x0b", (), (), "type mismatch"),
    (b"\x41\x00\x41\x00\x41\x00\x1c\x02\x7f\x7f\x1a\x0b", (), (), "invalid result arity"),
    (b"\x02\x05\x0b\x0b", (), (), "unknown type 5"),
    (b"\x44" + bytes(8) + b"\x0b", (), (F64,), None),
    (b"\x00\x1b\x1a\x0b", (), (), None),                       # select on the polymorphic stack
    (b"\x00\x0e\x01\x00\x00\x0b", (), (), None),
])
def test_function_rules(code, params, results, msg):
    from pywinch.wasm import validate_bytes
    data = one_func(code, params=params, results=results)
    if msg is None:
        validate_bytes(data)
    else:
        with pytest.raises(InvalidError) as e:
            validate_bytes(data)
        assert e.value.message == msg


def test_module_rules():
    from pywinch.wasm import validate_bytes
    t = section(1, vec([functype()]))
    # Two memories.
    with pytest.raises(InvalidError, match="multiple memories"):
        validate_bytes(module(section(5, vec([b"\x00\x01", b"\x00\x01"]))))
    with pytest.raises(InvalidError, match="memory size must be at most 65536 pages"):
        validate_bytes(module(section(5, vec([b"\x00" + u(65537)]))))
    with pytest.raises(InvalidError, match="size minimum must not be greater than maximum"):
        validate_bytes(module(section(4, vec([b"\x70\x01\x02\x01"]))))
    with pytest.raises(InvalidError, match="duplicate export name"):
        validate_bytes(module(section(5, vec([b"\x00\x01"])), section(7, vec([b"\x01m\x02\x00", b"\x01m\x02\x00"]))))
    with pytest.raises(InvalidError, match="constant expression required"):
        validate_bytes(module(section(6, vec([b"\x7f\x00\x41\x00\x41\x00\x6a\x0b"]))))
    with pytest.raises(InvalidError, match="undeclared function reference"):
        validate_bytes(module(t, section(3, vec([u(0)])), section(10, vec([b"\x05\x00\xd2\x00\x1a\x0b"]))))
    # Declared by an element segment (declarative mode): fine.
    validate_bytes(module(t, section(3, vec([u(0)])), section(9, vec([b"\x03\x00\x01\x00"])),
                          section(10, vec([b"\x05\x00\xd2\x00\x1a\x0b"]))))
    with pytest.raises(InvalidError, match="start function"):
        validate_bytes(module(section(1, vec([functype((I32,))])), section(3, vec([u(0)])), section(8, u(0)),
                              section(10, vec([b"\x02\x00\x0b"]))))
    with pytest.raises(MalformedError, match="data count section required"):
        validate_bytes(module(t, section(3, vec([u(0)])), section(5, vec([b"\x00\x01"])),
                              section(10, vec([b"\x05\x00\xfc\x09\x00\x0b"])), section(11, vec([b"\x01\x00"]))))


def test_all_element_and_data_encodings_decode():
    t = section(1, vec([functype()]))
    f = section(3, vec([u(0)]))
    tab = section(4, vec([b"\x70\x00\x04", b"\x6f\x00\x04"]))
    off = b"\x41\x00\x0b"
    elems = [b"\x00" + off + vec([u(0)]), b"\x01\x00" + vec([u(0)]), b"\x02\x00" + off + b"\x00" + vec([u(0)]),
             b"\x03\x00" + vec([u(0)]), b"\x04" + off + vec([b"\xd2\x00\x0b"]), b"\x05\x70" + vec([b"\xd0\x70\x0b"]),
             b"\x06\x01" + off + b"\x6f" + vec([b"\xd0\x6f\x0b"]), b"\x07\x70" + vec([b"\xd2\x00\x0b"])]
    mem = section(5, vec([b"\x00\x01"]))
    datas = [b"\x00" + off + b"\x02hi", b"\x01\x01!", b"\x02\x00" + off + b"\x00"]
    data = module(t, f, tab, mem, section(9, vec(elems)), section(12, u(3)),
                  section(10, vec([b"\x02\x00\x0b"])), section(11, vec(datas)))
    from pywinch.wasm import validate_bytes
    m = validate_bytes(data)
    assert [e.mode for e in m.elements] == ["active", "passive", "active", "declarative"] * 2
    assert [e.type for e in m.elements] == [FUNCREF] * 6 + [EXTERNREF, FUNCREF]
    assert m.elements[6].table == 1 and m.elements[4].uses_exprs and not m.elements[0].uses_exprs
    assert [(d.mode, bytes(d.data)) for d in m.datas] == [("active", b"hi"), ("passive", b"!"), ("active", b"")]
    assert m.data_count == 3
