"""Loads and stores of every width at addresses around the memory end and with
offset immediates up to 2^32-1: in bounds they read and write exactly the right
bytes, out of bounds they trap and write nothing, checked against a Python model
of the specification and against Wasmtime."""

from __future__ import annotations

import struct

import pytest

import pywinch
from pywinch import TrapCode

from .conftest import instantiate

PAGE = 65536
# (instruction, access width, struct format of the value it produces / consumes)
LOADS = [("i32.load", 4, "<i"), ("i64.load", 8, "<q"), ("f32.load", 4, "<I"), ("f64.load", 8, "<Q"),
         ("i32.load8_s", 1, "<b"), ("i32.load8_u", 1, "<B"), ("i32.load16_s", 2, "<h"),
         ("i32.load16_u", 2, "<H"), ("i64.load8_s", 1, "<b"), ("i64.load8_u", 1, "<B"),
         ("i64.load16_s", 2, "<h"), ("i64.load16_u", 2, "<H"), ("i64.load32_s", 4, "<i"),
         ("i64.load32_u", 4, "<I")]
STORES = [("i32.store", 4, "i32"), ("i64.store", 8, "i64"), ("f32.store", 4, "f32"), ("f64.store", 8, "f64"),
          ("i32.store8", 1, "i32"), ("i32.store16", 2, "i32"), ("i64.store8", 1, "i64"),
          ("i64.store16", 2, "i64"), ("i64.store32", 4, "i64")]
OFFSETS = [0, 1, 3, PAGE - 8, PAGE, 2 * PAGE - 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - PAGE, 2 ** 32 - 8,
           2 ** 32 - 1]


def addresses(mem_size: int) -> list[int]:
    near_end = [mem_size - k for k in range(0, 10) if mem_size - k >= 0] + [mem_size + 1, mem_size + 7]
    return sorted({0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 9, 2 ** 32 - 8, 2 ** 32 - 1, *near_end,
                   *(a % 2 ** 32 for a in near_end)})


def module_text(pages: int, max_pages: int) -> str:
    funcs = []
    for k, off in enumerate(OFFSETS):
        for op, _, _ in LOADS:
            rt = "f32" if op.startswith("f32") else "f64" if op.startswith("f64") else op[:3]
            reint = f"{op[:3].replace('f', 'i')}.reinterpret_{op[:3]}" if op[0] == "f" else ""
            funcs.append(f'(func (export "{op}@{k}") (param i32) (result {"i" + rt[1:] if reint else rt})'
                         f' (local.get 0) ({op} offset={off}) {reint})')
        for op, _, vt in STORES:
            value = f"({vt}.const 0) drop (local.get 1)" if vt[0] != "f" else \
                f"(local.get 1) ({vt}.reinterpret_{'i' + vt[1:]})"
            pt = "i" + vt[1:]
            funcs.append(f'(func (export "{op}@{k}") (param i32 {pt}) (local.get 0) {value} ({op} offset={off}))')
    return (f'(module (memory (export "mem") {pages} {max_pages})\n'
            f'(func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))\n' + "\n".join(funcs) + ")")


def pattern(n: int) -> bytes:
    return bytes((i * 131 + 17) & 0xFF for i in range(n))


def expected_load(mem: bytes, op, width, fmt, ea):
    if ea + width > len(mem):
        return "trap"
    raw = mem[ea:ea + width]
    value = struct.unpack(fmt, raw)[0]
    if op.startswith("i64") and fmt in ("<b", "<B", "<h", "<H", "<i", "<I"):
        return value                                    # sign/zero extension as the format says
    if op == "f32.load" or op == "f64.load":
        return struct.unpack("<i" if width == 4 else "<q", raw)[0]
    return value if fmt != "<I" else struct.unpack("<i", raw)[0]


