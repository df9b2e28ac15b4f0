"""Compiled code run through the tests' own minimal runtime (harness.py)."""

import ctypes
import math

import pytest

from pywinch import vmoffsets as vo
from pywinch.errors import Trap, TrapCode

from .harness import Harness

WAT = r"""
(module
  (memory 1)
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "sub_imm") (param i64) (result i64) (i64.sub (local.get 0) (i64.const 0x7fffffffff)))
  (func (export "fac") (param i64) (result i64)
    (if (result i64) (i64.eqz (local.get 0)) (then (i64.const 1))
      (else (i64.mul (local.get 0) (call 2 (i64.sub (local.get 0) (i64.const 1)))))))
  (func (export "sum") (param i32) (result i32) (local i32)
    (block $done (loop $l
      (br_if $done (i32.eqz (local.get 0)))
      (local.set 1 (i32.add (local.get 1) (local.get 0)))
      (local.set 0 (i32.sub (local.get 0) (i32.const 1)))
      (br $l)))
    (local.get 1))
  (func (export "div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "rem_s") (param i64 i64) (result i64) (i64.rem_s (local.get 0) (local.get 1)))
  (func (export "fmin") (param f64 f64) (result f64) (f64.min (local.get 0) (local.get 1)))
  (func (export "trunc") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
  (func (export "store_load") (param i32 i64) (result i64)
    (i64.store offset=8 (local.get 0) (local.get 1))
    (i64.load offset=8 (local.get 0)))
  (func (export "load8") (param i32) (result i32) (i32.load8_s (local.get 0)))
  (func (export "rec") (param i32) (result i32) (call 10 (i32.add (local.get 0) (i32.const 1))))
  (func (export "multi") (param i32) (result i32)
    (call 12 (local.get 0)) (i32.sub))
  (func (param i32) (result i32 i32) (local.get 0) (i32.const 10))
  (func (export "br_table") (param i32) (result i32)
    (block $c (block $b (block $a (br_table $a $b $c (local.get 0))) (return (i32.const 100)))
      (return (i32.const 101)))
    (i32.const 102))
  (func (export "spin") (loop $l (br $l)))
)
"""


@pytest.fixture(scope="module")
def h():
    return Harness(WAT)


def test_arithmetic(h):
    assert h.call("add", 2, 40) == 42
    assert h.call("add", -1, 1) == 0
    assert h.call("sub_imm", 0) == -0x7fffffffff
    assert h.call("fac", 20) == 2432902008176640000
    assert h.call("sum", 100) == 5050


def test_division_traps(h):
    assert h.call("div_s", -7, 2) == -3
    with pytest.raises(Trap) as e:
        h.call("div_s", 1, 0)
    assert e.value.code == TrapCode.INTEGER_DIVISION_BY_ZERO
    assert e.value.site[0] == TrapCode.INTEGER_DIVISION_BY_ZERO
    with pytest.raises(Trap) as e:
        h.call("div_s", -2**31, -1)
    assert e.value.code == TrapCode.INTEGER_OVERFLOW
    assert h.call("rem_s", -2**63, -1) == 0
    assert h.call("rem_s", -7, 2) == -1


def test_floats(h):
    assert math.copysign(1, h.call("fmin", 0.0, -0.0)) == -1
    assert math.isnan(h.call("fmin", float("nan"), 1.0))
    assert h.call("fmin", 1.5, -2.5) == -2.5
    assert h.call("trunc", -2.9) == -2
    with pytest.raises(Trap) as e:
        h.call("trunc", float("nan"))
    assert e.value.code == TrapCode.BAD_CONVERSION_TO_INTEGER
    with pytest.raises(Trap) as e:
        h.call("trunc", 2.0**31)
    assert e.value.code == TrapCode.INTEGER_OVERFLOW


