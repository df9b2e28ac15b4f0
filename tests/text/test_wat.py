"""WAT features, each module compared byte for byte with ``wasm-tools parse``."""

import pytest

from pywinch.errors import WatError
from pywinch.wasm.text import wat2wasm

from wasm_tools import HAVE_WASM_TOOLS, parse_many

MODULES = [
    # identifiers, forward references, the name section
    "(module $m (func $a (call $b)) (func $b (param $x i32) (local $y i64) (local f32 f32) (local.get $x) drop))",
    # inline imports/exports and their order
    '(module (import "m" "f" (func $i (param i32))) (global (export "g") (import "m" "g") i32)'
    ' (func (export "a") (export "b") (param i32)) (export "c" (func $i)))',
    '(module (memory (export "m") (import "a" "b") 1 2) (table (import "a" "t") 1 funcref))',
    # definitions after top-level imports of the same kind: indices count the imports
    '(module (import "a" "g" (global i32)) (import "a" "t" (table 1 funcref)) (import "a" "m" (memory 1))'
    ' (global (export "g") i32 (i32.const 1)) (table (export "t") 1 funcref) (table funcref (elem $f))'
    ' (memory (export "m") 1) (func $f (export "f")))',
    # implicit types: reuse, append order, block types with params and several results
    "(module (type (func (param i32))) (func (param i32)) (func (result i32 i64) (i32.const 0) (i64.const 0))"
    " (func (block (param) (result i32 i32) (i32.const 0) (i32.const 1)) drop drop)"
    " (func (i32.const 0) (block (param i32) (result i32)) drop)"
    " (func (call_indirect (param f64) (result f32) (f64.const 0) (i32.const 0)) drop) (table 1 funcref))",
    "(module (type $t (func (param i32) (result i32))) (func (type $t) (local.get 0))"
    " (func (type $t) (param i32) (result i32) (local.get 0)) (func (block (type $t) (i32.const 1)) drop)"
    " (func (i32.const 0) (block $b (type 0)) drop))",
    # folded and flat control, labels, br_table, if/else forms
    "(module (func (param i32) (result i32)"
    " (block $out (result i32) (loop $l (br_if $l (i32.const 0)) (br_table $l $out 0 (i32.const 1) (i32.const 2))))"
    " (if (result i32) (local.get 0) (then (i32.const 1)) (else (i32.const 2))) drop"
    " (if $i (local.get 0) (then (br $i)))"
    " local.get 0 if $x (result i32) i32.const 1 else $x i32.const 2 end $x drop"
    " block $b loop $c br 1 end $c end $b))",
    # select forms, reference instructions, tables
    "(module (table $t 2 externref) (elem declare func $f) (func $f (result funcref) (ref.func $f))"
    " (func (param externref) (result externref i32)"
    " (select (result externref) (local.get 0) (ref.null extern) (i32.const 1))"
    " (select (i32.const 1) (i32.const 2) (i32.const 3))"
    " (table.set $t (i32.const 0) (ref.null extern)) (table.size $t) drop"
    " (ref.is_null (table.get $t (i32.const 0))) drop"
    " (table.grow $t (ref.null extern) (i32.const 1)) drop (table.fill $t (i32.const 0) (ref.null extern) (i32.const 0))))",
    # element segments in every form
    "(module (table $t 4 funcref) (table $u 4 funcref) (func $f) (func $g)"
    " (elem (i32.const 0) $f $g) (elem (table $u) (i32.const 1) func $g) (elem $e func $f)"
    " (elem funcref (ref.func $f) (item ref.func $g) (ref.null func)) (elem declare funcref (ref.func $f))"
    " (elem (table $t) (offset (i32.const 2)) funcref (ref.func $g)) (elem (i32.const 3) funcref (ref.func $f))"
    " (elem (table $u) (i32.const 0) externref) (table funcref (elem $f $g)) (table funcref (elem (ref.func $f)))"
    " (func (table.init $u $e (i32.const 0) (i32.const 0) (i32.const 0)) (elem.drop $e)"
    " (table.copy $t $u (i32.const 0) (i32.const 0) (i32.const 0)) (table.copy (i32.const 0) (i32.const 0) (i32.const 0))))",
    # memory and data in every form, memarg
    '(module (memory $m 1) (data (i32.const 0) "a" "b\\00\\ff\\u{1F600}") (data $d "passive")'
    ' (data (memory $m) (offset (i32.const 8)) "x") (data (i32.const 16))'
    " (func (result i32) (i32.load offset=4 align=2 (i32.const 0)) (i64.load8_u offset=0x10 (i32.const 0)) drop"
    " (memory.init $d (i32.const 0) (i32.const 0) (i32.const 0)) (data.drop $d)"
    " (memory.copy (i32.const 0) (i32.const 0) (i32.const 0)) (memory.fill (i32.const 0) (i32.const 0) (i32.const 0))"
    " (drop (memory.grow (i32.const 1))) (memory.size)))",
    '(module (memory (data "hello" "world")))',
    # globals
    "(module (global $a (mut i32) (i32.const -1)) (global $b i64 (i64.const 0x7fff_ffff_ffff_ffff))"
    " (global f32 (f32.const -nan:0x12345)) (global f64 (f64.const 0x1.8p-1074)) (global funcref (ref.null func))"
    " (global v128 (v128.const i8x16 -1 255 0 1 2 3 4 5 6 7 8 9 10 11 12 13))"
    " (func (global.set $a (global.get $a))) (start 0))",
    # SIMD: every v128 shape, lanes, shuffles, lane memory ops
    "(module (memory 1) (func (result v128)"
    " (v128.const i16x8 -32768 65535 0 1 2 3 4 5) drop (v128.const i32x4 0xffffffff -2147483648 0 1) drop"
    " (v128.const i64x2 -1 0x8000000000000000) drop (v128.const f32x4 nan -inf 0x1p-149 -0.0) drop"
    " (v128.const f64x2 nan:0x1 1e308) drop"
    " (i8x16.shuffle 0 17 2 19 4 21 6 23 8 25 10 27 12 29 14 31 (v128.const i64x2 0 0) (v128.const i64x2 0 0)) drop"
    " (i32x4.extract_lane 3 (v128.const i64x2 0 0)) drop"
    " (v128.load8_lane 15 (i32.const 0) (v128.const i64x2 0 0)) drop"
    " (v128.load32_lane offset=4 align=4 2 (i32.const 0) (v128.const i64x2 0 0)) drop"
    " (v128.store64_lane align=1 1 (i32.const 0) (v128.const i64x2 0 0))"
    " (v128.load64_zero offset=8 (i32.const 0)) drop (i16x8.replace_lane 7 (v128.const i64x2 0 0) (i32.const 1)) drop"
    " (f32x4.demote_f64x2_zero (v128.const i64x2 0 0)) drop"
    " (i8x16.popcnt (v128.load (i32.const 0)))))",
    # numbers in instructions
    "(module (func (i32.const 0xffffffff) (i32.const -0x80000000) (i64.const 18446744073709551615)"
    " (f32.const 0x1.fffffep127) (f32.const 1e-45) (f64.const -0x0.0p0) (f64.const inf) drop drop drop drop drop drop drop))",
    # bare fields (no (module ...) wrapper), comments and annotations
    "(func (nop)) ;; line comment\n(; block (; nested ;) comment ;) (memory 1)",
    "(module (@annotation x (y \"z\")) (func (@other (nested (deeper))) nop))",
    # string identifiers ($"..." is the same identifier as $... when the characters allow it)
    '(module (func $"a b" (param $"x\\u{e9}" i32) (call $"a b" (local.get $"x\\u{e9}"))) (func $"c" (call $c (i32.const 0))))',
    # saturating conversions, sign extension, multi-value call
    "(module (func $mv (result i32 i64 f32) (i32.const 0) (i64.const 0) (f32.const 0))"
    " (func (call $mv) drop drop drop (i32.trunc_sat_f64_u (f64.const 1)) (i64.extend32_s (i64.const 1)) drop drop))",
]


