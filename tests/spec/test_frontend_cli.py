"""pywinch's WAST front end (parse_wast -> runner commands), the backend's error mapping, and
``pywinch wast`` (pywinch.wast.main) on scripts that need no compiled code."""

import pytest

import pywinch
from pywinch.errors import TrapCode
from pywinch.wast import main
from pywinch.wast.backend import PywinchBackend, features_for, FEATURES_2_0
from pywinch.wast.frontend import parse
from pywinch.wast.values import HostRef, match

SCRIPT = r'''
(module $A (func (export "f") (param i32 f32 externref) (result f64) f64.const 0))
(register "a" $A)
(module binary "\00asm" "\01\00\00\00")
(invoke $A "f" (i32.const -1) (f32.const nan:0x200000) (ref.extern 3))
(assert_return (get "g") (f32.const nan:canonical) (v128.const f32x4 1 nan:arithmetic 0 -0)
               (ref.null func) (ref.extern) (ref.func) (either (i32.const 1) (i32.const 2))
               (v128.const i8x16 -1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1))
(assert_trap (invoke "f") "unreachable")
(assert_trap (module (func unreachable) (start 0)) "unreachable")
(assert_exhaustion (invoke "f") "call stack exhausted")
(assert_malformed (module quote "(func") "unexpected end")
(assert_invalid (module (func (result i32))) "type mismatch")
(assert_unlinkable (module (import "x" "y" (func))) "unknown import")
(assert_uninstantiable (module (func unreachable) (start 0)) "unreachable")
'''


def test_front_end_converts_every_command_kind():
    cmds = parse(SCRIPT, "s.wast")
    kinds = [c.kind for c in cmds]
    assert kinds == ["module", "register", "module", "action", "assert_return", "assert_trap",
                     "assert_trap_module", "assert_exhaustion", "assert_malformed", "assert_invalid",
                     "assert_unlinkable", "assert_uninstantiable"]
    assert cmds[0].name == "$A" and cmds[0].source.kind == "binary"
    assert (cmds[1].as_name, cmds[1].name) == ("a", "$A")
    assert cmds[2].source.data == b"\0asm\1\0\0\0"
    a = cmds[3].action
    assert (a.kind, a.module, a.field) == ("invoke", "$A", "f")
    assert a.args == [("i32", 0xFFFFFFFF), ("f32", 0x7FA00000), ("externref", HostRef(3))]
    exp = cmds[4].expected
    assert exp[0] == ("f32", "nan:canonical")
    assert exp[1] == ("v128", "f32", [0x3F800000, "nan:arithmetic", 0, 0x80000000])
    assert exp[2:6] == [("ref.null", "func"), ("ref.extern", None), ("ref.func", None),
                        ("either", [("i32", 1), ("i32", 2)])]
    assert match(exp[6], ("v128", (1 << 120) | 0xFF))
    assert cmds[5].message == "unreachable" and cmds[6].source.kind == "binary"
    assert cmds[8].source.kind == "quote" and cmds[8].source.data == "(func"


def test_script_syntax_error_carries_its_line():
    with pytest.raises(pywinch.WatError) as e:
        parse('(module)\n(assert_return (invoke "f") (i32.const x))', "bad.wast")
    assert e.value.line == 2


def test_pywinch_errors_map_to_outcomes():
    b = PywinchBackend(timeout=1)
    try:
        assert b.classify(pywinch.Trap(TrapCode.UNREACHABLE), "call").kind == "trap"
        assert b.classify(pywinch.Trap(TrapCode.UNREACHABLE), "call").message == "unreachable"
        assert b.classify(pywinch.Trap(TrapCode.INTERRUPT), "call").kind == "timeout"
        assert b.classify(pywinch.MalformedError("x"), "compile").kind == "malformed"
        assert b.classify(pywinch.WatError("x", 1, 1), "compile").kind == "malformed"
        assert b.classify(pywinch.InvalidError("x"), "compile").kind == "invalid"
        assert b.classify(pywinch.LinkError("x"), "instantiate").kind == "unlinkable"
        assert b.classify(pywinch.InstantiationError("x"), "instantiate").kind == "uninstantiable"
        assert b.classify(pywinch.UnsupportedError("x"), "compile").kind == "unsupported"
        assert b.classify(KeyError("k"), "compile").kind == "crash"
    finally:
        b.close()


def test_features_of_a_proposal_folder():
    assert features_for("/s/i32.wast") == FEATURES_2_0
    f = features_for("/s/proposals/tail-call/return_call.wast")
    assert f["wasm_tail_call"] and not f["wasm_multi_memory"]


MODULE_CHECKS = r'''
(assert_malformed (module binary "\00asm" "\02\00\00\00") "unknown binary version")
(assert_malformed (module quote "(func i32.nope)") "unknown operator")
(assert_invalid (module (func (result i32) i64.const 0)) "type mismatch")
'''


def test_main_prints_the_summary_and_sets_the_exit_status(tmp_path, capsys):
    good = tmp_path / "good.wast"
    good.write_text(MODULE_CHECKS)
    assert main([str(good)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "3 passed, 0 failed"

    bad = tmp_path / "bad.wast"
    bad.write_text('(assert_invalid (module (func)) "type mismatch")\n(module')
    broken = tmp_path / "broken.wast"
    broken.write_text('(assert_invalid (module (func)) "type mismatch")')
    assert main([str(bad), str(broken), str(good)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == "3 passed, 2 failed"
    assert out[0].startswith(f"{bad}:") and "does not parse" in out[0]
    assert out[1].startswith(f"{broken}:1: assert_invalid: expected invalid")


RUNAWAY = r'''
(module
  (func (export "loop") (loop br 0))
  (func (export "rec") (call 1))
  (func (export "f32id") (param f32) (result f32) local.get 0)
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add))
(assert_return (invoke "loop"))
(assert_exhaustion (invoke "rec") "call stack exhausted")
(assert_return (invoke "f32id" (f32.const nan:0x200000)) (f32.const nan:0x200000))
(assert_return (invoke "f32id" (f32.const nan:0x200000)) (f32.const nan:arithmetic))
(assert_return (invoke "add" (i32.const 1) (i32.const 2)) (i32.const 3))
'''


def test_pywinch_runaway_wasm_ends_at_the_time_limit(tmp_path, capsys):
    p = tmp_path / "runaway.wast"
    p.write_text(RUNAWAY)
    assert main(["--timeout", "0.5", str(p)]) == 1
    out = capsys.readouterr().out.splitlines()
    # the loop is stopped by the epoch deadline, the signalling NaN crosses the boundary unchanged
    # (so it is not an arithmetic NaN), and the script goes on to its last assertion
    assert out[0] == f"{p}:7: invoke 'loop': expected (), got timeout: interrupt"
    assert out[1].startswith(f"{p}:10: invoke 'f32id': expected (f32 nan:arithmetic)")
    assert out[-1] == "4 passed, 2 failed"
