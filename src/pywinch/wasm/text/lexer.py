"""Tokenizer of the WebAssembly text format.

The whole text is cut into tokens by one compiled regular expression
(``findall`` runs in C); Python touches each real token once, never each
character.  Whitespace and comments are matched together with the token that
follows them, so offsets come from the running sum of match lengths.

A token is kept as its source string:

* ``"("`` and ``")"``;
* a string, starting with ``"``;
* an atom (keyword, identifier ``$x``, number), a run of *idchars*.  The
  spec's "reserved" tokens (idchars glued to strings, as in ``$l"a"``) are
  atoms containing a ``"`` and are rejected wherever they are used.

Block comments nest, which a regular expression cannot count: the pattern
takes comments up to three levels deep, and a deeper one stops the fast scan
at its ``(;`` and is skipped by a small counting loop.
"""

from __future__ import annotations

import bisect
import re
from itertools import accumulate, chain, compress, count
from operator import itemgetter

from ...errors import WatError

_IDCHAR = r"0-9A-Za-z!#$%&'*+\-./:<=>?@\\^_`|~"
_ESCAPES = r'\\(?:[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|[tnr"\'\\])'
_STRBODY = r'(?:[^"\\\x00-\x1f\x7f]++|' + _ESCAPES + r')*+'


def _block_comment(depth: int) -> str:
    inner = r"(?:[^;(]|;(?!\))|\((?!;))"
    if depth > 1:
        inner = r"(?:[^;(]|;(?!\))|\((?!;)|" + _block_comment(depth - 1) + ")"
    return r"\(;" + inner + r"*+;\)"


_SKIP = r"(?:[ \t\n\r]++|;;[^\n\r]*+|" + _block_comment(3) + ")*+"
# Possessive quantifiers (Python 3.11) keep an unterminated string from
# backtracking exponentially.
# The token group: parens, a comment start the fast path could not take,
# and atoms/strings (glued together they form one reserved token).
_TOKEN = r"(\(;|\(|\)|(?:[" + _IDCHAR + r"]++|\"" + _STRBODY + r"\")++)"
# (skip, token, stray character): every position of the text is covered,
# the empty match at the end takes the trailing whitespace.
_SCAN = re.compile("(" + _SKIP + ")(?:" + _TOKEN + r"|([\s\S])|\Z)")
_SURROGATE = re.compile("[\ud800-\udfff]")
_COMMENT_EDGE = re.compile(r"\(;|;\)")
_STRING_RE = re.compile('"' + _STRBODY + '"')
_VALID_ESCAPE = re.compile(_ESCAPES)
_ESCAPE = re.compile(r"\\(?:([0-9a-fA-F]{2})|u\{([0-9a-fA-F]+)\}|(.))", re.S)
_second = itemgetter(1)
_PARENS = frozenset("()")
_third = itemgetter(2)
_SIMPLE_ESC = {"t": "\t", "n": "\n", "r": "\r", '"': '"', "'": "'", "\\": "\\"}


class Source:
    """The text being parsed, turning character offsets into line:column."""

    __slots__ = ("text", "_lines", "filename")

    def __init__(self, text: str, filename: str = "<wat>"):
        self.text = text
        self.filename = filename
        self._lines = None

    def line_col(self, offset: int) -> tuple[int, int]:
        if self._lines is None:
            self._lines = [m.end() for m in re.finditer("\n", self.text)]
        line = bisect.bisect_right(self._lines, offset)
        start = self._lines[line - 1] if line else 0
        return line + 1, offset - start + 1

    def error(self, message: str, offset: int) -> WatError:
        line, col = self.line_col(min(max(offset, 0), len(self.text)))
        return WatError(message, line, col)


