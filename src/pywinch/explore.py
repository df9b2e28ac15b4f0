"""``pywinch explore``: each function's Wasm operators beside the machine code emitted for them.

The module is compiled with the operator map on (``compile_module(opmap=True)``):
for every compiled operator, the code offset where its code starts.  An
operator owns the instructions from there to the next operator's start, so
the page shows one row per operator, its instructions beside it, in a colour
of its own.  A single-pass compiler defers work (a constant or a local read
is pushed on the value stack and only materialized by the operator that
consumes it), so the code of an operator often appears in a later row: the
page shows where code is emitted, which is what one wants to see.

Code before the first operator is the prologue (frame, stack-limit and
epoch checks); after the function's final ``ret`` come the out-of-line trap
stubs and the constant pool.  Trap sites and call sites are annotated from
the CompiledModule's trap table and pc map; call targets are named.

Disassembly uses iced-x86 or capstone when installed; without either (or
with ``hex_only``) the page shows the bytes and says so.  The page is one
self-contained file: inline CSS, no scripts, no external resources.
"""

from __future__ import annotations

import bisect
import html
import re
import struct
import time

from .errors import TrapCode, UnsupportedError, WasmError
from .wasm import opcodes as op
from .wasm.types import EXTERN_FUNC, type_name

__all__ = ["render_file", "render", "function_rows"]

_PROLOGUE = -1
_OUTOFLINE = -2
_HEX = re.compile(r"0x[0-9a-f]+")
_ZEROS = re.compile(r"\b0x0+(?=[0-9a-f])")


# --- operators as text -------------------------------------------------------------
def _blocktype(v: int, m) -> str:
    if v == -0x40:
        return ""
    if v < 0:
        return f"(result {type_name(-v)})"
    return f"(type {v})"


def _float(bits: int, f32: bool) -> str:
    v = struct.unpack("<f", struct.pack("<I", bits))[0] if f32 else struct.unpack("<d", struct.pack("<Q", bits))[0]
    return repr(v)


def operator_text(code: int, imm, m, func_names: dict) -> str:
    """The text-format spelling of one operator with its immediates."""
    name = op.NAMES[code] or f"<opcode {code:#x}>"
    k = op.IMMEDIATES[code]
    if imm is None or k == op.NONE:
        return name
    if k == op.BLOCKTYPE:
        t = _blocktype(imm, m)
        return f"{name} {t}" if t else name
    if k == op.BR_TABLE:
        labels, default = imm
        return f"{name} {' '.join(map(str, labels))} {default}".replace("  ", " ")
    if k == op.FUNC:
        fname = func_names.get(imm)
        return f"{name} {imm}" + (f" <{fname}>" if fname else "")
    if k == op.CALL_INDIRECT:
        ti, table = imm
        return f"{name} {table} (type {ti})"
    if k in (op.MEMARG, op.MEMARG_LANE):
        align, offset, mem = imm[0], imm[1], imm[2]
        parts = [name]
        if mem:
            parts.append(str(mem))
        if offset:
            parts.append(f"offset={offset}")
        if align != op.NATURAL_ALIGN[code]:
            parts.append(f"align={1 << align}")
        if k == op.MEMARG_LANE:
            parts.append(str(imm[3]))
        return " ".join(parts)
    if k == op.F32:
        return f"{name} {_float(imm, True)}"
    if k == op.F64:
        return f"{name} {_float(imm, False)}"
    if k == op.SELECT_T:
        return f"{name} (result {' '.join(type_name(t) for t in imm)})"
    if k == op.REFTYPE:
        return f"{name} {type_name(imm).replace('ref', '')}"
    if k == op.V128:
        return f"{name} 0x{imm & ((1 << 128) - 1):032x}"
    if k == op.SHUFFLE:
        return f"{name} {' '.join(str(b) for b in imm)}"
    if isinstance(imm, tuple):
        return f"{name} {' '.join(map(str, imm))}"
    return f"{name} {imm}"


# --- one function --------------------------------------------------------------------
class FunctionView:
    """What the page shows of one defined function."""

    __slots__ = ("index", "name", "signature", "rows", "code_size", "body_size", "num_insns")

    def __init__(self, index, name, signature, rows, code_size, body_size, num_insns):
        self.index = index
        self.name = name
        self.signature = signature
        self.rows = rows              # [(kind, wasm_offset, depth, text, [insn, ...]), ...]
        self.code_size = code_size
        self.body_size = body_size
        self.num_insns = num_insns


