"""The WebAssembly 2.0 instruction set: one table shared by the decoder,
validator, text parser and compiler.

Every instruction has a dense *code*: single-byte opcodes are themselves
(0x00..0xFF); 0xFC-prefixed ones are ``FC_BASE + sub``; 0xFD-prefixed (SIMD)
ones are ``FD_BASE + sub``.  Codes stay below ``NUM_CODES`` so consumers
dispatch through a list indexed by code.

``SIGS`` gives the operand and result types of every instruction whose typing
is fixed, as a string ``"params:results"`` over the letters i (i32), I (i64),
f (f32), F (f64), v (v128); control, variable, memory-index-dependent and
reference instructions are typed by the validator itself.
"""

from __future__ import annotations

from .leb128 import encode_u32

FC_BASE = 0x100
FD_BASE = 0x200
NUM_CODES = FD_BASE + 0x100

# Immediate kinds.
NONE = 0
BLOCKTYPE = 1      # block, loop, if
LABEL = 2          # br, br_if
BR_TABLE = 3       # vec(label) default
FUNC = 4           # call, ref.func
CALL_INDIRECT = 5  # typeidx tableidx
LOCAL = 6
GLOBAL = 7
TABLE = 8          # table.get/set/size/grow/fill
MEMARG = 9         # align offset (loads, stores)
MEMORY = 10        # memory.size/grow/fill: memory index (a 0x00 byte in 2.0)
I32 = 11
I64 = 12
F32 = 13           # 4 raw bytes
F64 = 14           # 8 raw bytes
SELECT_T = 15      # vec(valtype)
REFTYPE = 16       # ref.null
MEMORY_INIT = 17   # dataidx memidx
DATA = 18          # data.drop
MEMORY_COPY = 19   # memidx memidx
TABLE_INIT = 20    # elemidx tableidx
ELEM = 21          # elem.drop
TABLE_COPY = 22    # tableidx tableidx
V128 = 23          # 16 raw bytes
SHUFFLE = 24       # 16 lane indices
LANE = 25          # one lane index byte
MEMARG_LANE = 26   # memarg then lane index

NAMES: list[str | None] = [None] * NUM_CODES
IMMEDIATES: list[int] = [NONE] * NUM_CODES
SIGS: list[str | None] = [None] * NUM_CODES
# Natural alignment (log2 bytes) of memory instructions, for the alignment rule.
NATURAL_ALIGN: list[int] = [-1] * NUM_CODES
BY_NAME: dict[str, int] = {}


def _def(code: int, name: str, imm: int = NONE, sig: str | None = None, align: int = -1) -> None:
    NAMES[code] = name
    IMMEDIATES[code] = imm
    SIGS[code] = sig
    NATURAL_ALIGN[code] = align
    BY_NAME[name] = code


def encoding(code: int) -> bytes:
    """The opcode bytes of ``code`` (the sub-opcode of a prefixed one as a u32 LEB128)."""
    if code < FC_BASE:
        return bytes([code])
    prefix, sub = (0xFC, code - FC_BASE) if code < FD_BASE else (0xFD, code - FD_BASE)
    return bytes([prefix]) + encode_u32(sub)


