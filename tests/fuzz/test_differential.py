"""Short fixed-seed differential and hostile-input runs (the long ones: tools/fuzz.py)."""

from __future__ import annotations

import os

import pytest

from . import difffuzz, hostile

pytestmark = pytest.mark.skipif(difffuzz.wasm_tools_exe() is None, reason="wasm-tools is not installed")
pytest.importorskip("wasmtime")

COUNT = int(os.environ.get("PYWINCH_FUZZ_COUNT", "300"))


def _report(fig) -> str:
    return "\n\n".join(f"#{f['index']} {f['verdict']} (stage {f['stage']}): {f['detail'][:800]}"
                       for f in fig["failures"][:10])


def test_differential_against_wasmtime(tmp_path):
    fig = difffuzz.fuzz(COUNT, seed=20251125, jobs=2, out_dir=str(tmp_path))
    assert fig["cases"] == COUNT
    # The run must have exercised something: modules that ran, calls that returned and trapped.
    assert fig["agree"] > COUNT // 2 and fig["calls"] > COUNT and fig["traps"] > 10
    failures = sum(fig[k] for k in difffuzz.FAILURES)
    assert failures == 0, _report(fig)


def test_hostile_input(tmp_path):
    fig = hostile.hostile_fuzz(COUNT, seed=20251125, jobs=2, out_dir=str(tmp_path))
    assert fig["cases"] == COUNT and fig["accepted"] > 0
    assert fig["error"] + fig["crash"] + fig["hang"] + fig["disagree"] == 0, _report(fig)


def test_comparison_sees_differences():
    """The comparison itself: equal outcomes agree, each kind of difference is caught."""
    base = {"compile": ["ok"], "instantiate": ["ok"],
            "calls": [["f", [1], ["ok", [1, ["f32", 0x7FC00000]]]], ["g", [], ["trap", "memory"]]],
            "globals": {"x": ["f64", 0]}, "memories": {"m": [65536, "ab"]}, "tables": {"t": [2, "01"]}}
    import copy
    assert difffuzz.verdict(base, copy.deepcopy(base), True) == ("agree", "")

    def changed(path, value, canon=True):
        other = copy.deepcopy(base)
        obj = other
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value
        return difffuzz.verdict(other, base, canon)[0]

    assert changed(["calls", 0, 2], ["ok", [2, ["f32", 0x7FC00000]]]) == "mismatch"
    assert changed(["calls", 1, 2], ["trap", "table"]) == "mismatch"
    assert changed(["calls", 1, 2], ["ok", []]) == "mismatch"
    assert changed(["globals", "x"], ["f64", 1 << 63]) == "mismatch"           # -0.0 is not 0.0
    assert changed(["memories", "m"], [65536, "ac"]) == "mismatch"
    assert changed(["tables", "t"], [2, "11"]) == "mismatch"
    assert changed(["instantiate"], ["trap", "memory"]) == "mismatch"
    with_globals = copy.deepcopy(base)
    with_globals["calls"][0].append([5])
    other = copy.deepcopy(with_globals)
    other["calls"][0][3] = [6]
    assert difffuzz.verdict(with_globals, other, True)[0] == "mismatch"
    # A NaN payload may differ only where the spec leaves it open (no canonicalization).
    assert changed(["calls", 0, 2], ["ok", [1, ["f32", 0x7FC00001]]], canon=True) == "mismatch"
    assert changed(["calls", 0, 2], ["ok", [1, ["f32", 0x7FC00001]]], canon=False) == "agree"
    assert changed(["calls", 0, 2], ["ok", [1, ["f32", 0x7F800000]]], canon=False) == "mismatch"
    assert changed(["compile"], ["unsupported", "x not supported yet"]) == "unsupported"
    assert changed(["calls", 1, 2], ["trap", "stack"]) == "stack_limit"
    fuelled = copy.deepcopy(base)
    fuelled["calls"][0].append([5, ["fuel left", 10]])
    other = copy.deepcopy(fuelled)
    other["calls"][0][3] = [5, ["fuel left", 11]]
    assert difffuzz.verdict(fuelled, other, True)[0] == "fuel_count"
    other["calls"][0][3] = [6, ["fuel left", 11]]
    assert difffuzz.verdict(fuelled, other, True)[0] == "mismatch"
    assert changed(["calls", 0, 2], ["error", "foreign", "IndexError", "tb"]) == "error"


def test_expose_fuel_keeps_the_module_valid():
    wasmtime = pytest.importorskip("wasmtime")
    plan = difffuzz.case_plan(5, 5)
    wasm = difffuzz.smith(difffuzz.wasm_tools_exe(), plan)
    engine = wasmtime.Engine()
    module = wasmtime.Module(engine, wasm)
    assert difffuzz.FUEL_EXPORT in [e.name for e in module.exports]


def test_pool_reports_crashes_and_hangs_and_carries_on():
    reqs = [{"kind": "selftest", "action": a, "n": i}
            for i, a in enumerate(["ok", "segfault", "ok", "sleep", "ok"])]
    replies = {r["n"]: reply for r, reply in difffuzz.run_requests(reqs, jobs=1, timeout=3)}
    assert [replies[i]["verdict"] for i in range(5)] == ["agree", "crash", "agree", "hang", "agree"]
    assert replies[1]["stage"] == "segfault" and "-11" in replies[1]["detail"]
    assert replies[3]["stage"] == "sleep"
