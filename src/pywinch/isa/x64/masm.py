"""The x86-64 MacroAssembler: the assembler plus the few macro operations the
compiler and trampolines share (frames, float constants, trap calls).

Subclassing (rather than wrapping) the assembler keeps the compiler's hot
path to one method call per instruction.
"""

from __future__ import annotations

from .asm import SUB, Assembler
from .regs import RAX, RBP, RCX, RDI, RIP, RSP
from .sse import PCMPEQD

import os
import struct
import sys

# Guarded linear memories (docs/architecture.md, "Memory"): every 32-bit memory
# reserves its 4 GiB index space plus HEAP_GUARD bytes, all PROT_NONE past its
# current length, so ``[base + u32 index + offset]`` with ``offset + size <=
# HEAP_GUARD`` stays inside the reservation and an out-of-bounds access faults
# (runtime/faults.py turns the fault into a trap): no bounds check.  Process-wide,
# because compiled code may meet any memory of the process; 0 (explicit checks
# only) off Linux or with PYWINCH_GUARD_PAGES=0.
HEAP_GUARD = (4 << 30) if (sys.platform.startswith("linux")
                           and os.environ.get("PYWINCH_GUARD_PAGES", "1") != "0") else 0

_pack_into_i32 = struct.Struct("<i").pack_into
_pack_i32 = struct.Struct("<i").pack
_LEAVE = b"\xc9"
_REP_STOSQ = b"\xf3\x48\xab"


# --- precomputed sequences for the compiler's hottest macros -----------------------
_JCC_NEAR = [bytes((0x0F, 0x80 | cc)) + b"\0\0\0\0" for cc in range(16)]
_CALL_REL32 = b"\xe8\0\0\0\0"
_seq_cache: dict = {}
_heap_cache: dict = {}
_guarded_cache: dict = {}


def _seq(key, build):
    """Bytes of a fixed instruction sequence, encoded once by a scratch assembler."""
    b = _seq_cache.get(key)
    if b is None:
        a = Assembler()
        build(a)
        b = _seq_cache[key] = bytes(a.buf)
    return b


def _heap_check_bytes(addr, end, base, len_disp, scratch):
    def build(a):
        a.lea(8, scratch, addr, end)
        a.alu_rm(7, 8, scratch, base, len_disp)       # cmp scratch, [len]
    return _seq(("heap", addr, end, base, len_disp, scratch), build)


def _load_bytes(size, dst, base, disp):
    return _seq(("load", size, dst, base, disp), lambda a: a.load(size, dst, base, disp))


def _mm_patch_rel32(buf, at, target):
    _pack_into_i32(buf, at, target - (at + 4))


def _emit_access(a, acc, reg: int, base: int, offset: int, index: int) -> None:
    """The access itself, ``[base + index + offset]``, for a heap access
    descriptor ``acc`` (see :meth:`MacroAssembler.heap_access`)."""
    if acc[0] == "store":
        a.store(acc[1], reg, base, offset, index)
    elif reg >= 16:
        a.load(acc[1], reg, base, offset, index)
    elif acc[3]:
        a.load_sx(acc[1], acc[2], reg, base, offset, index)
    else:
        a.load_zx(acc[1], reg, base, offset, index)