# --- control -----------------------------------------------------------------
_def(0x00, "unreachable")
_def(0x01, "nop", sig=":")
_def(0x02, "block", BLOCKTYPE)
_def(0x03, "loop", BLOCKTYPE)
_def(0x04, "if", BLOCKTYPE)
_def(0x05, "else")
_def(0x0B, "end")
_def(0x0C, "br", LABEL)
_def(0x0D, "br_if", LABEL)
_def(0x0E, "br_table", BR_TABLE)
_def(0x0F, "return")
_def(0x10, "call", FUNC)
_def(0x11, "call_indirect", CALL_INDIRECT)
# --- parametric ----------------------------------------------------------------
_def(0x1A, "drop")
_def(0x1B, "select")
_def(0x1C, "select_t", SELECT_T)   # text: "select (result t)"
# --- variables -----------------------------------------------------------------
_def(0x20, "local.get", LOCAL)
_def(0x21, "local.set", LOCAL)
_def(0x22, "local.tee", LOCAL)
_def(0x23, "global.get", GLOBAL)
_def(0x24, "global.set", GLOBAL)
_def(0x25, "table.get", TABLE)
_def(0x26, "table.set", TABLE)
# --- memory --------------------------------------------------------------------
for _code, _name, _sig, _align in [
    (0x28, "i32.load", "i:i", 2), (0x29, "i64.load", "i:I", 3), (0x2A, "f32.load", "i:f", 2),
    (0x2B, "f64.load", "i:F", 3), (0x2C, "i32.load8_s", "i:i", 0), (0x2D, "i32.load8_u", "i:i", 0),
    (0x2E, "i32.load16_s", "i:i", 1), (0x2F, "i32.load16_u", "i:i", 1), (0x30, "i64.load8_s", "i:I", 0),
    (0x31, "i64.load8_u", "i:I", 0), (0x32, "i64.load16_s", "i:I", 1), (0x33, "i64.load16_u", "i:I", 1),
    (0x34, "i64.load32_s", "i:I", 2), (0x35, "i64.load32_u", "i:I", 2), (0x36, "i32.store", "ii:", 2),
    (0x37, "i64.store", "iI:", 3), (0x38, "f32.store", "if:", 2), (0x39, "f64.store", "iF:", 3),
    (0x3A, "i32.store8", "ii:", 0), (0x3B, "i32.store16", "ii:", 1), (0x3C, "i64.store8", "iI:", 0),
    (0x3D, "i64.store16", "iI:", 1), (0x3E, "i64.store32", "iI:", 2),
]:
    _def(_code, _name, MEMARG, _sig, _align)
_def(0x3F, "memory.size", MEMORY, ":i")
_def(0x40, "memory.grow", MEMORY, "i:i")
# --- constants -----------------------------------------------------------------
_def(0x41, "i32.const", I32, ":i")
_def(0x42, "i64.const", I64, ":I")
_def(0x43, "f32.const", F32, ":f")
_def(0x44, "f64.const", F64, ":F")
# --- numeric -------------------------------------------------------------------


def _seq(start: int, prefix: str, names: str, sig: str, base: int = 0) -> None:
    for i, n in enumerate(names.split()):
        _def(base + start + i, f"{prefix}.{n}", NONE, sig)


_def(0x45, "i32.eqz", sig="i:i")
_seq(0x46, "i32", "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u", "ii:i")
_def(0x50, "i64.eqz", sig="I:i")
_seq(0x51, "i64", "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u", "II:i")
_seq(0x5B, "f32", "eq ne lt gt le ge", "ff:i")
_seq(0x61, "f64", "eq ne lt gt le ge", "FF:i")
_seq(0x67, "i32", "clz ctz popcnt", "i:i")
_seq(0x6A, "i32", "add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr", "ii:i")
_seq(0x79, "i64", "clz ctz popcnt", "I:I")
_seq(0x7C, "i64", "add sub mul div_s div_u rem_s rem_u and or xor shl shr_s shr_u rotl rotr", "II:I")
_seq(0x8B, "f32", "abs neg ceil floor trunc nearest sqrt", "f:f")
_seq(0x92, "f32", "add sub mul div min max copysign", "ff:f")
_seq(0x99, "f64", "abs neg ceil floor trunc nearest sqrt", "F:F")
_seq(0xA0, "f64", "add sub mul div min max copysign", "FF:F")
for _code, _name, _sig in [
    (0xA7, "i32.wrap_i64", "I:i"), (0xA8, "i32.trunc_f32_s", "f:i"), (0xA9, "i32.trunc_f32_u", "f:i"),
    (0xAA, "i32.trunc_f64_s", "F:i"), (0xAB, "i32.trunc_f64_u", "F:i"), (0xAC, "i64.extend_i32_s", "i:I"),
    (0xAD, "i64.extend_i32_u", "i:I"), (0xAE, "i64.trunc_f32_s", "f:I"), (0xAF, "i64.trunc_f32_u", "f:I"),
    (0xB0, "i64.trunc_f64_s", "F:I"), (0xB1, "i64.trunc_f64_u", "F:I"), (0xB2, "f32.convert_i32_s", "i:f"),
    (0xB3, "f32.convert_i32_u", "i:f"), (0xB4, "f32.convert_i64_s", "I:f"), (0xB5, "f32.convert_i64_u", "I:f"),
    (0xB6, "f32.demote_f64", "F:f"), (0xB7, "f64.convert_i32_s", "i:F"), (0xB8, "f64.convert_i32_u", "i:F"),
    (0xB9, "f64.convert_i64_s", "I:F"), (0xBA, "f64.convert_i64_u", "I:F"), (0xBB, "f64.promote_f32", "f:F"),
    (0xBC, "i32.reinterpret_f32", "f:i"), (0xBD, "i64.reinterpret_f64", "F:I"),
    (0xBE, "f32.reinterpret_i32", "i:f"), (0xBF, "f64.reinterpret_i64", "I:F"),
    (0xC0, "i32.extend8_s", "i:i"), (0xC1, "i32.extend16_s", "i:i"), (0xC2, "i64.extend8_s", "I:I"),
    (0xC3, "i64.extend16_s", "I:I"), (0xC4, "i64.extend32_s", "I:I"),
]:
    _def(_code, _name, NONE, _sig)
