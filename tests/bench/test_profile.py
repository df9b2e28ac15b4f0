"""benchmarks/profile.py: Winch's code found in the serialized module, samples mapped onto code."""

from __future__ import annotations

import importlib.util
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROFILE = ROOT / "benchmarks" / "profile.py"
FIB = ROOT / "benchmarks" / "wasm" / "fib.wasm"

wasmtime = pytest.importorskip("wasmtime")


def load_profile():
    spec = importlib.util.spec_from_file_location("bench_profile", PROFILE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def winch_module():
    cfg = wasmtime.Config()
    wasmtime._ffi.wasmtime_config_strategy_set(cfg.ptr(), 2)
    return wasmtime.Module(wasmtime.Engine(cfg), FIB.read_bytes())


def test_winch_text_and_function_symbols_from_serialized_module():
    prof = load_profile()
    text, symbols = prof._elf_text_and_symbols(bytes(winch_module().serialize()))
    names = [s[2].split("::")[-1] for s in symbols]
    assert "fib" in names and "_start" in names
    for off, end, _ in symbols:
        assert 0 <= off < end <= len(text)
    # A function's bytes are real code: the first instruction decodes (Winch's prologue pushes rbp).
    from pywinch.isa.x64.disasm import disassemble
    off, end, _ = symbols[names.index("fib")]
    first = disassemble(text[off:end], 0)[0][2]
    assert first.startswith("push")


def test_samples_are_attributed_to_functions_and_instructions():
    prof = load_profile()
    # Two functions of known code: nop; ret | ret. Samples: 3 on the first's nop, 1 on the second, 2 outside.
    code = bytes([0x90, 0xC3, 0xC3])
    info = {"base": 0x1000, "funcs": [(0, 2, "f"), (2, 3, "g")]}
    text = prof.analyse("t", [0x1000, 0x1000, 0x1000, 0x1002, 0x5000, 0x10], info, code, lines=2, top=2)
    assert "6 samples, 4 (67%) in generated code" in text
    assert "50.0%  f" in text and "16.7%  g" in text
    assert "      3       0:  nop" in text


@pytest.mark.skipif(shutil.which("perf") is None, reason="perf is not installed")
def test_profile_end_to_end_on_fib():
    probe = subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-o", "/dev/null", "true"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip("perf record is not permitted here")
    p = subprocess.run([sys.executable, str(PROFILE), "fib", "--args", "30", "--lines", "5"],
                       capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    assert "== pywinch fib 30" in p.stdout and "== winch fib 30" in p.stdout
    assert p.stdout.count("fib  (") == 2     # the hot function is named under both engines
