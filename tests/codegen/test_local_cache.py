"""The register cache of locals (codegen/context.py ``lreg``, control.py
``conform``): a local stored from a register is read from that register
until the register or the local changes, loops carry the locals they set in
registers, and every label, call and clobber invalidates.  Each program runs
on pywinch and Wasmtime with the same arguments and must agree; the code of a
counting loop must not reload its locals from their frame slots."""

import pytest

wasmtime = pytest.importorskip("wasmtime")
capstone = pytest.importorskip("capstone")

import pywinch as pw
from pywinch.codegen import compile_module
from pywinch.wasm.binary import decode_module
from pywinch.wasm.text.wat import wat2wasm

PROGRAMS = {
    # local.set inside a block, read after its end (a merge: both paths' values)
    "set_in_block": ("""
      (func (export "f") (param i32 i32) (result i32) (local i32)
        (local.set 2 (i32.add (local.get 0) (i32.const 5)))
        (block
          (br_if 0 (local.get 1))
          (local.set 2 (i32.mul (local.get 0) (i32.const 3))))
        (i32.add (local.get 2) (local.get 0)))""", [(1, 0), (1, 1), (7, 0), (-4, 9)]),
    # set in both arms of an if/else, read after
    "set_in_if_else": ("""
      (func (export "f") (param i32 i32) (result i32) (local i32)
        (local.set 2 (i32.sub (local.get 0) (i32.const 1)))
        (if (local.get 1)
          (then (local.set 2 (i32.add (local.get 0) (i32.const 100))))
          (else (local.set 2 (i32.xor (local.get 0) (i32.const 7)))))
        (local.get 2))""", [(1, 0), (1, 1), (12, 0), (12, 3)]),
    # if without else: the false path keeps the old value
    "set_in_if": ("""
      (func (export "f") (param i32 i32) (result i32) (local i32)
        (local.set 2 (i32.add (local.get 0) (i32.const 1)))
        (if (local.get 1) (then (local.set 2 (i32.add (local.get 2) (i32.const 40)))))
        (i32.mul (local.get 2) (i32.const 2)))""", [(1, 0), (1, 1), (-3, 5)]),
    # a call between the set and the get clobbers every caller-saved register
    "call_between": ("""
      (func $g (param i32) (result i32) (i32.mul (local.get 0) (i32.const 7)))
      (func (export "f") (param i32) (result i32) (local i32 i32)
        (local.set 1 (i32.add (local.get 0) (i32.const 3)))
        (local.set 2 (call $g (i32.add (local.get 0) (i32.const 11))))
        (i32.sub (local.get 1) (local.get 2)))""", [(0,), (5,), (-9,)]),
    # division claims rax/rdx, a variable shift rcx: cached locals there must go
    "div_shift_clobber": ("""
      (func (export "f") (param i32 i32) (result i32) (local i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32)
        (local.set 2 (i32.add (local.get 0) (i32.const 1)))
        (local.set 3 (i32.add (local.get 0) (i32.const 2)))
        (local.set 4 (i32.add (local.get 0) (i32.const 3)))
        (local.set 5 (i32.add (local.get 0) (i32.const 4)))
        (local.set 6 (i32.add (local.get 0) (i32.const 5)))
        (local.set 7 (i32.add (local.get 0) (i32.const 6)))
        (local.set 8 (i32.add (local.get 0) (i32.const 7)))
        (local.set 9 (i32.add (local.get 0) (i32.const 8)))
        (local.set 10 (i32.add (local.get 0) (i32.const 9)))
        (local.set 11 (i32.add (local.get 0) (i32.const 10)))
        (local.set 12 (i32.add (local.get 0) (i32.const 11)))
        (i32.add
          (i32.add (i32.div_u (local.get 12) (i32.or (local.get 1) (i32.const 1)))
                   (i32.shl (local.get 11) (local.get 1)))
          (i32.add
            (i32.add (i32.add (local.get 2) (local.get 3)) (i32.add (local.get 4) (local.get 5)))
            (i32.add (i32.add (local.get 6) (local.get 7))
                     (i32.add (i32.add (local.get 8) (local.get 9)) (i32.rem_s (local.get 10) (i32.const 3)))))))""",
        [(1, 0), (100, 3), (-50, 31), (7, 2)]),
    # many live temporaries while locals are cached: the allocator takes them back
    "pressure": ("""
      (func (export "f") (param i64) (result i64) (local i64 i64 i64)
        (local.set 1 (i64.add (local.get 0) (i64.const 1)))
        (local.set 2 (i64.mul (local.get 0) (i64.const 3)))
        (local.set 3 (i64.sub (local.get 0) (i64.const 9)))
        (i64.add (local.get 1)
          (i64.add (i64.mul (local.get 2) (i64.add (local.get 0) (i64.const 1)))
            (i64.add (i64.xor (local.get 3) (i64.add (local.get 1) (local.get 0)))
              (i64.add (i64.add (i64.add (local.get 0) (local.get 1)) (i64.add (local.get 2) (local.get 3)))
                (i64.add (i64.add (local.get 1) (i64.const 77)) (i64.add (i64.mul (local.get 3) (local.get 2))
                  (i64.add (i64.add (local.get 0) (local.get 2)) (i64.sub (local.get 1) (local.get 3))))))))))""",
        [(0,), (5,), (-123456789,), (1 << 40,)]),
    # tee then get, the tee'd value used as an operand and the local read later
    "tee_then_get": ("""
      (func (export "f") (param i32) (result i32) (local i32)
        (i32.add
          (i32.mul (local.tee 1 (i32.add (local.get 0) (i32.const 9))) (local.get 1))
          (local.get 1)))""", [(0,), (3,), (-9,), (100000,)]),
    # a lazy read of a local taken before the local changes keeps the old value
    "get_then_set": ("""
      (func (export "f") (param i32) (result i32) (local i32)
        (local.set 1 (i32.add (local.get 0) (i32.const 1)))
        (local.get 1)
        (local.set 1 (i32.mul (local.get 1) (i32.const 10)))
        (i32.sub (local.get 1)))""", [(0,), (4,), (-2,)]),
    # select with cached locals as operands and condition
    "select": ("""
      (func (export "f") (param i32 i32) (result i32) (local i32 i32)
        (local.set 2 (i32.add (local.get 0) (i32.const 1)))
        (local.set 3 (i32.sub (local.get 0) (i32.const 1)))
        (i32.add (select (local.get 2) (local.get 3) (local.get 1))
                 (select (local.get 3) (local.get 2) (i32.lt_s (local.get 2) (local.get 1)))))""",
        [(0, 0), (0, 1), (5, 10), (5, -10)]),
    # br_table to a loop head (a back-edge through the jump table) and to blocks
    "br_table_loop": ("""
      (func (export "f") (param i32) (result i32) (local i32 i32)
        (local.set 1 (local.get 0))
        (block $out
          (loop $top
            (local.set 2 (i32.add (local.get 2) (local.get 1)))
            (local.set 1 (i32.sub (local.get 1) (i32.const 1)))
            (block $b
              (br_table $top $b $out (i32.and (local.get 1) (i32.const 3))))
            (local.set 2 (i32.xor (local.get 2) (i32.const 0x55)))
            (br_if $top (i32.gt_s (local.get 1) (i32.const 0)))))
        (local.get 2))""", [(0,), (1,), (17,), (100,)]),
    # loop-carried locals changed on the back-edge path only, nested loops
    "nested_loops": ("""
      (func (export "f") (param i32) (result i64) (local i32 i32 i64)
        (loop $outer
          (local.set 2 (i32.const 0))
          (loop $inner
            (local.set 3 (i64.add (local.get 3) (i64.extend_i32_u (i32.mul (local.get 1) (local.get 2)))))
            (local.set 2 (i32.add (local.get 2) (i32.const 1)))
            (br_if $inner (i32.lt_u (local.get 2) (local.get 1))))
          (local.set 1 (i32.add (local.get 1) (i32.const 1)))
          (br_if $outer (i32.lt_u (local.get 1) (local.get 0))))
        (local.get 3))""", [(0,), (1,), (5,), (40,)]),
    # a loop whose body has a merge and a call: the back-edge reloads from the slots
    "loop_with_call": ("""
      (func $g (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
      (func (export "f") (param i32) (result i32) (local i32 i32)
        (loop $l
          (local.set 1 (i32.add (local.get 1) (i32.const 2)))
          (if (i32.and (local.get 1) (i32.const 4))
            (then (local.set 2 (call $g (local.get 2)))))
          (local.set 2 (i32.add (local.get 2) (local.get 1)))
          (br_if $l (i32.lt_s (local.get 1) (local.get 0))))
        (i32.add (local.get 1) (local.get 2)))""", [(0,), (9,), (100,)]),
    # a loop exited from the middle (br_if out) and continued with br
    "loop_break_continue": ("""
      (func (export "f") (param i32) (result i32) (local i32 i32)
        (block $done
          (loop $l
            (local.set 1 (i32.add (local.get 1) (i32.const 1)))
            (br_if $done (i32.ge_u (local.get 1) (local.get 0)))
            (local.set 2 (i32.add (local.get 2) (i32.mul (local.get 1) (local.get 1))))
            (br $l)))
        (i32.add (local.get 2) (local.get 1)))""", [(0,), (1,), (10,), (1000,)]),
    # memory accesses with a cached address and value
    "memory": ("""
      (memory 1)
      (func (export "f") (param i32) (result i32) (local i32 i32)
        (loop $l
          (i32.store8 (local.get 1) (local.get 1))
          (local.set 2 (i32.add (local.get 2) (i32.load8_u (local.get 1))))
          (local.set 1 (i32.add (local.get 1) (i32.const 3)))
          (br_if $l (i32.lt_u (local.get 1) (local.get 0))))
        (local.get 2))""", [(0,), (10,), (3000,)]),
    # i64 locals with twin (reinterpreted) reads and an f64 mixed in
    "reinterpret": ("""
      (func (export "f") (param i64) (result i64) (local i64 f64)
        (local.set 1 (i64.add (local.get 0) (i64.const 1)))
        (local.set 2 (f64.reinterpret_i64 (local.get 1)))
        (i64.add (i64.reinterpret_f64 (local.get 2)) (local.get 1)))""", [(0,), (41,), (-1,)]),
    # a tee'd address still on the stack when a float operator empties the cache
    # (the entry takes the register over; a later get copies it)
    "tee_then_float_op": ("""
      (memory 1)
      (func (export "f") (param i32 f64) (result f64) (local i32)
        (f64.store (i32.const 64) (local.get 1))
        (f64.store (i32.const 72) (f64.mul (local.get 1) (local.get 1)))
        (f64.add
          (f64.mul (local.get 1) (f64.load (local.tee 2 (i32.add (local.get 0) (i32.const 64)))))
          (f64.add (f64.load offset=8 (local.get 2)) (f64.convert_i32_s (local.get 2)))))""",
        [(0, 1.5), (0, -2.0), (8, 3.25)]),
    # a block result carried in rax while locals are cached
    "block_result": ("""
      (func (export "f") (param i32) (result i32) (local i32 i32)
        (local.set 1 (i32.add (local.get 0) (i32.const 1)))
        (local.set 2 (i32.add (local.get 0) (i32.const 2)))
        (i32.add
          (block (result i32)
            (drop (br_if 0 (local.get 1) (i32.eqz (local.get 0))))
            (i32.mul (local.get 2) (local.get 1)))
          (local.get 2)))""", [(0,), (3,), (-1,)]),
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_matches_wasmtime(name):
    wat, cases = PROGRAMS[name]
    data = wat2wasm(f"(module {wat})")
    engine = pw.Engine()
    store = pw.Store(engine)
    f = pw.Instance(store, pw.Module(engine, data), []).exports(store)["f"]
    wstore = wasmtime.Store()
    wf = wasmtime.Instance(wstore, wasmtime.Module(wstore.engine, data), []).exports(wstore)["f"]
    for args in cases:
        assert f(store, *args) == wf(wstore, *args), (name, args)


def test_counting_loop_keeps_locals_in_registers():
    wat = """(module (func (export "f") (param i32) (result i32) (local i32 i64)
      (loop $l
        (local.set 1 (i32.add (local.get 1) (i32.const 3)))
        (local.set 2 (i64.add (local.get 2) (i64.extend_i32_u (local.get 1))))
        (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
        (br_if $l (local.get 0)))
      (i32.add (local.get 1) (i32.wrap_i64 (local.get 2)))))"""
    m = decode_module(wat2wasm(wat))
    cm = compile_module(m)
    body = cm.code[cm.func_offsets[0]:cm.func_ends[0]]
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    insns = list(md.disasm(body, 0))
    # the back-edge: the last conditional jump backwards
    back = [i for i in insns if i.mnemonic.startswith("j") and i.mnemonic != "jmp"
            and i.op_str.startswith("0x") and int(i.op_str, 16) < i.address][-1]
    head = int(back.op_str, 16)
    loop = [f"{i.mnemonic} {i.op_str}" for i in insns if head <= i.address <= back.address]
    loads = [t for t in loop if t.startswith("mov") and ", dword ptr [rbp" in t or ", qword ptr [rbp" in t]
    assert not loads, loop
    engine = pw.Engine()
    store = pw.Store(engine)
    f = pw.Instance(store, pw.Module(engine, wat2wasm(wat)), []).exports(store)["f"]
    n = 10
    total = sum(3 * k for k in range(1, n + 1))
    assert f(store, n) == (3 * n + total) & 0xFFFFFFFF
