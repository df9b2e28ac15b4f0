"""Functions assembled through the MacroAssembler (no compiler), placed in
executable memory and called with ctypes: integer and float arithmetic,
branches, loops, calls between functions, multi-value through a return area,
and the trampolines' conventions."""

import ctypes

import pytest

from pywinch.abi import WasmSig, sysv_assign
from pywinch.masm import for_host
from pywinch.runtime.code import CodeMemory
from pywinch.wasm.types import F64, I32, I64

MASM, ABI, REGS = for_host()


def build(emit):
    a = MASM()
    emit(a)
    return CodeMemory(a.finalize())


def test_integer_loop_sum():
    # u64 sum(u64 n): a countdown loop with a compare-and-branch.
    def emit(a):
        a.prologue()
        a.mov_ri(4, REGS.RAX, 0)
        top, done = a.new_label(), a.new_label()
        a.bind(top)
        a.test_rr(8, REGS.RDI, REGS.RDI)
        a.jcc(REGS.CC_E, done)
        a.alu_rr(0, 8, REGS.RAX, REGS.RDI)
        a.alu_ri(5, 8, REGS.RDI, 1)
        a.jmp(top)
        a.bind(done)
        a.epilogue()
    mem = build(emit)
    f = mem.func(0, ctypes.c_uint64, ctypes.c_uint64)
    assert f(100) == 5050
    assert f(0) == 0


def test_float_arithmetic_and_constants():
    # double f(double x) = sqrt(x) * 2.5 + 1.0, the constants from the pool.
    def emit(a):
        a.prologue()
        a.sqrtsd(REGS.XMM0, REGS.XMM0)
        a.load_fconst(8, REGS.XMM1, 0x4004000000000000)       # 2.5
        a.mulsd(REGS.XMM0, REGS.XMM1)
        a.load_fconst(8, REGS.XMM1, 0x3FF0000000000000)       # 1.0
        a.addsd(REGS.XMM0, REGS.XMM1)
        a.epilogue()
    f = build(emit).func(0, ctypes.c_double, ctypes.c_double)
    assert f(16.0) == 11.0


def test_calls_between_functions_and_return_area():
    # g(a, b) returns (a+b, a*b, a-b): the first in rax, the others in a return
    # area laid out by WasmSig after the parameters; main(a, b, out*) calls g
    # with the Wasm convention (stack arguments) and stores all three results.
    sig = WasmSig((I64, I64), (I64, I64, I64))

    def emit(a):
        g = a.new_label()
        # main(rdi=a, rsi=b, rdx=out)
        a.prologue()
        a.push_r(REGS.RBX)
        a.mov_rr(8, REGS.RBX, REGS.RDX)
        a.alu_ri(5, 8, REGS.RSP, sig.area_size + 8)          # keep rsp 16-aligned at the call
        a.store(8, REGS.RDI, REGS.RSP, sig.param_offsets[0])
        a.store(8, REGS.RSI, REGS.RSP, sig.param_offsets[1])
        a.call(g)
        a.store(8, REGS.RAX, REGS.RBX, 0)
        for k in (1, 2):
            a.load(8, REGS.RCX, REGS.RSP, sig.result_offsets[k])
            a.store(8, REGS.RCX, REGS.RBX, 8 * k)
        a.alu_ri(0, 8, REGS.RSP, sig.area_size + 8)
        a.pop_r(REGS.RBX)
        a.epilogue()
        # g: parameters at [rbp + ARG_BASE + off]
        a.align(16)
        a.bind(g)
        a.prologue()
        base = ABI.ARG_BASE
        a.load(8, REGS.RAX, REGS.RBP, base + sig.param_offsets[0])
        a.load(8, REGS.RCX, REGS.RBP, base + sig.param_offsets[1])
        a.mov_rr(8, REGS.RDX, REGS.RAX)
        a.imul_rr(8, REGS.RDX, REGS.RCX)
        a.store(8, REGS.RDX, REGS.RBP, base + sig.result_offsets[1])
        a.mov_rr(8, REGS.RDX, REGS.RAX)
        a.alu_rr(5, 8, REGS.RDX, REGS.RCX)
        a.store(8, REGS.RDX, REGS.RBP, base + sig.result_offsets[2])
        a.alu_rr(0, 8, REGS.RAX, REGS.RCX)
        a.epilogue()
    mem = build(emit)
    f = mem.func(0, None, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p)
    out = (ctypes.c_int64 * 3)()
    f(7, 5, ctypes.addressof(out))
    assert list(out) == [12, 35, 2]


def test_sysv_assignment_spills_past_registers():
    types = [I32] * 7 + [F64] * 9
    locs, size = sysv_assign(types, ABI.SYSV_ARGS, ABI.SYSV_FARGS)
    assert [l for l in locs if l[0] == "stack"] == [("stack", 0), ("stack", 8)]
    assert size == 16


def test_wasm_sig_layout():
    s = WasmSig((I32, F64, I64), (I32, I64, F64))
    assert s.param_offsets == [0, 8, 16]
    assert s.result_offsets == [None, 24, 32]
    assert s.area_size == 48


def test_jump_table_dispatch():
    def emit(a):
        a.prologue()
        labels = [a.new_label() for _ in range(3)]
        done = a.new_label()
        a.mov_rr(4, REGS.RAX, REGS.RDI)
        a.jump_table(REGS.RAX, REGS.R11, labels)
        for i, l in enumerate(labels):
            a.bind(l)
            a.mov_ri(4, REGS.RAX, 100 + i)
            a.jmp(done)
        a.bind(done)
        a.epilogue()
    f = build(emit).func(0, ctypes.c_uint32, ctypes.c_uint32)
    assert [f(i) for i in range(3)] == [100, 101, 102]


@pytest.mark.parametrize("size", [1, 2, 4, 8])
def test_heap_access_sequence(size):
    # Cached bounds-checked store then load through the macro, against a fake
    # memory definition [base, length] held in a ctypes buffer.
    mem = (ctypes.c_uint8 * 64)()
    d = (ctypes.c_uint64 * 2)(ctypes.addressof(mem), 64)

    def emit(a):
        a.prologue()
        # rdi = definition*, esi = address, rdx = value; returns the loaded value or -1
        at = a.heap_access(("store", size), REGS.RDX, REGS.RSI, 8, REGS.RDI, 8, 0, REGS.R11)
        ret = a.new_label()
        a.mov_rr(4, REGS.RSI, REGS.RSI)
        at2 = a.heap_access(("load", size, 8, False), REGS.RAX, REGS.RSI, 8, REGS.RDI, 8, 0, REGS.R11)
        a.jmp(ret)
        stub = a.pos
        a.mov_ri(8, REGS.RAX, -1)
        a.bind(ret)
        a.epilogue()
        import struct
        for field in (at, at2):
            struct.pack_into("<i", a.buf, field, stub - field - 4)
    f = build(emit).func(0, ctypes.c_int64, ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint64)
    value = 0x1122334455667788 & ((1 << (8 * size)) - 1)
    assert f(ctypes.addressof(d), 0, value) == value
    assert f(ctypes.addressof(d), 56 - size, value) == value
    assert f(ctypes.addressof(d), 57 - size, value) == -1
    assert f(ctypes.addressof(d), 0xFFFFFFFF, value) == -1
