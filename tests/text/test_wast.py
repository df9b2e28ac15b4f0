"""WAST scripts: command objects, values and result patterns."""

import pytest

from pywinch.errors import WatError
from pywinch.wasm.text import parse_wast, wat2wasm
from pywinch.wasm.text.wast import (
    Action, AssertExhaustion, AssertInvalid, AssertMalformed, AssertReturn, AssertTrap, AssertUninstantiable,
    AssertUnlinkable, Const, Either, ModuleCommand, NanPattern, RefExtern, RefFunc, RefNull, Register, V128Pattern,
)

SCRIPT = r'''
(module $M (func (export "f") (param i32) (result i32) (local.get 0)))
(register "reg" $M)
(module binary "\00asm" "\01\00\00\00")
(invoke "f" (i32.const -1))
(assert_return (invoke $M "f" (i32.const 7)) (i32.const 7))
(assert_return (invoke "g" (f32.const -0.0) (f64.const nan:0x4) (i64.const -1))
  (f32.const nan:canonical) (f64.const nan:arithmetic) (i64.const 18446744073709551615))
(assert_return (invoke "v" (v128.const i32x4 1 2 3 -1))
  (v128.const f32x4 nan:canonical 1.0 nan:arithmetic -0x1p-149) (v128.const i8x16 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 255))
(assert_return (invoke "r" (ref.null func) (ref.extern 3)) (ref.null extern) (ref.extern) (ref.func) (ref.extern 3))
(assert_return (invoke "e") (either (i32.const 1) (i32.const 2)))
(assert_return (get $M "glob") (i32.const 0))
(assert_trap (invoke "f" (i32.const 0)) "unreachable")
(assert_trap (module (func unreachable) (start 0)) "unreachable")
(assert_exhaustion (invoke "loop") "call stack exhausted")
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_malformed (module quote "(func (i32.const 0x))") "unknown operator")
(assert_malformed (module binary "\00asm") "unexpected end")
(assert_unlinkable (module (import "x" "y" (func))) "unknown import")
(assert_uninstantiable (module (memory 0) (data (i32.const 1) "a")) "out of bounds")
'''


def test_script_commands():
    s = parse_wast(SCRIPT, "t.wast")
    kinds = [c.kind for c in s.commands]
    assert kinds == ["module", "register", "module", "action", "assert_return", "assert_return", "assert_return",
                     "assert_return", "assert_return", "assert_return", "assert_trap", "assert_trap",
                     "assert_exhaustion", "assert_invalid", "assert_malformed", "assert_malformed",
                     "assert_unlinkable", "assert_uninstantiable"]
    c = s.commands
    assert [x.line for x in c[:5]] == [2, 3, 4, 5, 6]
    m = c[0]
    assert isinstance(m, ModuleCommand) and m.name == "$M" and m.kind_of_source == "text"
    assert m.binary == wat2wasm(SCRIPT[SCRIPT.index("(module $M"):SCRIPT.index("\n(register")])
    assert SCRIPT[m.span[0]:m.span[1]].startswith("(module $M") and SCRIPT[m.span[1] - 1] == ")"
    assert isinstance(c[1], Register) and (c[1].name_as, c[1].module_name) == ("reg", "$M")
    assert c[2].kind_of_source == "binary" and c[2].binary == b"\0asm\x01\0\0\0"
    act = c[3]
    assert isinstance(act, Action) and act.action == "invoke" and act.module_name is None
    assert act.field == "f" and act.args == [Const("i32", 0xFFFFFFFF)]
    r = c[4]
    assert isinstance(r, AssertReturn) and r.action.module_name == "$M" and r.expected == [Const("i32", 7)]
    r = c[5]
    assert r.action.args == [Const("f32", 0x80000000), Const("f64", 0x7FF0000000000004), Const("i64", (1 << 64) - 1)]
    n1, n2, i64 = r.expected
    assert isinstance(n1, NanPattern) and (n1.type, n1.kind) == ("f32", "canonical")
    assert (n2.type, n2.kind) == ("f64", "arithmetic") and i64 == Const("i64", (1 << 64) - 1)
    r = c[6]
    assert r.action.args == [Const("v128", 1 | 2 << 32 | 3 << 64 | 0xFFFFFFFF << 96)]
    vp, v = r.expected
    assert isinstance(vp, V128Pattern) and vp.shape == "f32x4"
    assert [type(x) for x in vp.lanes] == [NanPattern, int, NanPattern, int]
    assert vp.lanes[1] == 0x3F800000 and vp.lanes[3] == 0x80000001 and vp.lanes[2].kind == "arithmetic"
    assert v == Const("v128", int.from_bytes(bytes(list(range(15)) + [255]), "little"))
    r = c[7]
    assert r.action.args == [RefNull("func"), RefExtern(3)]
    assert r.expected[0] == RefNull("extern") and r.expected[1] == RefExtern(None)
    assert isinstance(r.expected[2], RefFunc) and r.expected[2].value is None and r.expected[3] == RefExtern(3)
    assert isinstance(c[8].expected[0], Either) and c[8].expected[0].alternatives == [Const("i32", 1), Const("i32", 2)]
    assert c[9].action.action == "get" and c[9].action.field == "glob"
    assert isinstance(c[10], AssertTrap) and c[10].message == "unreachable" and c[10].module is None
    assert isinstance(c[11].action, ModuleCommand) and c[11].module is c[11].action
    assert isinstance(c[12], AssertExhaustion) and c[12].message == "call stack exhausted"
    assert isinstance(c[13], AssertInvalid) and c[13].module.binary.startswith(b"\0asm")
    q = c[14]
    assert isinstance(q, AssertMalformed) and q.module.kind_of_source == "quote" and q.module.binary is None
    assert q.module.text == "(func (i32.const 0x))"
    with pytest.raises(WatError):
        wat2wasm(q.module.text)
    assert c[15].module.binary == b"\0asm"
    assert isinstance(c[16], AssertUnlinkable) and isinstance(c[17], AssertUninstantiable)
    assert len(list(s.modules())) == 8


def test_bare_module_script():
    s = parse_wast("(func (export \"f\"))\n(memory 1)")
    assert len(s.commands) == 1 and s.commands[0].binary.startswith(b"\0asm")


@pytest.mark.parametrize("text", [
    "(assert_return (invoke \"f\" (i32.const 1) (f32.const nan:canonical)))",   # patterns are not arguments
    "(assert_return (invoke \"f\") (i32.const))",
    "(assert_return (invoke \"f\") (v128.const i32x4 1 2))",
    "(register $M)",
    "(assert_trap (invoke \"f\"))",
    "(get \"g\" (i32.const 1))",
])
def test_bad_commands(text):
    with pytest.raises(WatError):
        parse_wast(text)
