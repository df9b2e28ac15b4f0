"""pywinch agrees with `wasm-tools validate --features wasm2` on a fixed-seed
sample of `wasm-tools smith` 2.0 modules and byte mutations of them (the large
run: `python tests/wasm/smith_compare.py 10000`)."""

from __future__ import annotations

import pytest

from .smith_compare import run, wasm_tools_exe

pytestmark = pytest.mark.skipif(wasm_tools_exe() is None, reason="wasm-tools not installed")


def test_smith_and_mutants_agree_with_wasm_tools():
    figures, problems = run(300, seed=2024, mutants=2, verbose=False)
    assert figures["modules"] > 100
    # Both decisions must occur, or the comparison proves nothing.
    assert figures["smith_valid"] > 50 and figures["mutant_invalid"] > 50
    assert figures["crash"] == 0
    lines = [f"{k} #{i}: wasm-tools {'accepts' if ref else 'rejects'} ({rm[:100]}); pywinch {got} ({m[:150]})"
             for k, i, _, ref, rm, got, m in problems[:20]]
    assert not problems, "\n".join(lines)
