import pytest

import pywinch as wasm


@pytest.fixture
def engine():
    return wasm.Engine()


@pytest.fixture
def store(engine):
    return wasm.Store(engine)


def _compiled(engine, text):
    """Module from WAT; skips with the compiler's reason for what it does not support yet."""
    try:
        return wasm.Module(engine, text)
    except wasm.UnsupportedError as e:
        pytest.skip(f"compiler: {e}")


@pytest.fixture
def compiled():
    return _compiled
