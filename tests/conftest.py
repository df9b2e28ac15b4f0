import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def testsuite_dir() -> pathlib.Path | None:
    """The official spec tests: $WASM_TESTSUITE, else ../shared/wasm-testsuite beside the checkout."""
    env = os.environ.get("WASM_TESTSUITE")
    candidates = [pathlib.Path(env)] if env else []
    candidates.append(ROOT.parent / "shared" / "wasm-testsuite")
    for c in candidates:
        if c.is_dir() and any(c.glob("*.wast")):
            return c
    return None


@pytest.fixture(scope="session")
def testsuite():
    d = testsuite_dir()
    if d is None:
        pytest.skip("the WebAssembly spec test suite is absent: set WASM_TESTSUITE or place it at ../shared/wasm-testsuite")
    return d