def _instructions(code: bytes, start: int, end: int, hex_only: bool):
    """``[(address, bytes, text)]`` of ``code[start:end]`` (addresses are code offsets)."""
    chunk = code[start:end]
    if not hex_only:
        from .isa.x64.disasm import disassemble
        # iced writes branch targets with 16 digits; the code is far smaller.
        return [(a, raw, _ZEROS.sub("0x", text)) for a, raw, text in disassemble(chunk, start)]
    return [(start + i, chunk[i:i + 8], "") for i in range(0, len(chunk), 8)]


def function_rows(m, compiled, j: int, func_names: dict, hex_only: bool = False,
                  starts: dict | None = None) -> FunctionView:
    """The operators of defined function ``j`` with the instructions each emitted.

    ``starts``: code offset of each function's entry -> (name, function index),
    to name call targets."""
    nimp = compiled.num_imported_funcs
    fi = nimp + j
    body = m.codes[j]
    start, end = compiled.func_offsets[j], compiled.func_ends[j]
    insns = _instructions(compiled.code, start, end, hex_only)
    first = compiled.func_offsets[0] if compiled.func_offsets else 0

    # The operator map restricted to this function: where each operator's code starts.
    opmap = compiled.opmap
    lo = bisect.bisect_left(opmap, (start, -1))
    hi = bisect.bisect_left(opmap, (end, -1))
    entries = opmap[lo:hi]
    pcs = [pc for pc, _ in entries]
    compiled_offsets = {off for _, off in entries}

    # Out-of-line code begins after the first ret that follows the last operator's start.
    tail = end
    if entries and not hex_only:
        last = pcs[-1]
        for addr, raw, text in insns:
            if addr >= last and text.split(" ", 1)[0] in ("ret", "retq"):
                tail = addr + len(raw)
                break

    # Trap and call sites are recorded by return address: (start, end] of this function.
    tr, pm = compiled.traps, compiled.pcmap
    lo, hi = (start + 1,), (end + 1,)
    traps = {pc: (tc, off) for pc, tc, off in tr[bisect.bisect_left(tr, lo):bisect.bisect_left(tr, hi)]}
    calls = dict(pm[bisect.bisect_left(pm, lo):bisect.bisect_left(pm, hi)])
    owned: dict[int, list] = {}
    for addr, raw, text in insns:
        if addr >= tail:
            key = _OUTOFLINE
        else:
            i = bisect.bisect_right(pcs, addr) - 1
            key = entries[i][1] if i >= 0 else _PROLOGUE
        note = ""
        link = None          # (name, function index) of a call's target
        ret_pc = addr + len(raw)
        if ret_pc in traps:
            tc, off = traps[ret_pc]
            msg = TrapCode.MESSAGES.get(tc, "trap reported by a builtin") if tc else "trap reported by a builtin"
            note = f"trap: {msg} (wasm {off:#x})"
        elif ret_pc in calls:
            note = f"call site of wasm {calls[ret_pc]:#x}"
        if text and starts and text.startswith(("call", "jmp")):
            m_ = _HEX.search(text)
            t = int(m_.group(), 16) if m_ else None
            if text.startswith("call ") and text[5:].strip() == "0":
                t = 0
            target = starts.get(t) if t is not None else None
            if target is None and t is not None and t < first and "[" not in text:
                target = ("trap routine", None)
            if target is not None:
                link = target
                note = f"→ {target[0]}" + (f"; {note}" if note else "")
        owned.setdefault(key, []).append((addr, raw, text, note, link))

    rows = []
    if _PROLOGUE in owned:
        rows.append(("prologue", None, 0, "prologue", owned[_PROLOGUE]))
    depth = 1
    for code, imm, off in m.operators(body):
        if code in (op.END, op.ELSE):
            depth -= 1
        # `end`/`else` after unreachable code are compiled (they rejoin reachable code) but
        # the operator map does not record them: never call them dead.
        kind = "op" if off in compiled_offsets or code in (op.END, op.ELSE) else "dead"
        rows.append((kind, off, depth, operator_text(code, imm, m, func_names), owned.get(off, [])))
        if code in (op.BLOCK, op.LOOP, op.IF, op.ELSE):
            depth += 1
    if _OUTOFLINE in owned:
        rows.append(("outofline", None, 0, "out-of-line: trap stubs, constants", owned[_OUTOFLINE]))

    ft = m.types[m.funcs[j]]
    sig = (f"({' '.join(type_name(t) for t in ft.params)}) -> "
           f"({' '.join(type_name(t) for t in ft.results)})")
    return FunctionView(fi, func_names.get(fi), sig, rows, end - start, body.end - body.start, len(insns))