# --- reference -----------------------------------------------------------------
_def(0xD0, "ref.null", REFTYPE)
_def(0xD1, "ref.is_null")
_def(0xD2, "ref.func", FUNC)
# --- 0xFC prefix ---------------------------------------------------------------
for _sub, _name, _sig in [
    (0, "i32.trunc_sat_f32_s", "f:i"), (1, "i32.trunc_sat_f32_u", "f:i"), (2, "i32.trunc_sat_f64_s", "F:i"),
    (3, "i32.trunc_sat_f64_u", "F:i"), (4, "i64.trunc_sat_f32_s", "f:I"), (5, "i64.trunc_sat_f32_u", "f:I"),
    (6, "i64.trunc_sat_f64_s", "F:I"), (7, "i64.trunc_sat_f64_u", "F:I"),
]:
    _def(FC_BASE + _sub, _name, NONE, _sig)
_def(FC_BASE + 8, "memory.init", MEMORY_INIT, "iii:")
_def(FC_BASE + 9, "data.drop", DATA, ":")
_def(FC_BASE + 10, "memory.copy", MEMORY_COPY, "iii:")
_def(FC_BASE + 11, "memory.fill", MEMORY, "iii:")
_def(FC_BASE + 12, "table.init", TABLE_INIT, "iii:")
_def(FC_BASE + 13, "elem.drop", ELEM, ":")
_def(FC_BASE + 14, "table.copy", TABLE_COPY, "iii:")
_def(FC_BASE + 15, "table.grow", TABLE)
_def(FC_BASE + 16, "table.size", TABLE, ":i")
_def(FC_BASE + 17, "table.fill", TABLE)

# --- 0xFD prefix: SIMD -----------------------------------------------------------
_FD = FD_BASE
for _sub, _name, _sig, _align in [
    (0x00, "v128.load", "i:v", 4), (0x01, "v128.load8x8_s", "i:v", 3), (0x02, "v128.load8x8_u", "i:v", 3),
    (0x03, "v128.load16x4_s", "i:v", 3), (0x04, "v128.load16x4_u", "i:v", 3),
    (0x05, "v128.load32x2_s", "i:v", 3), (0x06, "v128.load32x2_u", "i:v", 3),
    (0x07, "v128.load8_splat", "i:v", 0), (0x08, "v128.load16_splat", "i:v", 1),
    (0x09, "v128.load32_splat", "i:v", 2), (0x0A, "v128.load64_splat", "i:v", 3),
    (0x0B, "v128.store", "iv:", 4), (0x5C, "v128.load32_zero", "i:v", 2), (0x5D, "v128.load64_zero", "i:v", 3),
]:
    _def(_FD + _sub, _name, MEMARG, _sig, _align)
