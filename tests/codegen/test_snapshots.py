"""Snapshot tests: each snapshots/<name>.wat beside the disassembly it must
compile to (<name>.expected), so a change in generated code shows in review.

Regenerate after an intended change with ``PYWINCH_UPDATE_SNAPSHOTS=1``
and review the diff.  Calls out of the function (trap routines, other
functions) are shown by target kind, not address, so unrelated layout
changes do not disturb the snapshots.
"""

import os
import pathlib
import re

import pytest

capstone = pytest.importorskip("capstone")

from pywinch.codegen import compile_module
from pywinch.isa.x64 import cpu
from pywinch.wasm.binary import decode_module
from pywinch.wasm.text.wat import wat2wasm

DIR = pathlib.Path(__file__).parent / "snapshots"
CASES = sorted(p.stem for p in DIR.glob("*.wat"))


def disassemble(wat: str) -> str:
    m = decode_module(wat2wasm(wat))
    cm = compile_module(m)
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    names = {e.index: e.name for e in m.exports if e.kind == 0}
    out = []
    for j, (start, end) in enumerate(zip(cm.func_offsets, cm.func_ends)):
        fi = m.num_imported_funcs + j
        out.append(f"func {fi} {names.get(fi, '')}".rstrip() + ":")
        body = cm.code[start:end]
        for insn in md.disasm(body, 0):
            text = f"{insn.mnemonic} {insn.op_str}".strip()
            if insn.mnemonic == "call" and insn.op_str.startswith("0x"):
                target = int(insn.op_str, 16)
                if not 0 <= target < len(body):
                    text = "call <out of function>"
            out.append(f"  {insn.address:4x}: {text}")
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("name", CASES)
def test_snapshot(name):
    if not (cpu.has(cpu.LZCNT) and cpu.has(cpu.BMI1) and cpu.has(cpu.POPCNT) and cpu.has(cpu.SSE41)):
        pytest.skip("snapshots are recorded with lzcnt/tzcnt/popcnt/SSE4.1 available")
    got = disassemble((DIR / f"{name}.wat").read_text())
    expected_path = DIR / f"{name}.expected"
    if os.environ.get("PYWINCH_UPDATE_SNAPSHOTS"):
        expected_path.write_text(got)
    assert expected_path.exists(), f"no snapshot {expected_path.name}: run with PYWINCH_UPDATE_SNAPSHOTS=1"
    assert got == expected_path.read_text()


def test_snapshots_exist():
    assert {"fold_immediates", "compare_branch"} <= set(CASES)


def test_narrow_slots_copied_with_their_size():
    """An i32/f32 local copied to another local is moved with 4 bytes (an 8-byte
    load of a slot just written with 4 bytes cannot be store-forwarded); i64 with 8."""
    text = disassemble((DIR / "local_copy.wat").read_text())
    funcs = text.split("func ")
    rotate = next(f for f in funcs if f.startswith("1 rotate"))
    rotate64 = next(f for f in funcs if f.startswith("2 rotate64"))
    # (through the scratch register or, when the local stays cached, an allocated one)
    load8 = re.compile(r"mov (r\w+|[re][a-z]{2}), qword ptr \[(rbp|rsp)")
    assert re.search(r"mov \w+, dword ptr \[rbp", rotate)
    assert not load8.search(rotate)
    assert "r11d, dword ptr [rsp]" in rotate
    assert load8.search(rotate64)