@pytest.mark.skipif(not HAVE_WASM_TOOLS, reason="wasm-tools is not installed")
def test_modules_match_wasm_tools():
    ours = [wat2wasm(m) for m in MODULES]
    theirs = parse_many(MODULES)
    for text, a, b in zip(MODULES, ours, theirs):
        assert b is not None, f"wasm-tools rejects: {text}"
        assert a == b, text


def test_binary_and_quote_module_forms():
    assert wat2wasm('(module binary "\\00asm" "\\01\\00\\00\\00")') == b"\0asm\x01\0\0\0"
    assert wat2wasm('(module quote "(func" " nop)")') == wat2wasm("(module (func nop))")
    assert wat2wasm(b"(module)") == b"\0asm\x01\0\0\0"


def test_name_section_carries_identifiers():
    b = wat2wasm("(module $mod (func $hello (param $p i32)))")
    assert b"name" in b and b"hello" in b and b"mod" in b
    assert b"name" not in wat2wasm("(module (func (param i32)))")


@pytest.mark.parametrize("text", [
    "(module (func (then)))", "(module (func else))", "(module (func end))",
    "(module (func (block (result i32 i32 i32 ))) (local i32)))",
    "(module (func (i32.add i32.const 1)))", "(module (func $f (param $x i32) (param $x i32)))",
    "(module (func (type 3) (param i32)))", "(module (elem (table 0) func 0))",
    "(module (func (v128.const i32x4 1 2 3)))", "(module (func (i8x16.shuffle 1 2)))",
    "(module (func (i8x16.extract_lane_s 256 (v128.const i64x2 0 0))))",
])
def test_malformed_modules_are_rejected(text):
    with pytest.raises(WatError):
        wat2wasm(text)


@pytest.mark.parametrize("text", ["", "   \n", ";; only a comment", "(; block ;)", b""])
def test_empty_text_is_not_a_module(text):
    """Empty text is refused as wasmtime-py refuses it (BUGS.md #7): an empty file
    passed to Module is a mistake, not an empty module; `(module)` stays valid."""
    with pytest.raises(WatError, match="expected at least one module field"):
        wat2wasm(text)
    assert wat2wasm("(module)") == b"\0asm\1\0\0\0"
