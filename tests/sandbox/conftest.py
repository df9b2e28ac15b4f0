import pytest

import pywinch


@pytest.fixture
def engine():
    return pywinch.Engine()


@pytest.fixture
def store(engine):
    return pywinch.Store(engine)


def instantiate(store, wat: str, imports=()):
    module = pywinch.Module(store.engine, wat)
    inst = pywinch.Instance(store, module, list(imports))
    return inst.exports(store)


def trap_code(fn, *args) -> int | None:
    """The TrapCode a call raised, or None if it returned."""
    try:
        fn(*args)
    except pywinch.Trap as t:
        return t.code
    return None
