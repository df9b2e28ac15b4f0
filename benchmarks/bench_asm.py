"""Encoding throughput of the x86-64 assembler on a compiler-like instruction mix.

    python benchmarks/bench_asm.py [--blocks N] [--repeat R] [--forms]

The mix is what the single-pass compiler emits per Wasm operator: local and
vmctx loads/stores (rbp/r14-relative, disp8 and disp32), register moves and
immediates, ALU register/immediate forms, compare + branch to forward and
backward labels, setcc + movzx, shifts, calls, scalar float ops, and the
finalize pass (labels, constant pool).  Target: >= 2 million instructions/s.
Time is the process's CPU time, so other load on a shared machine counts less.
"""

from __future__ import annotations

import argparse
import time

from pywinch.isa.x64.asm import ADD, AND, CMP, SHL, SUB, XOR, Assembler
from pywinch.isa.x64.regs import (
    CC_E, CC_L, CC_NE, R11, R14, RAX, RBP, RCX, RDI, RDX, RSI, RSP, XMM0, XMM1,
)

INSNS_PER_BLOCK = 24


def emit_block(a: Assembler, i: int, top: int, callee: int) -> None:
    skip = a.new_label()
    d = -8 * (i % 40) - 8                      # frame slots: disp8 and disp32 both occur
    a.load(8, RAX, RBP, d)                     # local.get
    a.load(4, RCX, RBP, d - 200)
    a.alu_rr(ADD, 4, RAX, RCX)                 # i32.add
    a.alu_ri(ADD, 4, RAX, i & 0x3FF)           # i32.add const
    a.store(4, RAX, RBP, d)                    # local.set
    a.load(8, RDX, R14, 0x58)                  # vmctx field (memory base)
    a.load(8, RSI, R14, 0x60)                  # memory length
    a.mov_rr(8, RDI, RAX)
    a.alu_rr(CMP, 8, RDI, RSI)                 # bounds check
    a.jcc(CC_NE, skip)                         # forward branch
    a.load_zx(1, RCX, RDX, 0, RDI, 1)          # i32.load8_u
    a.alu_ri(CMP, 4, RCX, 100)
    a.setcc(CC_L, RCX)                         # i32.lt_s materialized
    a.movzx_rr(1, RCX, RCX)
    a.shift_ri(SHL, 4, RCX, 2)
    a.alu_rr(XOR, 4, RAX, RCX)
    a.mov_ri(4, R11, 0x12345)                  # i32.const
    a.alu_rr(AND, 4, RAX, R11)
    a.bind(skip)
    a.alu_ri(SUB, 8, RSP, 16)                  # outgoing call area
    a.call(callee)                             # direct call
    a.alu_ri(ADD, 8, RSP, 16)
    a.addsd(XMM0, XMM1)                        # f64.add
    a.jcc(CC_E, top)                           # backward branch (loop)


def run(blocks: int) -> tuple[int, float]:
    t0 = time.process_time()
    a = Assembler()
    callee = a.new_label()
    top = a.new_label()
    a.bind(top)
    for i in range(blocks):
        if i % 64 == 0:
            top = a.new_label()
            a.bind(top)
        emit_block(a, i, top, callee)
    a.bind(callee)
    a.ret()
    code = a.finalize()
    dt = time.process_time() - t0
    assert len(code) > blocks * 50
    return blocks * INSNS_PER_BLOCK + 1, dt


FORMS = (
    ("load [rbp+disp8]", "a.load(8, RAX, RBP, -16)"),
    ("load [r14+disp32]", "a.load(8, RAX, R14, 0x200)"),
    ("load8_u [base+index+disp]", "a.load_zx(1, RCX, RDX, 16, RDI, 1)"),
    ("store [rbp+disp8]", "a.store(4, RAX, RBP, -24)"),
    ("mov r, r", "a.mov_rr(8, RDI, RAX)"),
    ("mov r, imm", "a.mov_ri(4, R11, 0x12345)"),
    ("add r, r", "a.alu_rr(ADD, 4, RAX, RCX)"),
    ("add r, imm8", "a.alu_ri(ADD, 4, RAX, 5)"),
    ("cmp r, imm32", "a.alu_ri(CMP, 8, RAX, 500)"),
    ("setcc + movzx", "a.setcc(CC_L, RCX); a.movzx_rr(1, RCX, RCX)"),
    ("jcc backward", "a.jcc(CC_E, top)"),
    ("call label", "a.call(top)"),
    ("addsd", "a.addsd(XMM0, XMM1)"),
)


def forms() -> None:
    """Nanoseconds per call of single hot forms (CPU time, best of 7)."""
    import timeit
    a = Assembler()
    top = a.new_label()
    a.bind(top)
    env = dict(globals(), a=a, top=top)
    for label, stmt in FORMS:
        n = 100000
        t = min(timeit.repeat(stmt, globals=env, number=n, repeat=7, timer=time.process_time))
        a.buf.clear()
        print(f"  {label:28s} {t / n * 1e9:6.0f} ns")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--blocks", type=int, default=20000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--forms", action="store_true", help="also time single hot forms")
    args = ap.parse_args()
    if args.forms:
        forms()
    best = None
    for _ in range(args.repeat):
        n, dt = run(args.blocks)
        rate = n / dt
        best = rate if best is None else max(best, rate)
    print(f"bench_asm: {n} instructions per run, best of {args.repeat}: "
          f"{best / 1e6:.2f} million instructions/s ({1e9 / best:.0f} ns/instruction)")


if __name__ == "__main__":
    main()
