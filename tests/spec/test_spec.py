"""The official WebAssembly 2.0 spec suite on pywinch: one test per top-level script.

Every check of every script must pass: there is no list of expected
failures. SIMD scripts (``simd_*.wast``) form their own group (test_simd),
so a SIMD defect shows apart from the core ones.

The scripts run in worker processes (pywinch.wast.pool), PYWINCH_SPEC_JOBS of
them (default 2), started for all selected scripts when the first test asks:
a crash or a hang in native code fails that script's test, not the session.
PYWINCH_SPEC_JOBS=0 runs each script inside the test process (for debugging).
"""

import os

import pytest

from spec_files import params, top_level

CORE, SIMD = top_level()
JOBS = int(os.environ.get("PYWINCH_SPEC_JOBS", "2"))


@pytest.fixture(scope="session")
def spec_results(request, testsuite):
    """name -> Future of its FileResult, for every spec script selected in this session."""
    names = [item.callspec.params["name"] for item in request.session.items
             if item.module.__name__ == __name__ and hasattr(item, "callspec")]
    if JOBS <= 0:
        import concurrent.futures
        from pywinch.wast.backend import PywinchBackend
        from pywinch.wast.frontend import parse
        from pywinch.wast.runner import Runner
        backend = PywinchBackend()

        class Lazy(dict):
            def __missing__(self, name):
                f = concurrent.futures.Future()
                f.set_result(Runner(backend).run_file(str(testsuite / name), parse))
                return f
        yield Lazy()
        backend.close()
        return
    from pywinch.wast.pool import WorkerPool
    pool = WorkerPool(jobs=JOBS)
    futures = {name: pool.submit(str(testsuite / name)) for name in names}
    yield futures
    for f in futures.values():
        f.cancel()
    pool.close()


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


def _result(spec_results, name, record_property):
    result = spec_results[name].result()
    record_property("checks", f"{result.passed}/{result.total}")
    record_property("seconds", f"{result.seconds:.2f}")
    return result


@pytest.mark.parametrize("name", params(CORE))
def test_core(name, testsuite, spec_results, record_property):
    result = _result(spec_results, name, record_property)
    assert result.failed == 0, _explain(result)


@pytest.mark.parametrize("name", params(SIMD))
def test_simd(name, testsuite, spec_results, record_property):
    result = _result(spec_results, name, record_property)
    assert result.failed == 0, _explain(result)
