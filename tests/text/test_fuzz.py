"""Mutated suite modules and scripts: every failure is a WatError, never a stray exception."""

import random

from pywinch.errors import WatError
from pywinch.wasm.text import parse_wast, wat2wasm
from pywinch.wasm.text.lexer import Source, tokenize

_EXTRA = ["(", ")", "$x", "0", '"s"', "i32", "func", "then", "else", "end", "param", "result", "type", "offset=1",
          "align=3", "module", "quote", "binary", "-1", "nan:0x1", "v128.const", "i32x4", "(;", ";)", ";;", '"\\',
          "\u00e9", ",", "(@x"]


def _mutate(rnd: random.Random, toks: list[str]) -> str:
    toks = list(toks)
    for _ in range(rnd.randint(1, 3)):
        if not toks:
            break
        k = rnd.randrange(len(toks))
        r = rnd.random()
        if r < 0.3:
            del toks[k]
        elif r < 0.5:
            toks.insert(k, rnd.choice(toks))
        elif r < 0.7:
            toks.insert(k, rnd.choice(_EXTRA))
        elif r < 0.9:
            j = rnd.randrange(len(toks))
            toks[k], toks[j] = toks[j], toks[k]
        else:
            del toks[k:]
    return " ".join(toks)


def _samples(testsuite, names):
    out = []
    for name in names:
        text = (testsuite / name).read_text(encoding="utf-8")
        for _, m in parse_wast(text).modules():
            if m.kind_of_source == "text" and m.span[1] - m.span[0] < 4000:
                out.append(text[m.span[0]:m.span[1]])
    return out


def test_mutated_modules_fail_cleanly(testsuite):
    rnd = random.Random(1234)
    mods = _samples(testsuite, ["block.wast", "if.wast", "elem.wast", "data.wast", "simd_lane.wast", "imports.wast",
                                "func.wast", "br_table.wast", "memory.wast", "global.wast", "ref_func.wast"])
    assert len(mods) > 100
    for _ in range(3000):
        src = _mutate(rnd, tokenize(Source(rnd.choice(mods)))[0])
        try:
            wat2wasm(src)
        except WatError:
            pass


def test_mutated_scripts_fail_cleanly(testsuite):
    rnd = random.Random(99)
    text = (testsuite / "simd_const.wast").read_text(encoding="utf-8")
    text = text[:text.index("\n(", 60000)]
    toks = tokenize(Source(text))[0]
    for _ in range(150):
        try:
            parse_wast(_mutate(rnd, toks))
        except WatError:
            pass
