"""Snapshots of representative SIMD lowerings (simd_snapshots/<name>.wat):
the SSE4.1 forms (AVX masked, <name>.sse.expected) and, on a CPU with AVX,
the VEX forms (<name>.avx.expected).  Regenerate after an intended change
with ``PYWINCH_UPDATE_SNAPSHOTS=1`` and review the diff."""

import os
import pathlib

import pytest

pytest.importorskip("capstone")

from pywinch.isa.x64 import cpu

from .test_snapshots import disassemble

DIR = pathlib.Path(__file__).parent / "simd_snapshots"
CASES = sorted(p.stem for p in DIR.glob("*.wat"))
REQUIRED = (cpu.SSSE3, cpu.SSE41, cpu.SSE42, cpu.LZCNT, cpu.BMI1, cpu.POPCNT)


@pytest.mark.parametrize("isa", ["sse", "avx"])
@pytest.mark.parametrize("name", CASES)
def test_simd_snapshot(name, isa):
    if not all(cpu.has(f) for f in REQUIRED):
        pytest.skip("SIMD snapshots are recorded with SSE4.2, lzcnt, tzcnt and popcnt available")
    wat = (DIR / f"{name}.wat").read_text()
    if isa == "avx":
        if not cpu.has(cpu.AVX):
            pytest.skip("the CPU has no AVX")
        got = disassemble(wat)
    else:
        with cpu.masked(cpu.AVX):
            got = disassemble(wat)
    path = DIR / f"{name}.{isa}.expected"
    if os.environ.get("PYWINCH_UPDATE_SNAPSHOTS"):
        path.write_text(got)
    assert path.exists(), f"no snapshot {path.name}: run with PYWINCH_UPDATE_SNAPSHOTS=1"
    assert got == path.read_text()


def test_avx_and_sse_snapshots_differ():
    # The VEX forms must actually be used where the CPU has them.
    if not cpu.has(cpu.AVX):
        pytest.skip("the CPU has no AVX")
    text = (DIR / "simd_float.avx.expected").read_text()
    assert "vminps" in text and "vminps" not in (DIR / "simd_float.sse.expected").read_text()