class MacroAssembler(Assembler):
    __slots__ = ()

    def prologue(self) -> None:
        """``push rbp; mov rbp, rsp`` (every frame keeps the rbp chain)."""
        self.push_r(RBP)
        self.mov_rr(8, RBP, RSP)

    def leave(self) -> None:
        """``mov rsp, rbp; pop rbp``."""
        self.buf += _LEAVE

    def epilogue(self) -> None:
        self.buf += _LEAVE
        self.ret()

    def sub_imm32_patchable(self, reg: int) -> int:
        """``sub reg, imm32`` with the immediate patched later; returns its offset."""
        return self.alu_ri32(SUB, 8, reg, 0)

    def zero_qwords(self, base: int, disp: int, count: int) -> None:
        """Zero ``count`` 8-byte slots at ``[base + disp]`` upwards.  Clobbers rax, rcx, rdi."""
        self.alu_rr(6, 4, RAX, RAX)  # xor eax, eax
        if count <= 8:
            for i in range(count):
                self.store(8, RAX, base, disp + 8 * i)
            return
        self.lea(8, RDI, base, disp)
        self.mov_ri(4, RCX, count)
        self.buf += _REP_STOSQ

    def load_fconst(self, size: int, dst: int, bits: int) -> None:
        """Load float or v128 bits (size 4, 8 or 16) into XMM ``dst``; never touches the flags."""
        if bits == 0:
            self.xorps(dst, dst)
        elif size == 4:
            self.load(4, dst, RIP, self.const_u32(bits))
        elif size == 16:
            if bits == (1 << 128) - 1:
                self.sse(PCMPEQD, dst, dst)
            else:
                self.load(16, dst, RIP, self.const_u128(bits))
        else:
            self.load(8, dst, RIP, self.const_u64(bits))

    def trap_call(self, code: int, routines=None, origin: int = 0) -> int:
        """Call the module's trap routine for ``code``; returns the pc it records
        (the offset just after the call, relative to this buffer).  With
        ``routines`` (blob offset per code) and ``origin`` (this buffer's offset
        in the blob) the call is resolved at once, else it is a relocation."""
        if routines is None:
            return self.call_extern(("trap", code)) + 4
        return self.call_abs(routines[code], origin)

    def pushf(self) -> None:
        """``pushfq`` (save the flags around flag-clobbering bookkeeping)."""
        self.buf += b"\x9c"

    def popf(self) -> None:
        """``popfq``."""
        self.buf += b"\x9d"

    def nop_out(self, start: int, end: int) -> None:
        """Overwrite ``buf[start:end]`` (whole instructions) with nops."""
        t = Assembler()
        t.nop(end - start)
        self.buf[start:end] = t.buf

    def call_abs(self, target: int, origin: int) -> int:
        """``call rel32`` to blob offset ``target`` from a buffer placed at ``origin``;
        returns the offset after the call."""
        buf = self.buf
        end = len(buf) + 5
        buf += b"\xe8" + _pack_i32(target - origin - end)
        return end

    def jcc_fixup(self, cc: int) -> int:
        """``j<cc> rel32`` to a target given later with :meth:`patch_rel32`; returns the field offset."""
        buf = self.buf
        buf += _JCC_NEAR[cc]
        return len(buf) - 4

    def patch_rel32_here(self, at: int) -> None:
        """Point the rel32 field at ``at`` to the current offset."""
        _mm_patch_rel32(self.buf, at, len(self.buf))

    def heap_check(self, addr: int, end: int, base: int, len_disp: int, scratch: int) -> None:
        """``lea scratch, [addr + end]; cmp scratch, [base + len_disp]`` (then the caller's ``ja``)."""
        self.buf += _heap_check_bytes(addr, end, base, len_disp, scratch)

    def load_fixed(self, size: int, dst: int, base: int, disp: int) -> None:
        """A load whose operands repeat across the module (cached encoding)."""
        self.buf += _load_bytes(size, dst, base, disp)

    def heap_access(self, acc, reg: int, addr: int, offset: int, mbase: int, len_disp: int,
                    base_disp: int, scratch: int, heap_reg: int = -1) -> int:
        """Bounds-checked linear-memory access, as one cached byte sequence::

            lea scratch, [addr + offset + size]
            cmp scratch, [mbase + len_disp]
            ja  <trap>                       ; rel32 patched by the caller
            mov scratch, [mbase + base_disp]   ; unless heap_reg >= 0 holds the base
            <access> reg, [scratch + addr + offset]

        ``acc`` is ``("load", size, dst_size, signed)`` or ``("store", size)``;
        ``offset + size`` must fit a disp32.  Returns the offset of the ``ja``
        rel32 field.
        """
        key = (acc, reg, addr, offset, mbase, len_disp, base_disp, scratch, heap_reg)
        entry = _heap_cache.get(key)
        if entry is None:
            a = Assembler()
            a.lea(8, scratch, addr, offset + acc[1])
            a.alu_rm(7, 8, scratch, mbase, len_disp)
            a.buf += _JCC_NEAR[7]
            jpos = len(a.buf) - 4
            hb = heap_reg
            if hb < 0:
                a.load(8, scratch, mbase, base_disp)
                hb = scratch
            _emit_access(a, acc, reg, hb, offset, addr)
            entry = _heap_cache[key] = (bytes(a.buf), jpos)
        buf = self.buf
        at = len(buf) + entry[1]
        buf += entry[0]
        return at

    def heap_access_guarded(self, acc, reg: int, addr: int, offset: int, mbase: int, base_disp: int,
                            scratch: int, heap_reg: int = -1) -> int:
        """Unchecked access to a guarded memory, as one cached byte sequence::

            mov scratch, [mbase + base_disp]   ; unless heap_reg >= 0 holds the base
            <access> reg, [base + addr + offset]

        ``addr`` holds a zero-extended u32; ``acc`` as for :meth:`heap_access`.
        Returns the offset of the access instruction (the one that may fault).
        """
        key = (acc, reg, addr, offset, mbase, base_disp, scratch, heap_reg)
        entry = _guarded_cache.get(key)
        if entry is None:
            a = Assembler()
            hb = heap_reg
            if hb < 0:
                a.load(8, scratch, mbase, base_disp)
                hb = scratch
            at = len(a.buf)
            _emit_access(a, acc, reg, hb, offset, addr)
            entry = _guarded_cache[key] = (bytes(a.buf), at)
        buf = self.buf
        at = len(buf) + entry[1]
        buf += entry[0]
        return at

    def trap_stubs(self, stubs, sites, routines=None, origin: int = 0):
        """Emit the out-of-line trap stubs of a function: for each ``(at, code,
        wasm_offset)`` of ``stubs`` (``at`` a rel32 field from :meth:`jcc_fixup`),
        a ``call`` to the module's trap routine for ``code`` (relocation
        ``("trap", code)``) that the jump reaches; code 0 first moves a
        builtin's status from eax to ecx.  Appends ``(pc, code, wasm_offset)``
        to ``sites``."""
        buf = self.buf
        relocs = self.relocs
        pack = _pack_into_i32
        for at, code, off in stubs:
            pos = len(buf)
            pack(buf, at, pos - at - 4)
            if code == 0:
                buf += b"\x89\xc1"              # mov ecx, eax
                pos += 2
            if routines is None:
                buf += _CALL_REL32
                relocs.append((pos + 1, ("trap", code)))
            else:
                buf += b"\xe8" + _pack_i32(routines[code] - origin - pos - 5)
            sites.append((pos + 5, code, off))
