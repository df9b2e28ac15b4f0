"""The WAST runner itself, on the wasmtime backend with hand-made commands.

Each test gives the runner a script whose outcome is known and checks that it
counts and reports it: a runner that passed everything would fail here.
"""

import math
import struct

import pytest

wasmtime = pytest.importorskip("wasmtime")

from pywinch.wast import collect, summary_line
from pywinch.wast.commands import Action, Command, ModuleSource
from pywinch.wast.runner import Runner
from pywinch.wast.values import (HostRef, format_pattern, lanes_of, match, v128_from_lanes)

from wasmtime_backend import WasmtimeBackend, WasmtimeSession, wat2wasm


@pytest.fixture(scope="module")
def backend():
    b = WasmtimeBackend(timeout=0.5)
    yield b
    b.close()


def mod(text, name=None, line=1):
    return Command("module", line, name=name, source=ModuleSource("binary", wat2wasm(text)))


def invoke(field, *args, module=None):
    return Action("invoke", module, field, args)


def f32(x):
    return ("f32", struct.unpack("<I", struct.pack("<f", x))[0])


def run(backend, commands, **kw):
    lines = []
    result = Runner(backend, report=lines.append, wat2wasm=wat2wasm, **kw).run_commands(commands, "t.wast")
    return result, lines


ARITH = """(module
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func (export "fdiv") (param f32 f32) (result f32) local.get 0 local.get 1 f32.div)
  (func (export "fid") (param f32) (result f32) local.get 0)
  (func (export "neg") (param f64) (result f64) local.get 0 f64.neg)
  (func (export "v") (param v128) (result v128) local.get 0 local.get 0 i32x4.add)
  (func (export "ext") (param externref) (result externref) local.get 0)
  (func (export "null") (result funcref) ref.null func)
  (func (export "fref") (result funcref) ref.func 0)
  (func (export "loop") (loop br 0))
  (func (export "rec") (call 10))
  (global (export "g") f32 (f32.const nan:0x200000)))"""


def test_assert_return_counts_pass_and_fail(backend):
    cmds = [mod(ARITH),
            Command("assert_return", 2, action=invoke("add", ("i32", 1), ("i32", 2)), expected=[("i32", 3)]),
            Command("assert_return", 3, action=invoke("add", ("i32", 0xFFFFFFFF), ("i32", 2)), expected=[("i32", 1)]),
            Command("assert_return", 4, action=invoke("add", ("i32", 1), ("i32", 2)), expected=[("i32", 4)])]
    result, lines = run(backend, cmds)
    assert (result.passed, result.failed) == (3, 1)
    assert lines == ["t.wast:4: invoke 'add': expected (i32 4), got (i32 3)"]


def test_nan_patterns_are_bit_exact(backend):
    nan = ("f32", 0x7FC00000)
    cmds = [mod(ARITH),
            # 0/0 gives the canonical NaN on x86 (possibly negative)
            Command("assert_return", 2, action=invoke("fdiv", f32(0.0), f32(0.0)), expected=[("f32", "nan:canonical")]),
            Command("assert_return", 3, action=invoke("fdiv", f32(0.0), f32(0.0)), expected=[("f32", "nan:arithmetic")]),
            # a signalling NaN passes through unchanged: not arithmetic, not canonical
            Command("assert_return", 4, action=invoke("fid", ("f32", 0x7FA00000)), expected=[("f32", 0x7FA00000)]),
            Command("assert_return", 5, action=invoke("fid", ("f32", 0x7FA00000)), expected=[("f32", "nan:arithmetic")]),
            Command("assert_return", 6, action=invoke("fid", ("f32", 0x7FE00000)), expected=[("f32", "nan:canonical")]),
            Command("assert_return", 7, action=invoke("fid", ("f32", 0x7FE00000)), expected=[("f32", "nan:arithmetic")]),
            Command("assert_return", 8, action=invoke("neg", ("f64", 0x7FF0000000000001)),
                    expected=[("f64", 0xFFF0000000000001)]),
            Command("assert_return", 9, action=Action("get", None, "g"), expected=[("f32", 0x7FA00000)])]
    result, lines = run(backend, cmds)
    assert [l.split(":")[1] for l in lines] == ["5", "6"]
    assert result.passed == 7