def test_memory_bounds(h):
    assert h.call("store_load", 0, -5) == -5
    assert h.call("store_load", 65536 - 16, 7) == 7
    with pytest.raises(Trap) as e:
        h.call("store_load", 65536 - 15, 7)
    assert e.value.code == TrapCode.HEAP_OUT_OF_BOUNDS
    with pytest.raises(Trap):
        h.call("store_load", -1, 7)      # 0xFFFFFFFF + 8: no 32-bit wrap-around
    h.memory[5] = 0x80
    assert h.call("load8", 5) == -128
    with pytest.raises(Trap):
        h.call("load8", 65536)


def test_stack_overflow_is_a_trap_and_the_harness_survives(h):
    with pytest.raises(Trap) as e:
        h.call("rec", 0)
    assert e.value.code == TrapCode.STACK_OVERFLOW
    assert ctypes.c_uint64.from_address(ctypes.addressof(h.limits) + vo.LIMITS_ENTRY_SP).value == 0
    assert h.call("add", 1, 1) == 2


def test_multi_value_and_br_table(h):
    assert h.call("multi", 15) == 5
    assert [h.call("br_table", i) for i in (0, 1, 2, 3, 1000)] == [100, 101, 102, 102, 102]


def test_fuel_and_epoch():
    h = Harness(WAT, fuel=True, epoch=True)
    h.set_fuel(10_000)
    assert h.call("sum", 10) == 55
    assert h.fuel_consumed() < 0
    with pytest.raises(Trap) as e:
        h.call("spin")
    assert e.value.code == TrapCode.OUT_OF_FUEL
    h.set_fuel(1 << 40)
    ctypes.c_uint64.from_address(ctypes.addressof(h.limits) + vo.LIMITS_EPOCH_DEADLINE).value = 0
    with pytest.raises(Trap) as e:
        h.call("spin")
    assert e.value.code == TrapCode.INTERRUPT


def test_no_fuel_code_when_off(h):
    on = Harness(WAT, fuel=True)
    assert len(on.compiled.code) > len(h.compiled.code)


def test_bit_count_fallbacks_without_lzcnt_tzcnt_popcnt():
    from pywinch.isa.x64 import cpu
    wat = """(module
      (func (export "clz32") (param i32) (result i32) (i32.clz (local.get 0)))
      (func (export "ctz32") (param i32) (result i32) (i32.ctz (local.get 0)))
      (func (export "pop32") (param i32) (result i32) (i32.popcnt (local.get 0)))
      (func (export "clz64") (param i64) (result i64) (i64.clz (local.get 0)))
      (func (export "ctz64") (param i64) (result i64) (i64.ctz (local.get 0)))
      (func (export "pop64") (param i64) (result i64) (i64.popcnt (local.get 0))))"""
    with cpu.masked(cpu.LZCNT, cpu.BMI1, cpu.POPCNT):
        h = Harness(wat)
    for v in (0, 1, 0x80000000, 0x00F0F000, 0xFFFFFFFF):
        s = v - (1 << 32) if v >> 31 else v
        assert h.call("clz32", s) == 32 - v.bit_length()
        assert h.call("ctz32", s) == (32 if v == 0 else (v & -v).bit_length() - 1)
        assert h.call("pop32", s) == bin(v).count("1")
    for v in (0, 1, 1 << 63, 0x00F0F000_0000F000, (1 << 64) - 1):
        s = v - (1 << 64) if v >> 63 else v
        assert h.call("clz64", s) == 64 - v.bit_length()
        assert h.call("ctz64", s) == (64 if v == 0 else (v & -v).bit_length() - 1)
        assert h.call("pop64", s) == bin(v).count("1")


def test_results_area_of_a_call_without_parameters():
    # Regression: a call with no parameters but several results still needs its
    # outgoing area (the results beyond the first land there), else they overwrite
    # the caller's value-stack slots.
    h = Harness("""(module
      (global $g (mut i64) (i64.const 0))
      (func $three (result i32 i32 i64) (i32.const 1) (i32.const 2) (i64.const -7))
      (func (export "f") (result i64)
        (call $three)
        (global.set $g)
        (i64.extend_i32_u (i32.sub))
        (global.get $g)
        (i64.mul)))""")
    assert h.call("f") == ((1 - 2) % (1 << 32)) * -7