def decode_utf8(data: bytes) -> str:
    """Text from bytes; invalid UTF-8 is a WatError at the offending byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        head = data[:e.start]
        line_start = head.rfind(b"\n") + 1
        column = len(head[line_start:].decode("utf-8", "replace")) + 1
        raise WatError("malformed UTF-8 encoding", head.count(b"\n") + 1, column) from None


def tokenize(src: Source) -> tuple[list[str], list[int], list[int]]:
    """Cut ``src`` into tokens: (tokens, start offsets, matching-paren index).

    ``match[i]`` is the index of the ``)`` closing the ``(`` at ``i`` (and the
    reverse), -1 for other tokens.  Unbalanced parentheses, unterminated
    strings and comments, and characters outside the grammar raise WatError.
    """
    text = src.text
    bad = _SURROGATE.search(text)
    if bad is not None:
        # only a str built by hand holds these; they are not Unicode scalar values
        raise src.error(f"invalid character U+{ord(bad.group()):04X} (a lone surrogate)", bad.start())
    toks: list[str] = []
    offs: list[int] = []
    pos = 0
    n = len(text)
    while True:
        found = _SCAN.findall(text, pos)
        # Running sum over (skip, token, stray, skip, ...): every third entry starts a token.
        edges = list(accumulate(map(len, chain.from_iterable(found)), initial=pos))
        starts = edges[1::3]
        new = list(map(_second, found))
        while new and not new[-1] and not found[len(new) - 1][2]:
            new.pop()          # the empty matches at the end of the text
        if any(map(_third, found)) or "(;" in new:
            stop = _first_problem(src, found, new, starts)
            toks.extend(new[:stop[0]])
            offs.extend(starts[:stop[0]])
            pos = stop[1]
            continue
        toks.extend(new)
        offs.extend(starts[:len(new)])
        break
    if "(@" in text:
        toks, offs = _drop_annotations(src, toks, offs)
    if '$"' in text:
        _canonical_string_ids(toks)
    match = _match_parens(src, toks, offs)
    return toks, offs, match


def _first_problem(src: Source, found, new: list[str], starts: list[int]) -> tuple[int, int]:
    """Handle the first token the fast scan could not take.

    Returns (number of good tokens before it, offset to resume scanning at)
    for a block comment nested too deep for the pattern; raises WatError for
    a stray character (and so for unterminated strings and comments).
    """
    for k, (_, tok, bad) in enumerate(found):
        if bad:
            _raise_bad_char(src, src.text, starts[k])
        if tok == "(;":
            return k, _skip_nested_comment(src, src.text, starts[k])
    raise AssertionError("no problem found")   # pragma: no cover


def _skip_nested_comment(src: Source, text: str, start: int) -> int:
    # Comments nest: count openers and closers (strings do not hide them).
    depth = 0
    for m in _COMMENT_EDGE.finditer(text, start):
        depth += 1 if m.group() == "(;" else -1
        if depth == 0:
            return m.end()
    raise src.error("unterminated block comment", start)


def _raise_bad_char(src: Source, text: str, at: int):
    ch = text[at]
    if ch == '"':
        # Find why the string did not match: end of line/text, control char or escape.
        i = at + 1
        while i < len(text):
            c = text[i]
            if c == '"':
                break
            if c == "\\":
                if not _VALID_ESCAPE.match(text, i):
                    raise src.error("invalid escape sequence in string", i)
                i += 2
                continue
            if c == "\n":
                raise src.error("unterminated string (expected '\"' before end of line)", at)
            if ord(c) < 0x20 or c == "\x7f":
                raise src.error(f"control character {ord(c):#04x} in string", i)
            i += 1
        raise src.error("unterminated string (expected '\"')", at)
    if text.startswith("(;", at):
        raise src.error("unterminated block comment (expected ';)')", at)
    if ch == ";":
        raise src.error("unexpected character ';' (a comment starts with ';;')", at)
    raise src.error(f"unexpected character {ch!r}", at)


def _canonical_string_ids(toks: list[str]) -> None:
    """Rewrite ``$"name"`` identifiers as ``$name``: the two spell the same identifier.

    ``wasm-tools print`` writes names that are not plain idchars this way.
    A token that is not ``$`` plus one well-formed UTF-8 string is left alone
    (and rejected where an identifier is expected).
    """
    for k, t in enumerate(toks):
        if t.startswith('$"'):
            b = string_bytes(t[1:])
            if b:
                try:
                    toks[k] = "$" + b.decode("utf-8")
                except UnicodeDecodeError:
                    pass


def _drop_annotations(src: Source, toks: list[str], offs: list[int]):
    """Remove ``(@name ...)`` annotations, which 2.0 processors ignore."""
    out_t: list[str] = []
    out_o: list[int] = []
    i = 0
    n = len(toks)
    while i < n:
        t = toks[i]
        if t == "(" and i + 1 < n and toks[i + 1][:1] == "@" and offs[i + 1] == offs[i] + 1:
            depth = 0
            j = i
            while j < n:
                if toks[j] == "(":
                    depth += 1
                elif toks[j] == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            if j >= n:
                raise src.error("unterminated annotation (expected ')')", offs[i])
            i = j + 1
            continue
        out_t.append(t)
        out_o.append(offs[i])
        i += 1
    return out_t, out_o


def _match_parens(src: Source, toks: list[str], offs: list[int]) -> list[int]:
    match = [-1] * len(toks)
    stack: list[int] = []
    push = stack.append
    pop = stack.pop
    for i in compress(count(), map(_PARENS.__contains__, toks)):
        if toks[i] == "(":
            push(i)
        else:
            if not stack:
                raise src.error("unexpected ')' (no '(' to close)", offs[i])
            j = pop()
            match[i] = j
            match[j] = i
    if stack:
        raise src.error("unclosed '(' (expected ')')", offs[stack[-1]])
    return match


def string_bytes(tok: str) -> bytes | None:
    """The bytes a string token denotes, or None if ``tok`` is not one string."""
    if tok[0] != '"' or not _STRING_RE.fullmatch(tok):
        return None
    body = tok[1:-1]
    if "\\" not in body:
        return body.encode("utf-8")
    out = bytearray()
    last = 0
    for m in _ESCAPE.finditer(body):
        out += body[last:m.start()].encode("utf-8")
        hx, uni, ch = m.groups()
        if hx is not None:
            out.append(int(hx, 16))
        elif uni is not None:
            cp = int(uni, 16)
            if cp >= 0x110000 or 0xD800 <= cp < 0xE000:
                return None
            out += chr(cp).encode("utf-8")
        else:
            out += _SIMPLE_ESC[ch].encode()
        last = m.end()
    out += body[last:].encode("utf-8")
    return bytes(out)