# --- the page ------------------------------------------------------------------------
_CSS = """
body{font:14px/1.35 system-ui,sans-serif;margin:0 1.5em 3em;color:#222;background:#fff}
h1{font-size:1.4em}h2{font-size:1.1em;margin:2em 0 .3em}
code,pre,td.wasm,td.off{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12.5px}
.note{background:#fff4d6;border:1px solid #e8c860;padding:.4em .8em;border-radius:4px}
table.fn{border-collapse:collapse;width:100%;table-layout:fixed}
table.fn th{text-align:left;border-bottom:2px solid #999;padding:2px 6px;background:#f4f4f4}
table.fn td{vertical-align:top;padding:1px 6px;border-bottom:1px solid #e6e6e6}
table.fn col.off{width:6em}table.fn col.wasm{width:34%}
tr.op td,tr.prologue td,tr.outofline td{background:var(--c)}
tr.op:hover td{filter:brightness(.93)}
tr.dead td{color:#aaa}
tr.prologue td.wasm,tr.outofline td.wasm{font-style:italic;color:#555}
td.asm pre{margin:0;white-space:pre-wrap;word-break:break-all}
.a{color:#777}.b{color:#999}.n{color:#a33}.i{color:#111}
td.wasm span{display:inline-block}
ul.index{columns:3;font-size:13px}
.sum{color:#555;font-size:13px}
"""


def _colour(k: int) -> str:
    # Golden-angle hue steps: neighbours never share a colour.
    return f"hsl({(k * 137.508) % 360:.0f},70%,91%)"


def _render_function(v: FunctionView, out: list, shown: set) -> None:
    e = html.escape
    title = v.name or f"function {v.index}"
    out.append(f'<section id="f{v.index}"><h2>{e(title)} <span class="sum">[{v.index}] {e(v.signature)}</span></h2>')
    out.append(f'<p class="sum">{v.body_size} bytes of Wasm, {v.code_size} bytes of x86-64 '
               f'in {v.num_insns} instructions</p>')
    out.append('<table class="fn"><colgroup><col class="off"><col class="wasm"><col></colgroup>'
               "<tr><th>offset</th><th>Wasm</th><th>x86-64</th></tr>")
    k = 0
    for kind, off, depth, text, insns in v.rows:
        if kind == "op" and insns:
            style = f' style="--c:{_colour(k)}"'
            k += 1
        elif kind in ("prologue", "outofline"):
            style = ' style="--c:#eee"'
        else:
            style = ""
        title_attr = ' title="not compiled: unreachable code"' if kind == "dead" else ""
        where = f"{off:#x}" if off is not None else ""
        lines = []
        for addr, raw, itext, note, link in insns:
            line = (f'<span class="a">{addr:6x}</span>  <span class="b">{raw.hex(" "):<23}</span> '
                    f'<span class="i">{e(itext)}</span>')
            if note and link is not None and link[1] is not None and link[1] in shown:
                # The call's target, linked to its section.
                rest = note[len(link[0]) + 2:]
                line += (f'  <span class="n">; → <a href="#f{link[1]}">{e(link[0])}</a>{e(rest)}</span>')
            elif note:
                line += f'  <span class="n">; {e(note)}</span>'
            lines.append(line)
        pad = f' style="padding-left:{depth * 1.2:.1f}em"' if depth > 0 else ""
        out.append(f'<tr class="{kind}"{style}{title_attr}><td class="off">{where}</td>'
                   f'<td class="wasm"><span{pad}>{e(text)}</span></td>'
                   f'<td class="asm"><pre>{chr(10).join(lines)}</pre></td></tr>')
    out.append("</table></section>")


def _select(m, wanted, func_names: dict) -> list[int]:
    nimp = m.num_imported_funcs
    ndef = len(m.funcs)
    if not wanted:
        return list(range(ndef))
    by_name = {}
    for fi, n in func_names.items():
        by_name.setdefault(n, fi)
    out = []
    for w in wanted:
        fi = by_name.get(w)
        if fi is None and str(w).isdigit():
            fi = int(w)
        if fi is None:
            raise WasmError(f"no function named {w!r}")
        if not nimp <= fi < nimp + ndef:
            raise WasmError(f"function {w}: not a function defined in the module")
        out.append(fi - nimp)
    return sorted(set(out))


DEFAULT_LIMIT = 200     # functions shown in detail unless asked for by name or --all
CODE_BUDGET = 256 << 10  # and at most this much of their machine code


