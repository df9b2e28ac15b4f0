"""Worker processes: a script that kills or hangs its process is reported against that script."""

import os
import pathlib

import pytest

pytest.importorskip("wasmtime")

from pywinch.wast.pool import WorkerPool

HERE = str(pathlib.Path(__file__).resolve().parent)
OK = '(module (func (export "f") (result i32) i32.const 7))\n(assert_return (invoke "f") (i32.const 7))\n'


def test_crash_and_hang_cost_one_script(tmp_path):
    files = {}
    for name in ("a.wast", "segv.wast", "b.wast", "spin.wast", "c.wast"):
        p = tmp_path / name
        p.write_text(OK)
        files[name] = str(p)
    with WorkerPool(jobs=1, hard_timeout=5, backend="wasmtime_backend:CrashingWasmtimeBackend",
                    pythonpath=[HERE]) as pool:
        results = list(pool.map(files.values()))
    by = {os.path.basename(r.path): r for r in results}
    for name in ("a.wast", "b.wast", "c.wast"):
        assert (by[name].passed, by[name].failed) == (2, 0), by[name].failures
    assert by["segv.wast"].failed == 1 and "SIGSEGV" in by["segv.wast"].error
    assert "Fatal Python error" in by["segv.wast"].error       # faulthandler's report travels along
    assert by["spin.wast"].failed == 1 and "no result within 5s" in by["spin.wast"].error
