"""The MacroAssembler interface: how ``codegen`` and ``trampoline`` emit code.

The compiler never encodes an instruction itself; it calls a MacroAssembler
for the target ISA (``isa/<arch>/masm.py``), obtained from :func:`for_host`.
The x86-64 implementation *is* the assembler plus macro operations (so the
hot path calls the encoder directly, with no forwarding layer); an AArch64
implementation will provide the same method names with its own encodings.

Conventions (shared by every implementation):

* registers are ints taken from the ISA's ``abi`` module (``VMCTX``,
  ``SCRATCH``, ``FP``, ``SP``, ``GPR_ALLOC``, ``XMM_ALLOC``, ...); the codegen
  never writes a register number itself;
* sizes in bytes (1, 2, 4, 8); a 4-byte integer operation zero-extends into
  the full register (codegen relies on i32 values having zero upper bits);
* memory operands are trailing ``base, disp, index, scale`` arguments;
* labels are ints from ``new_label()``, bound with ``bind(label)``;
* ``call_extern(key)`` emits a call to code outside the function (another
  function ``("func", index)`` or a trap routine ``("trap", code)``) and
  records a relocation the module linker resolves;
* condition codes are the ``CC_*`` values of the ISA's ``regs`` module,
  re-exported here by :func:`for_host`.

Operations used by codegen (x86-64 names; see ``isa/x64/asm.py`` for the
exact operand rules): mov_rr, mov_ri, load, load_zx, load_sx, store,
store_imm, lea, alu_rr/ri/rm/mi (ADD, OR, ADC, SBB, AND, SUB, XOR, CMP),
test_rr/ri, imul_rr/rri, div/idiv with sign_extend_ax, shift_ri/shift_cl,
neg, not_, lzcnt/tzcnt/popcnt/bsr/bsf, setcc, movzx_rr, movsx_rr, cmov,
jmp, jcc, jump_table, call, call_r, call_m, call_extern, ret, push_r, pop_r,
the scalar SSE operations (sse(op, dst, src), roundss/sd, cvt*, movd/movq,
movaps, ucomiss/sd) and the macros below.

Macros (implemented per ISA): ``prologue()`` / ``epilogue()`` for frames,
``load_fconst(size, dst, bits)``, ``trap_call(code)`` (call the module's
trap routine for ``code``; returns the recorded pc), ``leave()``.
"""

from __future__ import annotations


def for_host():
    """``(MacroAssembler class, abi module, regs module)`` for the machine we run on."""
    import platform

    from .errors import UnsupportedError

    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        from .isa.x64 import abi, regs
        from .isa.x64.masm import MacroAssembler
        return MacroAssembler, abi, regs
    raise UnsupportedError(f"code generation for {machine} is not supported yet")