_def(_FD + 0x0C, "v128.const", V128, ":v")
_def(_FD + 0x0D, "i8x16.shuffle", SHUFFLE, "vv:v")
_def(_FD + 0x0E, "i8x16.swizzle", NONE, "vv:v")
for _i, (_shape, _t) in enumerate([("i8x16", "i"), ("i16x8", "i"), ("i32x4", "i"), ("i64x2", "I"),
                                   ("f32x4", "f"), ("f64x2", "F")]):
    _def(_FD + 0x0F + _i, f"{_shape}.splat", NONE, f"{_t}:v")
for _sub, _name, _sig in [
    (0x15, "i8x16.extract_lane_s", "v:i"), (0x16, "i8x16.extract_lane_u", "v:i"), (0x17, "i8x16.replace_lane", "vi:v"),
    (0x18, "i16x8.extract_lane_s", "v:i"), (0x19, "i16x8.extract_lane_u", "v:i"), (0x1A, "i16x8.replace_lane", "vi:v"),
    (0x1B, "i32x4.extract_lane", "v:i"), (0x1C, "i32x4.replace_lane", "vi:v"),
    (0x1D, "i64x2.extract_lane", "v:I"), (0x1E, "i64x2.replace_lane", "vI:v"),
    (0x1F, "f32x4.extract_lane", "v:f"), (0x20, "f32x4.replace_lane", "vf:v"),
    (0x21, "f64x2.extract_lane", "v:F"), (0x22, "f64x2.replace_lane", "vF:v"),
]:
    _def(_FD + _sub, _name, LANE, _sig)
_seq(0x23, "i8x16", "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u", "vv:v", _FD)
_seq(0x2D, "i16x8", "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u", "vv:v", _FD)
_seq(0x37, "i32x4", "eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u", "vv:v", _FD)
_seq(0x41, "f32x4", "eq ne lt gt le ge", "vv:v", _FD)
_seq(0x47, "f64x2", "eq ne lt gt le ge", "vv:v", _FD)
_def(_FD + 0x4D, "v128.not", NONE, "v:v")
_seq(0x4E, "v128", "and andnot or xor", "vv:v", _FD)
_def(_FD + 0x52, "v128.bitselect", NONE, "vvv:v")
_def(_FD + 0x53, "v128.any_true", NONE, "v:i")
for _sub, _name, _sig, _align in [
    (0x54, "v128.load8_lane", "iv:v", 0), (0x55, "v128.load16_lane", "iv:v", 1),
    (0x56, "v128.load32_lane", "iv:v", 2), (0x57, "v128.load64_lane", "iv:v", 3),
    (0x58, "v128.store8_lane", "iv:", 0), (0x59, "v128.store16_lane", "iv:", 1),
    (0x5A, "v128.store32_lane", "iv:", 2), (0x5B, "v128.store64_lane", "iv:", 3),
]:
    _def(_FD + _sub, _name, MEMARG_LANE, _sig, _align)