def test_v128_lanes_and_refs(backend):
    v = v128_from_lanes("i32", [1, 2, 3, 0xFFFFFFFF])
    cmds = [mod(ARITH),
            Command("assert_return", 2, action=invoke("v", ("v128", v)),
                    expected=[("v128", "i32", [2, 4, 6, 0xFFFFFFFE])]),
            Command("assert_return", 3, action=invoke("v", ("v128", v)),
                    expected=[("v128", "i16", [2, 0, 4, 0, 6, 0, 0xFFFE, 0xFFFF])]),
            Command("assert_return", 4, action=invoke("v", ("v128", v)),
                    expected=[("v128", "i32", [2, 4, 6, 0])]),
            Command("assert_return", 5, action=invoke("ext", ("externref", HostRef(7))), expected=[("ref.extern", 7)]),
            Command("assert_return", 6, action=invoke("ext", ("externref", HostRef(7))), expected=[("ref.extern", 8)]),
            Command("assert_return", 7, action=invoke("ext", ("externref", None)), expected=[("ref.null", "extern")]),
            Command("assert_return", 8, action=invoke("null"), expected=[("ref.null", "func")]),
            Command("assert_return", 9, action=invoke("fref"), expected=[("ref.func", None)]),
            Command("assert_return", 10, action=invoke("null"), expected=[("ref.func", None)])]
    result, lines = run(backend, cmds)
    assert [int(l.split(":")[1]) for l in lines] == [4, 6, 10]


def test_traps_compare_the_message(backend):
    cmds = [mod(ARITH),
            Command("assert_trap", 2, action=invoke("div", ("i32", 1), ("i32", 0)), message="integer divide by zero"),
            Command("assert_trap", 3, action=invoke("div", ("i32", 1), ("i32", 0)), message="integer overflow"),
            Command("assert_trap", 4, action=invoke("div", ("i32", 4), ("i32", 2)), message="integer divide by zero"),
            Command("assert_exhaustion", 5, action=invoke("rec"), message="call stack exhausted"),
            Command("assert_trap", 6, action=invoke("nope"), message="unreachable")]
    result, lines = run(backend, cmds)
    assert [int(l.split(":")[1]) for l in lines] == [3, 4, 6]
    assert "got (i32 2)" in lines[1] and "no such export" in lines[2]


def test_module_error_kinds(backend):
    bad_type = ModuleSource("binary", wat2wasm("(module (func (result i32) i64.const 0))"))
    cmds = [Command("assert_invalid", 1, source=bad_type, message="type mismatch"),
            Command("assert_invalid", 2, source=ModuleSource("binary", wat2wasm("(module)")), message="x"),
            Command("assert_malformed", 3, source=ModuleSource("binary", b"\0asm\2\0\0\0"), message="unknown binary version"),
            Command("assert_malformed", 4, source=ModuleSource("quote", "(module (func i32.nope))"), message="unknown operator"),
            Command("assert_malformed", 5, source=ModuleSource("quote", "(module)"), message="x"),
            Command("assert_unlinkable", 6, source=ModuleSource("binary", wat2wasm('(module (import "spectest" "nope" (func)))')), message="unknown import"),
            Command("assert_unlinkable", 7, source=ModuleSource("binary", wat2wasm('(module (import "spectest" "print_i32" (func)))')), message="incompatible import type"),
            Command("assert_unlinkable", 8, source=ModuleSource("binary", wat2wasm('(module (import "spectest" "print_i32" (func (param i32))))')), message="x"),
            Command("assert_uninstantiable", 9, source=ModuleSource("binary", wat2wasm("(module (func unreachable) (start 0))")), message="unreachable"),
            Command("assert_trap_module", 10, source=ModuleSource("binary", wat2wasm('(module (memory 0) (data (i32.const 1) "a"))')), message="out of bounds memory access"),
            Command("assert_trap_module", 11, source=ModuleSource("binary", wat2wasm("(module)")), message="unreachable")]
    result, lines = run(backend, cmds)
    assert [int(l.split(":")[1]) for l in lines] == [2, 5, 8, 11]


def test_spectest_and_register(backend):
    cmds = [mod("""(module $M (import "spectest" "global_i32" (global i32)) (import "spectest" "print_i32" (func (param i32)))
                 (import "spectest" "table" (table 10 funcref)) (import "spectest" "memory" (memory 1 2))
                 (import "spectest" "global_f64" (global f64))
                 (func (export "g") (result i32) global.get 0 (call 0 (i32.const 1)))
                 (func (export "f") (result f64) global.get 1))""", name="$M"),
            Command("register", 2, as_name="M", name="$M"),
            mod('(module (import "M" "g" (func $g (result i32))) (func (export "h") (result i32) call $g))', line=3),
            Command("assert_return", 4, action=invoke("h"), expected=[("i32", 666)]),
            Command("assert_return", 5, action=invoke("f", module="$M"), expected=[("f64", struct.unpack("<Q", struct.pack("<d", 666.6))[0])]),
            Command("assert_return", 6, action=invoke("g", module="$nope"), expected=[("i32", 666)])]
    result, lines = run(backend, cmds)
    assert (result.passed, result.failed) == (5, 1)
    assert "no module $nope" in lines[0]


