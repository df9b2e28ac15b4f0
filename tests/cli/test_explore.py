"""``pywinch explore``: the HTML page, parsed back with html.parser."""

from __future__ import annotations

import html.parser

import pytest

import pywinch
from pywinch import explore

from .conftest import PROGRAMS, assert_one_line_error

VOID = {"meta", "col", "br", "img", "link", "input", "hr"}

LIB = """
(module
  (func $add (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func $div (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func $caller (export "caller") (param i32) (result i32) local.get 0 i32.const 3 call $div)
  (func $loop (export "loop") (param i32) (result i32)
    (local $acc i32)
    (block $out
      (loop $top
        local.get 0 i32.eqz br_if $out
        local.get $acc local.get 0 i32.add local.set $acc
        local.get 0 i32.const 1 i32.sub local.set 0
        br $top))
    local.get $acc)
  (func $dead (export "dead") (result i32) i32.const 1 return i32.const 2 i32.const 3 i32.add)
  (func (export "f64") (result f64) f64.const 2.5)
  (func (result i32) i32.const 9))
"""


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children: list = []

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def find(self, tag=None, cls=None):
        for c in self.children:
            if isinstance(c, Node):
                if (tag is None or c.tag == tag) and (cls is None or cls in c.attrs.get("class", "").split()):
                    yield c
                yield from c.find(tag, cls)


class TreeBuilder(html.parser.HTMLParser):
    """Builds a tree and insists that every element is closed where it should be."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {}, None)
        self.cur = self.root
        self.doctype = None

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_endtag(self, tag):
        assert self.cur.tag == tag, f"</{tag}> closes <{self.cur.tag}>"
        self.cur = self.cur.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse(text: str) -> Node:
    b = TreeBuilder()
    b.feed(text)
    b.close()
    assert b.cur is b.root, "unclosed elements"
    assert b.doctype and b.doctype.lower() == "doctype html"
    return b.root


def sections(root: Node) -> dict[str, Node]:
    out = {}
    for s in root.find("section"):
        title = next(s.find("h2")).text().split(" [")[0]
        out[title] = s
    return out


def rows(section: Node) -> list[tuple[str, str, str, dict]]:
    """(row class, Wasm text, instructions text, attributes) of each table row but the header."""
    out = []
    for tr in section.find("tr"):
        tds = list(tr.find("td"))
        if tds:
            out.append((tr.attrs.get("class"), tds[1].text().strip(), tds[2].text(), tr.attrs))
    return out


@pytest.fixture
def lib(tmp_path):
    p = tmp_path / "lib.wat"
    p.write_text(LIB)
    return p


def test_page_shows_operators_beside_their_instructions(cli, lib, tmp_path):
    out = tmp_path / "lib.html"
    r = cli("explore", lib, "-o", out)
    assert (r.returncode, r.stderr) == (0, b"")
    root = parse(out.read_text())
    assert not list(root.find("script")) and not list(root.find("link"))     # self-contained
    secs = sections(root)
    assert list(secs) == ["add", "div", "caller", "loop", "dead", "f64", "function 6"]

    add = rows(secs["add"])
    assert [w for _, w, _, _ in add] == ["prologue", "local.get 0", "local.get 1", "i32.add", "end",
                                         "out-of-line: trap stubs, constants"]
    assert "push rbp" in add[0][2]
    assert "add " in add[3][2]                        # the i32.add row holds an x86 add
    assert "ret" in add[4][2]
    assert "trap: call stack exhausted" in add[5][2]

    div = {w: asm for _, w, asm, _ in rows(secs["div"])}
    assert "idiv" in div["i32.div_s"]
    assert "trap: integer divide by zero" in div["out-of-line: trap stubs, constants"]
    assert "trap: integer overflow" in div["out-of-line: trap stubs, constants"]

    caller = {w: asm for _, w, asm, _ in rows(secs["caller"])}
    assert "→ div" in caller["call 1 <div>"] and "call site of wasm" in caller["call 1 <div>"]

    loop = [w for _, w, _, _ in rows(secs["loop"])]
    assert "block" in loop and "loop" in loop and "br_if 1" in loop and "br 0" in loop

    dead = rows(secs["dead"])
    assert [(c, w) for c, w, _, _ in dead if c == "dead"] == [("dead", "i32.const 2"), ("dead", "i32.const 3"),
                                                            ("dead", "i32.add")]
    f64 = [w for _, w, _, _ in rows(secs["f64"])]
    assert "f64.const 2.5" in f64


def test_rows_have_their_own_colours(cli, lib, tmp_path):
    out = tmp_path / "lib.html"
    cli("explore", lib, "-o", out)
    loop = rows(sections(parse(out.read_text()))["loop"])
    colours = [a["style"] for c, _, asm, a in loop if c == "op" and asm.strip()]
    assert len(colours) >= 8
    assert all(x.startswith("--c:hsl(") for x in colours)
    assert all(a != b for a, b in zip(colours, colours[1:]))
    # A row of an operator that emitted no code is not coloured.
    assert all("style" not in a for c, _, asm, a in loop if c == "op" and not asm.strip())


def _page_bytes(section: Node) -> bytes:
    out = bytearray()
    for span in section.find("span", "b"):
        out += bytes.fromhex(span.text())
    return bytes(out)


def test_every_byte_of_machine_code_is_shown_once(tmp_path):
    """The instructions of a page, in order, are exactly the function's compiled
    code, compiled with the default engine's settings (what ``pywinch run`` executes)."""
    from pywinch import Config
    from pywinch.api.compiler import compile_module
    from pywinch.wasm.binary import decode_module
    data = (PROGRAMS / "hello.wasm").read_bytes()
    page = parse(explore.render_file(data, "hello.wasm"))
    m = decode_module(data)
    compiled = compile_module(m, Config(), opmap=True)
    secs = list(page.find("section"))
    assert len(secs) == len(m.funcs)
    for j, s in enumerate(secs):
        code = compiled.code[compiled.func_offsets[j]:compiled.func_ends[j]]
        assert _page_bytes(s) == code, s.attrs["id"]