def render(m, compiled, title: str, functions=None, hex_only: bool = False,
           compile_ms: float | None = None, limit: int | None = DEFAULT_LIMIT) -> str:
    """The page for decoded module ``m`` compiled (with ``opmap=True``) as ``compiled``.

    Without ``functions``, at most ``limit`` functions (None: all) and
    ``CODE_BUDGET`` bytes of their code are shown in detail, the first ones in
    module order; the index lists every function.  A page of a large program
    (all of SQLite: 170 MB of HTML) is no use in a browser."""
    func_names = dict(m.names.functions)
    for x in m.exports:
        if x.kind == EXTERN_FUNC:
            func_names.setdefault(x.index, x.name)
    func_names.update({k: v for k, v in compiled.names.items() if k not in func_names})
    note = ""
    if not hex_only:
        try:
            from .isa.x64.disasm import disassemble
            disassemble(b"\x90")
        except UnsupportedError:
            hex_only = True
            note = ("No disassembler is installed (pip install iced-x86, or capstone): "
                    "machine code is shown as bytes.")
    else:
        note = "Machine code is shown as bytes (--hex)."
    selected = _select(m, functions, func_names)
    detailed = selected
    if not functions and limit is not None:
        # In module order, up to ``limit`` functions and CODE_BUDGET bytes of machine code
        # (a page is ~50 bytes of HTML per byte of code), at least one.
        detailed, total = [], 0
        for j in selected:
            size = compiled.func_ends[j] - compiled.func_offsets[j]
            if detailed and (len(detailed) >= limit or total + size > CODE_BUDGET):
                break
            detailed.append(j)
            total += size
        if len(detailed) < len(selected):
            extra = (f"Showing the first {len(detailed)} of {len(selected)} functions: pick others with "
                     "-f NAME (repeatable), or show all with --all.")
            note = f"{note} {extra}" if note else extra
    nimp = m.num_imported_funcs
    starts = {off: (func_names.get(nimp + j) or f"function {nimp + j}", nimp + j)
              for j, off in enumerate(compiled.func_offsets)}
    views = [function_rows(m, compiled, j, func_names, hex_only, starts) for j in detailed]
    shown = {v.index for v in views}

    e = html.escape
    out = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
           f"<title>pywinch explore: {e(title)}</title><style>{_CSS}</style></head><body>",
           f"<h1>{e(title)}: Wasm beside its x86-64 code</h1>"]
    from . import __version__
    stats = (f"{len(m.funcs)} defined functions ({m.num_imported_funcs} imported), "
             f"{len(compiled.code)} bytes of machine code")
    if compile_ms is not None:
        stats += f", compiled in {compile_ms:.1f} ms"
    out.append(f'<p class="sum">{stats}; pywinch {e(__version__)}.</p>')
    out.append("<p>Each Wasm operator is shown with the instructions emitted for it, in its own colour. "
               "The single-pass compiler defers constants and local reads until an operator consumes them, "
               "so their code appears in that later row; grey operators are unreachable and not compiled. "
               "Offsets: Wasm module bytes (left), machine-code bytes (right).</p>")
    if note:
        out.append(f'<p class="note">{e(note)}</p>')
    if len(selected) > 1:
        out.append('<ul class="index">')
        for j in selected:
            fi = nimp + j
            name = e(func_names.get(fi) or f"function {fi}")
            size = compiled.func_ends[j] - compiled.func_offsets[j]
            label = f'<a href="#f{fi}">{name}</a>' if fi in shown else name
            out.append(f'<li>{label} <span class="sum">{size} B</span></li>')
        out.append("</ul>")
    for v in views:
        _render_function(v, out, shown)
    out.append("</body></html>\n")
    return "\n".join(out)


def render_file(data: bytes, title: str, functions=None, hex_only: bool = False, progress=None,
                limit: int | None = DEFAULT_LIMIT) -> str:
    """The page for a module given as binary or text (what ``pywinch explore`` writes).

    Compiled with the default engine settings, so the code shown is the code
    ``pywinch run`` executes.  ``progress(done, total)``: after each compiled function."""
    from .api.compiler import compile_module
    from .api.engine import Config
    from .api.module import _to_binary
    from .wasm.binary import decode_module
    binary = _to_binary(data)
    m = decode_module(binary)
    t0 = time.perf_counter()
    compiled = compile_module(m, Config(), progress=progress, opmap=True)
    ms = (time.perf_counter() - t0) * 1000
    return render(m, compiled, title, functions, hex_only, ms, limit)
