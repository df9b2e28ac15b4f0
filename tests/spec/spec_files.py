"""The spec suite's files, found the way tests/conftest.py finds the suite."""

from __future__ import annotations

import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def suite_dir() -> pathlib.Path | None:
    env = os.environ.get("WASM_TESTSUITE")
    candidates = [pathlib.Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "wasm-testsuite")
    for c in candidates:
        if c.is_dir() and any(c.glob("*.wast")):
            return c
    return None


def top_level() -> tuple[list[str], list[str]]:
    """(core script names, SIMD script names) of the top-level (WebAssembly 2.0) suite."""
    d = suite_dir()
    if d is None:
        return [], []
    names = sorted(p.name for p in d.glob("*.wast"))
    return ([n for n in names if not n.startswith("simd_")], [n for n in names if n.startswith("simd_")])


def params(names: list[str]) -> list[str]:
    # Without the suite, one placeholder whose test asks for the `testsuite`
    # fixture, which skips with the reason (an empty parameter list would not say why).
    return names or ["<suite absent>"]
