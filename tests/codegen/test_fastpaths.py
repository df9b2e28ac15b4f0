"""The compiler's inlined emission paths (compile speed) against the checked
encoders they stand for: the same bytes, for every form they cover.

The visitors append precomputed heads from isa/x64 (frame loads and stores,
ALU with immediates, short and far displacements) and branch to a block's end
without assembler labels; each test here builds the reference with the
Assembler's public methods, so a fast path that drifts from the encoder fails.
"""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from pywinch.codegen import compile_module, control
from pywinch.codegen.compiler import ModuleCompiler
from pywinch.codegen.context import (FRAME_BLOCK, FRAME_LOOP, K_CMP, K_CONST, K_LOCAL, K_MEM, K_REG, TSIZE, Frame,
                                     FuncCompiler)
from pywinch.isa.x64.asm import Assembler
from pywinch.isa.x64.regs import RBP, RSP
from pywinch.wasm import decode_module
from pywinch.wasm.types import F32, F64, I32, I64
from pywinch.wasm.validate import check_module

from .test_compile_loop import module


# --- branches to a frame's label ------------------------------------------------------

@pytest.mark.parametrize("pad", [0, 1, 100, 123, 124, 125, 126, 127, 128, 129, 130, 300])
@pytest.mark.parametrize("cc", [-1, 2, 4, 15])
def test_loop_branch_is_assembler_jcc(pad, cc):
    """Back to a loop head: short form while it reaches, near beyond (as jcc/jmp)."""
    ref = Assembler()
    head = ref.new_label()
    ref.bind(head)
    ref.nop(pad)
    if cc < 0:
        ref.jmp(head)
    else:
        ref.jcc(cc, head)
    c = SimpleNamespace(a=Assembler())
    c.a.nop(pad)
    f = Frame(FRAME_LOOP, (), (), 0, -1)
    f.head = 0
    control._jump_to(c, f, cc)
    assert c.a.buf == ref.buf


def test_block_branches_patched_at_end_are_assembler_labels():
    rnd = random.Random(5)
    for _ in range(50):
        ref = Assembler()
        end = ref.new_label()
        c = SimpleNamespace(a=Assembler())
        f = Frame(FRAME_BLOCK, (), (), 0, -1)
        for _ in range(rnd.randrange(1, 6)):
            n = rnd.choice((0, 3, 200))
            ref.nop(n)
            c.a.nop(n)
            cc = rnd.choice((-1, 0, 5, 12))
            if cc < 0:
                ref.jmp(end)
            else:
                ref.jcc(cc, end)
            control._jump_to(c, f, cc)
        n = rnd.choice((0, 7, 500))
        ref.nop(n)
        c.a.nop(n)
        ref.bind(end)
        control._bind_end(c, f)
        assert c.a.buf == ref.buf


# --- store_value / pop_reg against the checked encoders -----------------------------------

def _compiler(nlocals):
    """A FuncCompiler for a function with ``nlocals`` i32 locals (many: disp32 slots)."""
    data = module(b"\x0b", locals_=[(nlocals, I32)])
    m = decode_module(data)
    ctx = check_module(m)
    mc = ModuleCompiler(m, ctx)
    fi = m.num_imported_funcs
    return FuncCompiler(mc, fi, ctx.funcs[fi], m.codes[0].local_types, None)


def _reference_store(c, a, e, idx, base, disp):
    """store_value as the checked encoders spell it (no inlined bytes)."""
    k, t, v = e
    size = TSIZE[t]
    if k == K_REG:
        a.store(size, v, base, disp)
    elif k == K_CONST:
        if size == 4 or v < 0x80000000 or v >= 0xFFFFFFFF80000000:
            imm = v - (1 << 32) if size == 4 and v >= 1 << 31 else v - (1 << 64) if v >= 1 << 63 else v
            a.store_imm(size, imm, base, disp)
        else:
            a.mov_ri(8, c.scratch, v)
            a.store(8, c.scratch, base, disp)
    elif k == K_LOCAL:
        a.load(size, c.scratch, c.fp, c.ldisp[v])
        a.store(size, c.scratch, base, disp)
    elif k == K_MEM:
        sd = -c.slot_base - c.sstride * idx
        if base != c.fp or disp != sd:
            a.load(size, c.scratch, c.fp, sd)
            a.store(size, c.scratch, base, disp)


