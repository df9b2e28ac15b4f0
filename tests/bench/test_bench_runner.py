"""benchmarks/run.py in quick mode: the report is written and every checksum is checked."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
RUN = ROOT / "benchmarks" / "run.py"
MANIFEST = ROOT / "benchmarks" / "wasm" / "manifest.json"

pytest.importorskip("wasmtime")


def run(tmp_path, *args):
    return subprocess.run([sys.executable, str(RUN), "--quick", "--out", str(tmp_path / "b.md"), *args],
                          capture_output=True, text=True, timeout=240, cwd=ROOT)


def test_quick_run_writes_report_with_verified_checksums(tmp_path):
    p = run(tmp_path, "--programs", "fib,sieve")
    assert p.returncode == 0, p.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    assert [r["program"] for r in results["programs"]] == ["fib", "sieve"]
    for row in results["programs"]:
        assert row["failures"] == {}
        # Every engine ran and produced a time (only after its output matched the manifest).
        for engine in ("pywinch", "cranelift", "winch", "pywasm", "pywinch-small"):
            assert row["engines"][engine]["exec"] >= 0
        for engine in ("pywinch", "cranelift", "winch"):
            assert row["engines"][engine]["compile"] > 0
    assert results["calls"]["pywinch"]["add"] > 0
    text = (tmp_path / "b.md").read_text()
    for heading in ("## Targets", "## Execution time", "## Compile time", "## Calls between Python and Wasm",
                    "## Where the time goes", "| fib |", "| sieve |", "geometric mean", "Quick mode"):
        assert heading in text
    assert "## FAILURES" not in text and "| **FAILED** |" not in text
    if "no chart" not in text:
        png = tmp_path / "b.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_wrong_checksum_is_a_loud_failure_not_a_number(tmp_path):
    manifest = json.loads(MANIFEST.read_text())
    entry = dict(manifest["fib"])
    entry["wasm"] = str(MANIFEST.parent / entry["wasm"])
    entry["expected_small"] = entry["expected_small"].replace("6765", "6766")
    (tmp_path / "m.json").write_text(json.dumps({"fib": entry}))
    p = run(tmp_path, "--manifest", str(tmp_path / "m.json"), "--no-pywasm", "--no-calls")
    assert p.returncode == 1
    assert "fib under pywinch: wrong output" in p.stderr
    results = json.loads((tmp_path / "results.json").read_text())
    row = results["programs"][0]
    assert row["engines"] == {}
    assert set(row["failures"]) >= {"pywinch", "cranelift", "winch"}
    text = (tmp_path / "b.md").read_text()
    assert "| **FAILED** |" in text and "## FAILURES" in text
