"""Store limits (memory size, table elements, instances, memories, tables) behave as in
wasmtime-py: each scenario runs in both engines and must end the same way."""

from __future__ import annotations

import pytest

import pywinch

wasmtime = pytest.importorskip("wasmtime")

PAGE = 65536
MEM = '(module (memory (export "m") {}) (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))'
TAB = ('(module (table (export "t") {} funcref) (func (export "grow") (param i32) (result i32) '
       '(table.grow (ref.null func) (local.get 0))))')

SCENARIOS = {
    # name: (limits, [(module text, [calls of grow])...])
    "memory grows to the limit": (dict(memory_size=3 * PAGE), [(MEM.format(1), [1, 1, 1, 0, 5])]),
    "memory limit below the minimum": (dict(memory_size=PAGE), [(MEM.format(2), [])]),
    "memory limit not a page multiple": (dict(memory_size=PAGE + 1), [(MEM.format(1), [1, 0])]),
    "memory limit zero": (dict(memory_size=0), [(MEM.format(0), [1, 0]), (MEM.format(1), [])]),
    "memory limit per memory": (dict(memory_size=2 * PAGE), [(MEM.format(2), [1]), (MEM.format(2), [0, 1])]),
    "table grows to the limit": (dict(table_elements=10), [(TAB.format(4), [3, 3, 1, 0, 1])]),
    "table limit below the minimum": (dict(table_elements=3), [(TAB.format(4), [])]),
    "instances": (dict(instances=2), [(MEM.format(0), []), (MEM.format(0), []), (MEM.format(0), [])]),
    "memories": (dict(memories=1), [(MEM.format(1), []), (MEM.format(1), [])]),
    "tables": (dict(tables=1), [(TAB.format(1), []), (TAB.format(1), [])]),
    "no limits": (dict(), [(MEM.format(1), [100, 1000, 70000]), (TAB.format(0), [100, 1 << 20])]),
}


def play(lib, limits, steps) -> list:
    store = lib.Store(lib.Engine())
    if limits:
        store.set_limits(**limits)
    seen = []
    for text, grows in steps:
        try:
            ex = lib.Instance(store, lib.Module(store.engine, text), []).exports(store)
        except Exception as e:
            seen.append(("instantiate failed", type(e).__name__ in ("WasmtimeError", "Trap") or
                         isinstance(e, pywinch.WasmError)))
            continue
        seen.append("instantiated")
        seen.extend(ex["grow"](store, n) for n in grows)
    return seen


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_store_limits_as_wasmtime(name):
    limits, steps = SCENARIOS[name]
    ours = play(pywinch, limits, steps)
    theirs = play(wasmtime, limits, steps)
    assert ours == theirs


def test_limit_failure_is_a_pywinch_error_and_store_stays_usable():
    store = pywinch.Store(pywinch.Engine())
    store.set_limits(instances=1)
    ex = pywinch.Instance(store, pywinch.Module(store.engine, MEM.format(1)), []).exports(store)
    with pytest.raises(pywinch.WasmError):
        pywinch.Instance(store, pywinch.Module(store.engine, MEM.format(1)), [])
    assert ex["grow"](store, 1) == 1