ENTRIES = ([(K_REG, t, r) for t in (I32, I64) for r in (0, 3, 8, 12, 15)]
           + [(K_REG, t, x) for t in (F32, F64) for x in (16, 17, 24, 31)]
           + [(K_CONST, I32, v) for v in (0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF)]
           + [(K_CONST, I64, v) for v in (0, 5, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF80000000, 1 << 40)]
           + [(K_LOCAL, t, i) for t in (I32, I64) for i in (0, 3, 13, 14, 40)]
           + [(K_MEM, t, 0) for t in (I32, I64, F64)])


@pytest.mark.parametrize("nlocals", [2, 60])
def test_store_value_is_the_encoders(nlocals):
    c = _compiler(nlocals)
    for e in ENTRIES:
        if e[0] == K_LOCAL and e[2] >= nlocals:
            continue
        for idx in (0, 1, 9, 30):
            targets = [(RBP, -8), (RBP, -16 - 8 * idx), (RBP, -0x400), (RSP, 0), (RSP, 8), (RSP, 0x100)]
            for base, disp in targets:
                c.a = Assembler()
                c.free = c.all_free & ~(1 << e[2]) if e[0] == K_REG else c.all_free
                c.store_value(e, idx, base, disp)
                ref = Assembler()
                _reference_store(c, ref, e, idx, base, disp)
                assert c.a.buf == ref.buf, (e, idx, base, hex(disp))


@pytest.mark.parametrize("nlocals", [2, 60])
def test_pop_reg_is_the_encoders(nlocals):
    c = _compiler(nlocals)
    entries = [(K_LOCAL, I32, i) for i in (0, 1, nlocals - 1)] + [(K_LOCAL, F64, 0)] + \
        [(K_CONST, I32, 7), (K_CONST, I64, 0xFFFFFFFF), (K_CONST, I64, 1 << 40), (K_MEM, I32, 0), (K_MEM, I64, 0),
         (K_CMP, I32, 4)]
    for e in entries:
        for depth in (0, 5, 40):
            c.a = Assembler()
            c.free = c.all_free
            c.stack[:] = [(K_CONST, I32, 0)] * depth + [e]
            r = c.pop_reg()
            ref = Assembler()
            k, t, v = e
            if k == K_LOCAL:
                ref.load(TSIZE[t], r, RBP, c.ldisp[v])
            elif k == K_MEM:
                ref.load(TSIZE[t], r, RBP, -c.slot_base - c.sstride * depth)
            elif k == K_CONST:
                ref.mov_ri(TSIZE[t], r, v)
            else:
                ref.setcc(v, r)
                ref.movzx_rr(1, r, r)
            assert c.a.buf == ref.buf, (e, depth)


def test_binops_with_far_locals_and_wide_constants_disassemble_as_written():
    """local OP constant and register OP constant with disp32 locals and imm32 constants."""
    from pywinch.isa.x64.disasm import disassemble
    # (local 40 + 1000) & 0xFF00 ^ -2 ; (local 1 - 3)
    body = (b"\x20\x28\x41\xe8\x07\x6a\x41\x80\xfe\x03\x71\x41\x7e\x73\x1a"
            b"\x20\x01\x41\x03\x6b\x1a\x0b")
    m = decode_module(module(body, locals_=[(41, I32)]))
    cm = compile_module(m)
    lines = [t for _, _, t in disassemble(cm.code[cm.func_offsets[0]:cm.func_ends[0]])]
    i = lines.index("mov ebx, [rbp-0x150]")          # local 40: -16 - 8 * 40, a disp32
    assert lines[i:i + 6] == ["mov ebx, [rbp-0x150]", "add ebx, 0x3e8", "and ebx, 0xff00", "xor ebx, -2",
                              "mov ebx, [rbp-0x18]", "sub ebx, 3"]