@pytest.mark.parametrize("pages", [1, 2])
def test_loads_and_stores_around_the_end_and_4gib(pages):
    store = pywinch.Store(pywinch.Engine())
    ex = instantiate(store, module_text(1, 3))
    mem = ex["mem"]
    if pages == 2:
        assert ex["grow"](store, 1) == 1      # bounds must follow a grow
    size = pages * PAGE
    assert mem.data_len(store) == size
    mem.write(store, pattern(size), 0)
    model = bytearray(pattern(size))
    problems = []
    for k, off in enumerate(OFFSETS):
        for addr in addresses(size):
            ea = addr + off
            for op, width, fmt in LOADS:
                want = expected_load(bytes(model), op, width, fmt, ea)
                try:
                    got = ex[f"{op}@{k}"](store, addr - 2 ** 32 if addr >= 2 ** 31 else addr)
                except pywinch.Trap as t:
                    got = "trap" if t.code == TrapCode.HEAP_OUT_OF_BOUNDS else f"trap {t.code}"
                if got != want:
                    problems.append(f"{op} offset={off} addr={addr:#x}: got {got}, want {want}")
            for op, width, vt in STORES:
                value = 0x0102030405060708 ^ (ea * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF)
                value &= (1 << (8 * width)) - 1
                arg = value - (1 << 64) if value >= 1 << 63 else value
                if vt in ("i32", "f32"):
                    arg = value - (1 << 32) if value >= 1 << 31 else value
                try:
                    ex[f"{op}@{k}"](store, addr - 2 ** 32 if addr >= 2 ** 31 else addr, arg)
                    got = "ok"
                except pywinch.Trap as t:
                    got = "trap" if t.code == TrapCode.HEAP_OUT_OF_BOUNDS else f"trap {t.code}"
                want = "trap" if ea + width > size else "ok"
                if want == "ok":
                    model[ea:ea + width] = value.to_bytes(width, "little")
                if got != want:
                    problems.append(f"{op} offset={off} addr={addr:#x}: got {got}, want {want}")
    # Nothing written out of place: trapped stores left no partial write.
    actual = bytes(mem.read(store, 0, size))
    if actual != bytes(model):
        first = next(i for i in range(size) if actual[i] != model[i])
        problems.append(f"memory differs from the model first at {first:#x}")
    assert not problems, "\n".join(problems[:30]) + f"\n({len(problems)} problems)"


def test_same_outcomes_as_wasmtime():
    """The same calls through Wasmtime trap exactly where pywinch does."""
    wasmtime = pytest.importorskip("wasmtime")
    text = module_text(1, 1)
    outcomes = {}
    for lib in (pywinch, wasmtime):
        store = lib.Store(lib.Engine())
        ex = lib.Instance(store, lib.Module(store.engine, text), []).exports(store)
        ex["mem"].write(store, pattern(PAGE), 0)
        seen = []
        for k in range(len(OFFSETS)):
            for addr in (0, PAGE - 8, PAGE - 4, PAGE - 1, PAGE, 2 ** 32 - 1):
                a = addr - 2 ** 32 if addr >= 2 ** 31 else addr
                for op, _, _ in LOADS:
                    try:
                        seen.append(ex[f"{op}@{k}"](store, a))
                    except lib.Trap:
                        seen.append("trap")
        outcomes[lib.__name__] = seen
    assert outcomes["pywinch"] == outcomes["wasmtime"]


def test_empty_memory_traps_every_access():
    store = pywinch.Store(pywinch.Engine())
    ex = instantiate(store, '(module (memory 0 1) (func (export "ld") (param i32) (result i32) '
                            '(i32.load8_u (local.get 0))) (func (export "grow") (result i32) '
                            '(memory.grow (i32.const 1))))')
    for addr in (0, 1, 65535, -1):
        with pytest.raises(pywinch.Trap, match="out of bounds memory access"):
            ex["ld"](store, addr)
    assert ex["grow"](store) == 0
    assert ex["ld"](store, 65535) == 0
    with pytest.raises(pywinch.Trap, match="out of bounds memory access"):
        ex["ld"](store, 65536)
