"""Every module of the spec suite, compiled by pywinch, equals wasm-tools' binary."""

import shutil

import pytest

from suite_compare import _validator, compare_file, suite_files

pytestmark = pytest.mark.skipif(shutil.which("wasm-tools") is None, reason="wasm-tools is not installed")


def test_every_module_of_the_suite_matches_wasm_tools(testsuite):
    validate = _validator()
    problems = []
    compared = equal = malformed = 0
    for path in suite_files(testsuite):
        rep = compare_file(path, validate)
        compared += rep.compared
        equal += rep.equal
        malformed += rep.malformed_checked
        if rep.error or rep.differing or rep.invalid or rep.malformed_accepted or rep.missing:
            problems.append((rep.name, rep.error, rep.differing[:3], rep.invalid[:3],
                             rep.malformed_accepted[:3], rep.missing[:3]))
    print(f"\nmodules compared: {compared}, byte-equal: {equal}; malformed quote modules rejected: {malformed}")
    assert compared > 3000 and malformed > 1000
    assert not problems, problems
