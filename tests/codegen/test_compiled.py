"""CompiledModule: serialization round trip, version/corruption checks, lookups."""

import pytest

from pywinch.codegen import compile_module
from pywinch.compiled import CompiledModule
from pywinch.errors import TrapCode, WasmError
from pywinch.wasm.binary import decode_module
from pywinch.wasm.text.wat import wat2wasm

WAT = """(module
  (import "env" "f" (func $imp (param i32)))
  (func $a (export "a") (param i32) (result i32) (i32.div_u (i32.const 1) (local.get 0)))
  (func $b (param i64 i64) (result i64 i64) (local.get 1) (local.get 0))
  (func $c (call $imp (i32.const 1)) unreachable))"""


@pytest.fixture(scope="module")
def compiled():
    seen = []
    cm = compile_module(decode_module(wat2wasm(WAT)), progress=lambda d, n: seen.append((d, n)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
    return cm


def test_round_trip(compiled):
    data = compiled.serialize()
    back = CompiledModule.deserialize(data)
    for attr in ("code", "func_offsets", "func_ends", "trampolines", "traps", "pcmap", "names",
                 "num_imported_funcs"):
        assert getattr(back, attr) == getattr(compiled, attr), attr
    assert back.names == {0: "imp", 1: "a", 2: "b", 3: "c"}


def test_rejects_foreign_corrupt_and_old_data(compiled):
    data = bytearray(compiled.serialize())
    with pytest.raises(WasmError):
        CompiledModule.deserialize(b"\0asm" + bytes(data[4:]))
    bad = bytearray(data)
    bad[-1] ^= 0xFF
    with pytest.raises(WasmError, match="checksum"):
        CompiledModule.deserialize(bytes(bad))
    old = bytearray(data)
    old[8] = 0
    with pytest.raises(WasmError, match="version"):
        CompiledModule.deserialize(bytes(old))
    with pytest.raises(WasmError):
        CompiledModule.deserialize(bytes(data[:20]))


def test_lookups(compiled):
    cm = compiled
    assert cm.num_imported_funcs == 1
    assert [cm.func_at(o) for o in cm.func_offsets] == [1, 2, 3]
    assert cm.func_at(cm.func_ends[-1] + 10_000) is None
    codes = {code for _, code, _ in cm.traps}
    assert {TrapCode.INTEGER_DIVISION_BY_ZERO, TrapCode.UNREACHABLE, TrapCode.STACK_OVERFLOW} <= codes
    for pc, code, off in cm.traps:
        assert cm.trap_at(pc) == (code, off)
        assert cm.func_at(pc - 1) is not None
    # One call site (the import call in $c), mapped to its wasm offset.
    assert len(cm.pcmap) == 1
    pc, off = cm.pcmap[0]
    assert cm.func_at(pc - 1) == 3 and cm.wasm_offset_at(pc) == off


def test_trampolines_per_signature(compiled):
    m = decode_module(wat2wasm(WAT))
    ta = m.funcs[0]
    tb = m.funcs[1]
    assert compiled.trampolines[ta][1] >= 0        # (i32) -> i32 has a native form
    assert compiled.trampolines[tb][1] == -1       # two results: array form only
    assert compiled.trampolines[tb][0] >= 0


def test_operator_map_for_explore():
    m = decode_module(wat2wasm(WAT))
    plain = compile_module(m)
    cm = compile_module(m, opmap=True)
    assert plain.opmap == [] and cm.code == plain.code        # the map changes no code
    offsets = [off for _, off in cm.opmap]
    body_ops = [off for body in m.codes for _, _, off in m.operators(body)]
    assert set(offsets) <= set(body_ops) and len(offsets) >= len(body_ops) - 2   # dead code is skipped
    assert all(cm.func_at(pc) is not None for pc, _ in cm.opmap)
    assert CompiledModule.deserialize(cm.serialize()).opmap == cm.opmap