def test_runaway_wasm_is_stopped_and_the_file_goes_on(backend):
    cmds = [mod(ARITH),
            Command("action", 2, action=invoke("loop")),
            Command("assert_return", 3, action=invoke("add", ("i32", 1), ("i32", 2)), expected=[("i32", 3)])]
    result, lines = run(backend, cmds)
    assert (result.passed, result.failed) == (2, 1)
    assert "timeout" in lines[0]


class _Crashing(WasmtimeSession):
    def compile(self, binary):
        if b"crash" in binary:
            raise ZeroDivisionError("compiler bug")
        if b"hang" in binary:
            while True:
                pass
        return super().compile(binary)


class _CrashingBackend(WasmtimeBackend):
    session_class = _Crashing


def test_compiler_crash_and_hang_are_reported_against_the_file():
    b = _CrashingBackend(timeout=0.5)
    try:
        cmds = [mod('(module (func (export "crash")))'),
                mod(ARITH, line=2),
                Command("assert_return", 3, action=invoke("add", ("i32", 1), ("i32", 2)), expected=[("i32", 3)]),
                mod('(module (func (export "hang")))', line=4),
                Command("assert_return", 5, action=invoke("add", ("i32", 1), ("i32", 2)), expected=[("i32", 3)])]
        result, lines = run(b, cmds, watchdog=0.5)
    finally:
        b.close()
    assert "ZeroDivisionError: compiler bug" in lines[0] and lines[0].startswith("t.wast:1:")
    assert lines[1].startswith("t.wast:4:") and "abandoned" in lines[1]
    assert (result.passed, result.failed) == (2, 2)


def test_script_that_does_not_parse(backend, tmp_path):
    p = tmp_path / "bad.wast"
    p.write_text("(module")
    def parse(text, path):
        raise ValueError("unbalanced parenthesis")
    result = Runner(backend, wat2wasm=wat2wasm).run_file(str(p), parse)
    assert result.failed == 1 and "does not parse" in result.failures[0]
    assert summary_line([result]) == "0 passed, 1 failed"


def test_match_and_format_units():
    assert match(("f64", "nan:canonical"), ("f64", 0xFFF8000000000000))
    assert not match(("f64", "nan:canonical"), ("f64", 0x7FF8000000000001))
    assert match(("f64", "nan:arithmetic"), ("f64", 0x7FF8000000000001))
    assert not match(("f64", "nan:arithmetic"), ("f64", 0x7FF0000000000001))
    assert not match(("f32", "nan:arithmetic"), ("f32", 0x7F800000))       # infinity
    assert not match(("i32", 1), ("i64", 1))
    assert match(("v128", "f32", ["nan:canonical", 0, "nan:arithmetic", 0x3F800000]),
                 ("v128", v128_from_lanes("f32", [0x7FC00000, 0, 0xFFC00001, 0x3F800000])))
    assert match(("either", [("i32", 1), ("i32", 2)]), ("i32", 2))
    assert lanes_of(v128_from_lanes("i8", list(range(16))), "i8") == list(range(16))
    assert format_pattern(("i32", 0xFFFFFFFF)) == "i32 -1 (0xffffffff)"


def test_collect_and_cli_on_a_directory(tmp_path, capsys):
    (tmp_path / "a.wast").write_text("")
    (tmp_path / "b.txt").write_text("")
    assert collect([str(tmp_path)]) == [str(tmp_path / "a.wast")]


def test_each_failure_is_one_line(backend):
    # wasmtime words link errors over several lines ("Caused by: ...")
    cmds = [mod('(module (import "spectest" "print_i32" (func)))')]
    result, lines = run(backend, cmds)
    assert result.failed == 1 and len(lines) == 1 and "\n" not in lines[0]
    assert "incompatible import type" in lines[0] and "Caused by" in lines[0]


def test_strict_messages_compare_module_errors(backend):
    bad = ModuleSource("binary", wat2wasm("(module (func (result i32) i64.const 0))"))
    cmds = [Command("assert_invalid", 1, source=bad, message="type mismatch"),
            Command("assert_invalid", 2, source=bad, message="unknown table")]
    result, lines = run(backend, cmds)
    assert result.failed == 0
    result, lines = run(backend, cmds, strict_messages=True)
    assert [int(l.split(":")[1]) for l in lines] == [2]
