"""The tokenizer: tokens, offsets, comments, strings, annotations, paren matching."""

import pytest

from pywinch.errors import WatError
from pywinch.wasm.text.lexer import Source, string_bytes, tokenize


def toks(text):
    return tokenize(Source(text))[0]


def test_tokens_offsets_and_matching():
    text = '(module $m\n  (func "a\\"b" 0x1_0 nan:0x1))'
    t, offs, match = tokenize(Source(text))
    assert t == ["(", "module", "$m", "(", "func", '"a\\"b"', "0x1_0", "nan:0x1", ")", ")"]
    assert [text[o:o + len(x)] for x, o in zip(t, offs)] == t
    assert match[0] == 9 and match[9] == 0 and match[3] == 8 and match[1] == -1
    assert Source(text).line_col(offs[4]) == (2, 4)


@pytest.mark.parametrize("text,expected", [
    ("a;;x\nb", ["a", "b"]),
    ("a;;x\rb", ["a", "b"]),                      # a carriage return ends a line comment too
    ("a(;x;)b", ["a", "b"]),
    ("a (; (; (; (; (; deep ;) ;) ;) ;) ;) b", ["a", "b"]),
    ("a (; ;; ;) b", ["a", "b"]),
    ("a (; \"not a string ;) b", ["a", "b"]),
    ("(;(;;);)x", ["x"]),
    ("x ;; trailing comment", ["x"]),
    ("x (; trailing ;)   ", ["x"]),
    ('$l"a"', ['$l"a"']),                         # reserved: one token, rejected where used
    ("(@annot x (y)) z", ["z"]),
    ("(@a (@b)) (c)", ["(", "c", ")"]),
])
def test_whitespace_comments_annotations(text, expected):
    assert toks(text) == expected


@pytest.mark.parametrize("tok,value", [
    ('""', b""), ('"abc"', b"abc"), ('"\\t\\n\\r\\"\\\'\\\\"', b"\t\n\r\"'\\"), ('"\\00\\ff\\7F"', b"\x00\xff\x7f"),
    ('"\\u{0}\\u{7f}\\u{e9}\\u{1F600}"', b"\x00\x7f\xc3\xa9\xf0\x9f\x98\x80"), ('"h\u00e9"', "h\u00e9".encode()),
])
def test_string_values(tok, value):
    assert string_bytes(tok) == value


@pytest.mark.parametrize("tok", ['"\\u{d800}"', '"\\u{110000}"', '"a""b"', 'abc', '"a"b'])
def test_not_a_string(tok):
    assert string_bytes(tok) is None


@pytest.mark.parametrize("text,message,col", [
    ('"abc', "unterminated string", 1),
    ('"a\\qb"', "escape", 3),
    ('"a\\u{zz}"', "escape", 3),
    ('"a\\1"', "escape", 3),
    ('"a\tb"', "control character", 3),
    ("(; abc", "unterminated block comment", 1),
    ("(; (; abc ;)", "unterminated block comment", 1),
    ("x ; y", "';'", 3),
    ("x [y]", "'['", 3),
    ("((x)", "expected ')'", 1),
    ("(x))", "unexpected ')'", 4),
    ("(@annot (x)", "expected ')'", 1),
])
def test_lexical_errors(text, message, col):
    with pytest.raises(WatError) as info:
        tokenize(Source(text))
    assert message in info.value.message and info.value.column == col