def test_c_program_page(cli, tmp_path):
    out = tmp_path / "hello.html"
    r = cli("explore", PROGRAMS / "hello.wasm", "-o", out)
    assert r.returncode == 0, r.stderr
    root = parse(out.read_text())
    secs = sections(root)
    assert {"__original_main", "puts", "fwrite", "_start"} <= set(secs)
    main_ops = [w for _, w, _, _ in rows(secs["__original_main"])]
    assert any(w.startswith("call ") and w.endswith("<puts>") for w in main_ops)
    assert any(w.startswith("i32.store") or w.startswith("i32.load") or w.startswith("global.get")
               for w in main_ops)
    index = [a.attrs["href"] for a in next(root.find("ul", "index")).find("a")]
    assert len(index) == len(secs)
    # Call targets link to their sections.
    links = {a.text(): a.attrs["href"] for a in secs["__original_main"].find("a")}
    assert links["puts"] == "#" + secs["puts"].attrs["id"]


def test_function_filter(cli, lib, tmp_path):
    out = tmp_path / "one.html"
    assert cli("explore", lib, "-o", out, "-f", "div", "-f", "0").returncode == 0
    assert list(sections(parse(out.read_text()))) == ["add", "div"]
    assert_one_line_error(cli("explore", lib, "-o", out, "-f", "nope"), contains="no function named 'nope'")


def test_hex_mode(cli, lib, tmp_path):
    out = tmp_path / "hex.html"
    assert cli("explore", lib, "-o", out, "--hex").returncode == 0
    text = out.read_text()
    root = parse(text)
    assert "shown as bytes (--hex)" in next(root.find("p", "note")).text()
    add = rows(sections(root)["add"])
    assert "push" not in "".join(asm for *_, asm, _ in add)
    assert add[0][2].split()[1] == "55"          # push rbp, as a byte


def test_without_a_disassembler_the_page_says_so(monkeypatch, lib):
    import pywinch.isa.x64.disasm as disasm

    def missing(code, base=0):
        raise pywinch.UnsupportedError("disassembly needs iced-x86 or capstone (pip install iced-x86)")
    monkeypatch.setattr(disasm, "disassemble", missing)
    root = parse(explore.render_file(lib.read_bytes(), "lib.wat"))
    assert "No disassembler is installed" in next(root.find("p", "note")).text()
    assert "55 48 89 e5" in rows(sections(root)["add"])[0][2]


def test_default_output_name_and_errors(cli, lib, tmp_path):
    assert cli("explore", lib).returncode == 0
    assert (tmp_path / "lib.html").exists()
    bad = tmp_path / "bad.wasm"
    bad.write_bytes(b"\0asm\x01\0\0\0\x0a\x04\x01\x02\x00\x0b")    # a code section without functions
    assert_one_line_error(cli("explore", bad, "-o", tmp_path / "x.html"))
    cw = tmp_path / "lib.cwasm"
    cli("compile", lib, "-o", cw)
    assert_one_line_error(cli("explore", cw), contains="a .cwasm has no operator map")


def test_operator_text():
    from pywinch.wasm import opcodes as op
    from pywinch.wasm.text import wat2wasm  # noqa: F401  (the module tests below decode text)
    m = None
    assert explore.operator_text(op.BY_NAME["i32.load"], (2, 8, 0), m, {}) == "i32.load offset=8"
    assert explore.operator_text(op.BY_NAME["i64.load"], (0, 0, 0), m, {}) == "i64.load align=1"
    assert explore.operator_text(op.BY_NAME["block"], -0x40, m, {}) == "block"
    assert explore.operator_text(op.BY_NAME["block"], -0x7F, m, {}) == "block (result i32)"
    assert explore.operator_text(op.BY_NAME["br_table"], ((0, 1), 2), m, {}) == "br_table 0 1 2"
    assert explore.operator_text(op.BY_NAME["call"], 4, m, {4: "f"}) == "call 4 <f>"
    assert explore.operator_text(op.BY_NAME["f32.const"], 0x3FC00000, m, {}) == "f32.const 1.5"
    assert explore.operator_text(op.BY_NAME["ref.null"], 0x70, m, {}) == "ref.null func"


def test_large_modules_show_the_first_functions_and_index_all(cli, lib, tmp_path):
    out = tmp_path / "lim.html"
    assert cli("explore", lib, "-o", out, "--limit", "2").returncode == 0
    root = parse(out.read_text())
    assert list(sections(root)) == ["add", "div"]
    assert "Showing the first 2 of 7 functions" in next(root.find("p", "note")).text()
    items = list(next(root.find("ul", "index")).find("li"))
    assert len(items) == 7
    assert [a.attrs["href"] for a in next(root.find("ul", "index")).find("a")] == ["#f0", "#f1"]
    assert cli("explore", lib, "-o", out, "--limit", "2", "--all").returncode == 0
    assert len(sections(parse(out.read_text()))) == 7
    # A byte budget too: one function at least, then no more than 256 KiB of code.
    from pywinch.codegen import compile_module
    from pywinch.wasm.binary import decode_module
    m = decode_module(pywinch.wat2wasm(LIB))
    compiled = compile_module(m, opmap=True)
    monkey = explore.CODE_BUDGET
    try:
        explore.CODE_BUDGET = 1
        assert list(sections(parse(explore.render(m, compiled, "x")))) == ["add"]
    finally:
        explore.CODE_BUDGET = monkey
