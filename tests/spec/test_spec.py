"""The official WebAssembly 2.0 spec suite on pywinch: one test per top-level script.

Every check of a core (non-SIMD) script must pass: there is no list of
expected failures. SIMD scripts (``simd_*.wast``) form their own group; while
pywinch's compiler does not support SIMD, a SIMD script whose only failures are
"not supported yet" skips with that count, and any other failure fails.
"""

import pytest

from pywinch.wast.frontend import parse
from pywinch.wast.runner import Runner

from suite import params, top_level

CORE, SIMD = top_level()


@pytest.fixture(scope="module")
def backend():
    from pywinch.wast.backend import PywinchBackend
    b = PywinchBackend()
    yield b
    b.close()


def _run(backend, testsuite, name):
    return Runner(backend).run_file(str(testsuite / name), parse)


def _explain(result, limit=40) -> str:
    """The failures, those with the same text after ``file:line:`` folded into one line."""
    groups: dict[str, list[str]] = {}
    for failure in result.failures:
        path_line, _, text = failure.partition(": ")
        groups.setdefault(text, []).append(path_line.rsplit(":", 1)[-1])
    lines = []
    for text, where in groups.items():
        at = where[0] if len(where) == 1 else f"{where[0]} (and {len(where) - 1} more lines up to {where[-1]})"
        lines.append(f"{result.name}:{at}: {text}")
    more = len(lines) - limit
    lines = lines[:limit] + ([f"... and {more} more kinds of failure"] if more > 0 else [])
    return "\n".join([f"{result.name}: {result.passed} passed, {result.failed} failed"] + lines)


@pytest.mark.parametrize("name", params(CORE))
def test_core(name, testsuite, backend, record_property):
    result = _run(backend, testsuite, name)
    record_property("checks", f"{result.passed}/{result.total}")
    assert result.failed == 0, _explain(result)


@pytest.mark.parametrize("name", params(SIMD))
def test_simd(name, testsuite, backend, record_property):
    result = _run(backend, testsuite, name)
    record_property("checks", f"{result.passed}/{result.total}")
    if result.failed and result.failed == result.unsupported:
        pytest.skip(f"SIMD not supported yet: {result.unsupported} of {result.total} checks need it")
    assert result.failed == 0, _explain(result)