_V1 = "v:v"
_V2 = "vv:v"
for _sub, _name, _sig in [
    (0x5E, "f32x4.demote_f64x2_zero", _V1), (0x5F, "f64x2.promote_low_f32x4", _V1),
    (0x60, "i8x16.abs", _V1), (0x61, "i8x16.neg", _V1), (0x62, "i8x16.popcnt", _V1),
    (0x63, "i8x16.all_true", "v:i"), (0x64, "i8x16.bitmask", "v:i"),
    (0x65, "i8x16.narrow_i16x8_s", _V2), (0x66, "i8x16.narrow_i16x8_u", _V2),
    (0x67, "f32x4.ceil", _V1), (0x68, "f32x4.floor", _V1), (0x69, "f32x4.trunc", _V1), (0x6A, "f32x4.nearest", _V1),
    (0x6B, "i8x16.shl", "vi:v"), (0x6C, "i8x16.shr_s", "vi:v"), (0x6D, "i8x16.shr_u", "vi:v"),
    (0x6E, "i8x16.add", _V2), (0x6F, "i8x16.add_sat_s", _V2), (0x70, "i8x16.add_sat_u", _V2),
    (0x71, "i8x16.sub", _V2), (0x72, "i8x16.sub_sat_s", _V2), (0x73, "i8x16.sub_sat_u", _V2),
    (0x74, "f64x2.ceil", _V1), (0x75, "f64x2.floor", _V1),
    (0x76, "i8x16.min_s", _V2), (0x77, "i8x16.min_u", _V2), (0x78, "i8x16.max_s", _V2), (0x79, "i8x16.max_u", _V2),
    (0x7A, "f64x2.trunc", _V1), (0x7B, "i8x16.avgr_u", _V2),
    (0x7C, "i16x8.extadd_pairwise_i8x16_s", _V1), (0x7D, "i16x8.extadd_pairwise_i8x16_u", _V1),
    (0x7E, "i32x4.extadd_pairwise_i16x8_s", _V1), (0x7F, "i32x4.extadd_pairwise_i16x8_u", _V1),
    (0x80, "i16x8.abs", _V1), (0x81, "i16x8.neg", _V1), (0x82, "i16x8.q15mulr_sat_s", _V2),
    (0x83, "i16x8.all_true", "v:i"), (0x84, "i16x8.bitmask", "v:i"),
    (0x85, "i16x8.narrow_i32x4_s", _V2), (0x86, "i16x8.narrow_i32x4_u", _V2),
    (0x87, "i16x8.extend_low_i8x16_s", _V1), (0x88, "i16x8.extend_high_i8x16_s", _V1),
    (0x89, "i16x8.extend_low_i8x16_u", _V1), (0x8A, "i16x8.extend_high_i8x16_u", _V1),
    (0x8B, "i16x8.shl", "vi:v"), (0x8C, "i16x8.shr_s", "vi:v"), (0x8D, "i16x8.shr_u", "vi:v"),
    (0x8E, "i16x8.add", _V2), (0x8F, "i16x8.add_sat_s", _V2), (0x90, "i16x8.add_sat_u", _V2),
    (0x91, "i16x8.sub", _V2), (0x92, "i16x8.sub_sat_s", _V2), (0x93, "i16x8.sub_sat_u", _V2),
    (0x94, "f64x2.nearest", _V1), (0x95, "i16x8.mul", _V2),
    (0x96, "i16x8.min_s", _V2), (0x97, "i16x8.min_u", _V2), (0x98, "i16x8.max_s", _V2), (0x99, "i16x8.max_u", _V2),
    (0x9B, "i16x8.avgr_u", _V2),
    (0x9C, "i16x8.extmul_low_i8x16_s", _V2), (0x9D, "i16x8.extmul_high_i8x16_s", _V2),
    (0x9E, "i16x8.extmul_low_i8x16_u", _V2), (0x9F, "i16x8.extmul_high_i8x16_u", _V2),
    (0xA0, "i32x4.abs", _V1), (0xA1, "i32x4.neg", _V1), (0xA3, "i32x4.all_true", "v:i"), (0xA4, "i32x4.bitmask", "v:i"),
    (0xA7, "i32x4.extend_low_i16x8_s", _V1), (0xA8, "i32x4.extend_high_i16x8_s", _V1),
    (0xA9, "i32x4.extend_low_i16x8_u", _V1), (0xAA, "i32x4.extend_high_i16x8_u", _V1),
    (0xAB, "i32x4.shl", "vi:v"), (0xAC, "i32x4.shr_s", "vi:v"), (0xAD, "i32x4.shr_u", "vi:v"),
    (0xAE, "i32x4.add", _V2), (0xB1, "i32x4.sub", _V2), (0xB5, "i32x4.mul", _V2),
    (0xB6, "i32x4.min_s", _V2), (0xB7, "i32x4.min_u", _V2), (0xB8, "i32x4.max_s", _V2), (0xB9, "i32x4.max_u", _V2),
    (0xBA, "i32x4.dot_i16x8_s", _V2),
    (0xBC, "i32x4.extmul_low_i16x8_s", _V2), (0xBD, "i32x4.extmul_high_i16x8_s", _V2),
    (0xBE, "i32x4.extmul_low_i16x8_u", _V2), (0xBF, "i32x4.extmul_high_i16x8_u", _V2),
    (0xC0, "i64x2.abs", _V1), (0xC1, "i64x2.neg", _V1), (0xC3, "i64x2.all_true", "v:i"), (0xC4, "i64x2.bitmask", "v:i"),
    (0xC7, "i64x2.extend_low_i32x4_s", _V1), (0xC8, "i64x2.extend_high_i32x4_s", _V1),
    (0xC9, "i64x2.extend_low_i32x4_u", _V1), (0xCA, "i64x2.extend_high_i32x4_u", _V1),
    (0xCB, "i64x2.shl", "vi:v"), (0xCC, "i64x2.shr_s", "vi:v"), (0xCD, "i64x2.shr_u", "vi:v"),
    (0xCE, "i64x2.add", _V2), (0xD1, "i64x2.sub", _V2), (0xD5, "i64x2.mul", _V2),
    (0xD6, "i64x2.eq", _V2), (0xD7, "i64x2.ne", _V2), (0xD8, "i64x2.lt_s", _V2), (0xD9, "i64x2.gt_s", _V2),
    (0xDA, "i64x2.le_s", _V2), (0xDB, "i64x2.ge_s", _V2),
    (0xDC, "i64x2.extmul_low_i32x4_s", _V2), (0xDD, "i64x2.extmul_high_i32x4_s", _V2),
    (0xDE, "i64x2.extmul_low_i32x4_u", _V2), (0xDF, "i64x2.extmul_high_i32x4_u", _V2),
    (0xE0, "f32x4.abs", _V1), (0xE1, "f32x4.neg", _V1), (0xE3, "f32x4.sqrt", _V1),
    (0xE4, "f32x4.add", _V2), (0xE5, "f32x4.sub", _V2), (0xE6, "f32x4.mul", _V2), (0xE7, "f32x4.div", _V2),
    (0xE8, "f32x4.min", _V2), (0xE9, "f32x4.max", _V2), (0xEA, "f32x4.pmin", _V2), (0xEB, "f32x4.pmax", _V2),
    (0xEC, "f64x2.abs", _V1), (0xED, "f64x2.neg", _V1), (0xEF, "f64x2.sqrt", _V1),
    (0xF0, "f64x2.add", _V2), (0xF1, "f64x2.sub", _V2), (0xF2, "f64x2.mul", _V2), (0xF3, "f64x2.div", _V2),
    (0xF4, "f64x2.min", _V2), (0xF5, "f64x2.max", _V2), (0xF6, "f64x2.pmin", _V2), (0xF7, "f64x2.pmax", _V2),
    (0xF8, "i32x4.trunc_sat_f32x4_s", _V1), (0xF9, "i32x4.trunc_sat_f32x4_u", _V1),
    (0xFA, "f32x4.convert_i32x4_s", _V1), (0xFB, "f32x4.convert_i32x4_u", _V1),
    (0xFC, "i32x4.trunc_sat_f64x2_s_zero", _V1), (0xFD, "i32x4.trunc_sat_f64x2_u_zero", _V1),
    (0xFE, "f64x2.convert_low_i32x4_s", _V1), (0xFF, "f64x2.convert_low_i32x4_u", _V1),
]:
    _def(_FD + _sub, _name, NONE, _sig)

# Named constants for the codes the decoder and compiler test directly.
UNREACHABLE, NOP, BLOCK, LOOP, IF, ELSE, END = 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x0B
BR, BR_IF, BR_TABLE_OP, RETURN, CALL, CALL_INDIRECT_OP = 0x0C, 0x0D, 0x0E, 0x0F, 0x10, 0x11
DROP, SELECT, SELECT_TYPED = 0x1A, 0x1B, 0x1C

del _code, _name, _sig, _align, _sub, _i, _shape, _t
