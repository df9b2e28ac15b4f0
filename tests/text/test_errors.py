"""Bad input: a WatError with line and column and what was expected; never a stray exception."""

import pytest

from pywinch.errors import WatError
from pywinch.wasm.text import parse_wast, wat2wasm

N = 10_000


def error_of(text, parse=wat2wasm) -> WatError:
    with pytest.raises(WatError) as info:
        parse(text)
    e = info.value
    assert e.line is not None and e.column is not None
    assert f"{e.line}:{e.column}:" in str(e)
    return e


@pytest.mark.parametrize("text,line,col,words", [
    ("(module\n  (func)\n", 1, 1, "expected ')'"),
    ("(module))", 1, 9, "unexpected ')'"),
    ('(module (export "abc', 1, 17, "unterminated string"),
    ('(module\n (export "a\nb" (func 0)))', 2, 10, "unterminated string"),
    ("(module (; never closed\n", 1, 9, "unterminated block comment"),
    ("(module (; (; inner closed ;) but not outer\n)", 1, 9, "unterminated block comment"),
    ("(module (func (i32.const 4294967296)))", 1, 26, "out of range"),
    ("(module (func (i64.const -9223372036854775809)))", 1, 26, "out of range"),
    ("(module (func (f32.const 1e40)))", 1, 26, "out of range"),
    ("(module (func (f64.const nan:0x10000000000000)))", 1, 26, "out of range"),
    ("(module (memory 4294967296))", 1, 17, "out of range"),
    ("(module (func (call $missing)))", 1, 21, "unknown function $missing"),
    ("(module (func (local.get $x)))", 1, 26, "unknown local $x"),
    ("(module (func (br $l)))", 1, 19, "unknown label $l"),
    ("(module (func (global.get $g)))", 1, 27, "unknown global $g"),
    ("(module (func (i32.frobnicate)))", 1, 16, "unknown operator"),
    ("(module (func block $a end $b))", 1, 28, "mismatching label"),
    ("(module (func block (nop)))", 1, 26, "expected 'end'"),
    ("(module (func $f) (func $f))", 1, 25, "duplicate function $f"),
    ("(module (frob))", 1, 10, "unknown module field"),
    ("(module (func) (import \"a\" \"b\" (func)))", 1, 16, "import after function"),
    ("(module (func (i32.load align=3 (i32.const 0))))", 1, 25, "power of two"),
    ('(module (export "\\q" (func 0)))', 1, 18, "escape"),
    ("(module (func (i32.const 0) ,))", 1, 29, "unexpected character ','"),
    ("(module (func (if (i32.const 0) (nop))))", 1, 38, "expected '(then'"),
    ("(module (type (func (param $x i32))) (func (type 0) (param i64)))", 1, 44, "does not match"),
])
def test_bad_module(text, line, col, words):
    e = error_of(text)
    assert words in e.message, e.message
    assert (e.line, e.column) == (line, col), str(e)


def test_deep_nesting_compiles_without_recursion():
    for text in [
        "(module (func " + "(block " * N + ")" * N + "))",
        "(module (func " + "block " * N + "end " * N + "))",
        "(module (func (result i32) " + "(i32.add (i32.const 1) " * N + "(i32.const 0)" + ")" * N + "))",
        "(module (func " + "(if (i32.const 0) (then " * N + "))" * N + "))",
        "(module " + "(;" * N + ";)" * N + ")",
    ]:
        assert wat2wasm(text).startswith(b"\0asm")


def test_deep_nesting_errors_without_recursion():
    assert "expected ')'" in error_of("(module " + "(" * N).message
    assert "unexpected ')'" in error_of("(module " + ")" * N).message
    assert "expected 'end'" in error_of("(module (func " + "block " * N + "))").message
    assert "module field" in error_of("(module " + "(" * N + ")" * N + ")").message
    assert "unterminated block comment" in error_of("(module " + "(;" * N + ";)" * (N - 1) + ")").message
    e = error_of("(module)\n(assert_return (invoke \"f\" " + "(" * N + ")" * N + "))", parse_wast)
    assert e.line == 2


def test_pathological_whitespace_and_strings_stay_linear():
    # Patterns that make a backtracking regex explode must fail fast.
    import time
    t = time.process_time()
    error_of('(module "' + "a b" * 20000 + "\n)")
    error_of("(module)" + " " * 20000 + "\u00e9")
    wat2wasm("(module)" + " " * 20000 + ";;x\n" * 5000)
    assert time.process_time() - t < 2.0


def test_errors_in_scripts_report_the_script_position():
    e = error_of("(module)\n\n(assert_return (invoke \"f\" (i32.const 99999999999)) (i32.const 0))", parse_wast)
    assert (e.line, e.column) == (3, 39)
    e = error_of("(module)\n(frobnicate)", parse_wast)
    assert "unknown command" in e.message and e.line == 2


def test_bytes_input_must_be_utf8():
    e = error_of(b"(module (func))\xff")
    assert "UTF-8" in e.message


def test_reserved_tokens_glued_to_strings():
    for text in ['(module (data $l"a"))', '(module (func "a"x))', '(module (data "a""b"))']:
        error_of(text)
