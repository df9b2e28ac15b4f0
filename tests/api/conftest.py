import pytest

import pywinch as wasm


@pytest.fixture
def engine():
    return wasm.Engine()


@pytest.fixture
def store(engine):
    return wasm.Store(engine)


def _compiled(engine, text):
    """Module from WAT; skips (with the reason) while the compiler is not in the tree."""
    try:
        return wasm.Module(engine, text)
    except wasm.UnsupportedError as e:
        if "not available yet" in str(e):
            pytest.skip(str(e))
        raise


@pytest.fixture
def compiled():
    return _compiled
