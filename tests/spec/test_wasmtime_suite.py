"""The runner (and pywinch's text parser) proven on Wasmtime.

Wasmtime passes the whole 2.0 suite, so on it every check must pass; a
failure here is a defect of the runner, of the wasm-tools JSON front end, or
(in the second test) of pywinch's text parser, not of pywinch's compiler.

By default a handful of varied scripts run; PYWINCH_SPEC_FULL=1 runs them all.
"""

import os

import pytest

pytest.importorskip("wasmtime")

from pywinch.wast.runner import Runner

from spec_files import params, top_level
import wasmtools_json
from wasmtime_backend import WasmtimeBackend, wat2wasm

CORE, SIMD = top_level()
SUBSET = ["binary.wast", "br_table.wast", "conversions.wast", "f32.wast", "float_exprs.wast",
          "imports.wast", "linking.wast", "names.wast", "ref_func.wast", "table_copy.wast",
          "call_indirect.wast", "memory_grow.wast", "simd_lane.wast", "simd_f32x4_arith.wast",
          "simd_const.wast"]
FULL = os.environ.get("PYWINCH_SPEC_FULL") == "1"
NAMES = CORE + SIMD if FULL else [n for n in SUBSET if n in CORE + SIMD]


@pytest.fixture(scope="module")
def backend():
    b = WasmtimeBackend()
    yield b
    b.close()


def _explain(result, limit=30):
    return "\n".join([repr(result)] + result.failures[:limit])


@pytest.mark.skipif(not wasmtools_json.available(), reason="wasm-tools is not installed")
@pytest.mark.parametrize("name", params(NAMES))
def test_runner_with_wasm_tools_front_end(name, testsuite, backend):
    runner = Runner(backend, wat2wasm=wat2wasm)
    result = runner.run_file(str(testsuite / name), lambda text, path: wasmtools_json.parse(path))
    assert result.failed == 0, _explain(result)
    assert result.passed > 0


@pytest.mark.parametrize("name", params(NAMES))
def test_pywinch_parser_on_wasmtime(name, testsuite, backend):
    from pywinch.wast.frontend import parse
    result = Runner(backend).run_file(str(testsuite / name), parse)
    assert result.failed == 0, _explain(result)
    assert result.passed > 0
