"""Per-function compilation state: value stack, register allocator, frame.

This is the interface every visitor module uses (see CONTRACT_CHANGES.md,
"adding a visitor").  A visitor is ``fn(c: FuncCompiler, imm) -> None``; it
pops its operands, emits code through ``c.a`` (the MacroAssembler) and pushes
its results.

Value stack entries are tuples ``(kind, type, val)``:

* ``(K_CONST, t, bits)``: a constant, ``bits`` unsigned (i32/f32 32-bit,
  i64/f64 64-bit, refs 0 for null);
* ``(K_REG, t, r)``: in register ``r``, owned by this entry alone;
* ``(K_LOCAL, t, i)``: the current value of local ``i`` (lazy ``local.get``;
  ``local.set i`` materializes these first), read from the register caching
  the local when there is one (``lreg``, see FuncCompiler.__init__);
* ``(K_MEM, t, 0)``: spilled to the frame slot of its stack index;
* ``(K_CMP, I32, cc)``: the flags of a comparison just emitted; ``cc`` is the
  condition under which the value is 1.  Only the top entry can be a K_CMP;
  the compile loop materializes it before any operator that does not fuse
  with it (br_if, if, select, i32.eqz).

Invariants: an i32 in a register has its upper 32 bits zero; every register
in ``K_REG`` entries is absent from the free mask; at a control-flow merge
(block end reached by a branch, loop head, else, if end) every entry below
the frame's base is a K_CONST or K_MEM and the label's values are K_MEM in
their own slots (the "spill at control flow" scheme of Winch; the seam for
keeping values in registers across blocks is ``FuncCompiler.spill_for_block``
and ``move_to_label``, see docs/architecture.md).

Frame layout (rbp-relative)::

    [rbp + 16 + 8*i]      parameter i (the caller's outgoing area)
    [rbp + 8]             return address
    [rbp]                 caller's rbp
    [rbp - 8]             vmctx
    [rbp - 16 - 8*j]      declared local j (zeroed by the prologue)
    [rbp - S - 8*k]       value-stack slot k  (S = 16 + 8*num_declared_locals)
    [rsp .. rsp+out)      outgoing area of calls (largest of the function)

A function that may hold a v128 (``wide``) differs: v128 parameters and
locals take 16-byte slots aligned to 16 (``abi.WasmSig``, ``ldisp``), and
value-stack slot k is the 16 bytes at ``[rbp - S - 16*k]`` (S a multiple of
16 below the locals); ``sstride`` is the slot size, ``zero_area`` what the
prologue zeroes.
"""

from __future__ import annotations

from ..errors import CompileError
from ..isa.x64.abi import FP, SCRATCH
from ..isa.x64.gpr import (D8, FRAME_LOAD8, FRAME_LOAD32, FRAME_STORE8, FRAME_STORE32, MOV_I32, MOV_RR4, MOV_RR8,
                           PACK_I32, PACK_U32,
                           SETCC_ZX, STORE_D0, STORE_D8, STORE_D32, STORE_IMM_D0, STORE_IMM_D8, STORE_IMM_D32)
from ..wasm.opcodes import NUM_CODES as _NUM_CODES
from ..wasm.types import EXTERNREF, F32, F64, FUNCREF, I32, I64, V128

K_CONST, K_REG, K_LOCAL, K_MEM, K_CMP = range(5)

# Per value type (indexed by the type byte): operand size and register class.
TSIZE = [8] * 128
TSIZE[I32] = 4
TSIZE[F32] = 4
IS_FLOAT = [False] * 128
IS_FLOAT[F32] = True
IS_FLOAT[F64] = True
# v128 lives in XMM registers and 16-byte slots (functions that may hold one
# get 16-byte value-stack slots, see FuncCompiler.__init__ ``wide``).
TSIZE[V128] = 16
IS_FLOAT[V128] = True
MASK = [0xFFFFFFFFFFFFFFFF] * 128
MASK[I32] = MASK[F32] = 0xFFFFFFFF

FRAME_FUNC, FRAME_BLOCK, FRAME_LOOP, FRAME_IF = range(4)

# Operators audited for the register cache of locals (context.py, ``lreg``):
# they take registers only through the allocator or ``claim`` (which give
# cached ones back) and read locals through the cache or their slots; the
# control operators clear or reconcile it themselves (control.py).  Any other
# operator runs with the cache emptied first.
KEEPS_CACHE = [False] * _NUM_CODES
for _c in (0x01, 0x02, 0x03, 0x04, 0x05, 0x0B, 0x0C, 0x0D, 0x0E, 0x1A, 0x1B, 0x20, 0x21, 0x22, 0x23, 0x41, 0x42,
           *range(0x28, 0x3F), *range(0x45, 0x5B), 0x6A, 0x6B, 0x6C, *range(0x71, 0x79), 0x7C, 0x7D, 0x7E,
           *range(0x83, 0x8B), 0xA7, 0xAC, 0xAD, *range(0xC0, 0xC5)):
    KEEPS_CACHE[_c] = True


class Frame:
    """A control frame.  ``base``: stack height below the params; ``label``:
    the branch target (end of block/if, head of loop); ``branched``: a branch
    to ``label`` was emitted (so the end is a merge point).

    Branches to a block's or if's end do not need an assembler label: their
    rel32 fields go to ``fix`` and are patched when the end is reached
    (control.py), so ``label`` is -1 there until a br_table needs one; a
    loop's ``head`` is the offset of its bound label."""

    __slots__ = ("kind", "params", "results", "base", "label", "else_label", "branched", "has_else", "arity",
                 "res_reg", "fix", "head", "hcache")

    def __init__(self, kind, params, results, base, label, else_label=-1):
        self.kind = kind
        self.params = params
        self.results = results
        self.base = base
        self.label = label
        self.else_label = else_label
        self.branched = False
        self.has_else = False
        self.arity = params if kind == FRAME_LOOP else results   # what a branch to it carries
        # A block/if with one scalar result carries it in a fixed register (set by
        # the visitor) instead of the result's frame slot; -1 otherwise.
        self.res_reg = -1
        self.fix = None         # rel32 fields that jump to the end (see the class docstring)
        self.head = -1
        self.hcache = None      # a loop: the locals cached at its head, {local: register}


def _signed32(v):
    return v - 0x100000000 if v & 0x80000000 else v


def _fits_simm32(v, t):
    """Whether constant bits ``v`` of type ``t`` fit an x86 imm32 (sign-extended for 64-bit)."""
    if TSIZE[t] == 4:
        return True
    return v < 0x80000000 or v >= 0xFFFFFFFF80000000


def imm32_of(v, t):
    """The signed imm32 encoding of constant bits ``v`` (check ``_fits_simm32`` first)."""
    if TSIZE[t] == 4:
        return _signed32(v & 0xFFFFFFFF)
    return v - (1 << 64) if v >= 1 << 63 else v


fits_simm32 = _fits_simm32


def simm32(v, t):
    """The x86 imm32 operand for constant bits ``v`` of type ``t`` (a size-4 operand
    takes the unsigned bits as they are), or None when a 64-bit value does not fit."""
    if TSIZE[t] == 4:
        return v
    if v < 0x80000000:
        return v
    if v >= 0xFFFFFFFF80000000:
        return v - (1 << 64)
    return None


class FuncCompiler:
    """The state of compiling one function (one per function; see module docstring)."""

    __slots__ = (
        "mc", "a", "abi", "cc", "stack", "frames", "free", "local_types", "nparams", "local_base",
        "slot_base", "max_slot", "max_out", "reachable", "dead", "offset", "trap_sites", "trap_stubs",
        "pcmap", "functype", "sig", "frame_patch", "func_index", "validator", "gpr_alloc", "xmm_alloc",
        "fp", "scratch", "vmctx", "fuel_pending", "fuel_on", "flags_live", "ldisp", "spill_hints", "origin", "uses_heap", "heap_load", "opmap", "all_free", "tee",
        "sstride", "zero_area", "lreg", "rloc", "cmask", "home", "gmask",
    )

    def __init__(self, mc, func_index, functype, declared_locals, validator, origin=0, wide=False):
        self.mc = mc
        self.origin = origin        # offset of this function in the module blob
        self.uses_heap = False      # an access used the pinned memory-0 base register
        self.heap_load = (0, 0)     # the prologue's load of it (nop'ed out if unused)
        self.a = mc.masm_class()
        abi = self.abi = mc.abi
        self.cc = mc.regs
        self.func_index = func_index
        self.functype = functype
        self.sig = mc.wasm_sig(functype)
        self.validator = validator
        self.stack = []
        self.frames = []
        self.gpr_alloc = mc.gpr_alloc
        self.xmm_alloc = abi.XMM_ALLOC
        free = 0
        for r in self.gpr_alloc + abi.XMM_ALLOC:
            free |= 1 << r
        self.free = free
        self.all_free = free        # the mask when no register holds a value
        self.gmask = mc.gpr_mask
        # (local, stack index, entry) after a local.tee left the value in a register:
        # while that very entry is still at that index, a local.get copies the register.
        self.tee = None
        self.local_types = list(functype.params) + list(declared_locals)
        self.nparams = len(functype.params)
        self.local_base = -16
        # ``wide``: the function may hold v128 values, so value-stack slots are
        # 16 bytes (16-aligned) and a v128 local takes an aligned 16-byte slot.
        stride = self.sstride = 16 if wide else 8
        off = 8
        ldecl = []
        for t in declared_locals:
            if t == V128:
                off = (off + 31) & -16
            else:
                off += 8
            ldecl.append(-off)
        self.zero_area = (-off, (off - 8) >> 3)
        self.slot_base = ((off + stride - 1) & -stride) + stride
        self.max_slot = -1
        self.max_out = 0
        self.reachable = True
        self.dead = 0
        self.offset = 0
        self.trap_sites = []      # (pc, code, wasm_offset), pc relative to this buffer
        self.trap_stubs = []      # (label, code, wasm_offset)
        self.pcmap = []           # (pc, wasm_offset)
        self.opmap = []           # (pc, wasm_offset) per compiled operator, when asked
        self.frame_patch = []
        self.fp = abi.FP
        self.scratch = abi.SCRATCH
        self.vmctx = abi.VMCTX
        self.flags_live = False     # a K_CMP entry may be on the stack (see compile loop)
        self.ldisp = [abi.ARG_BASE + o for o in self.sig.param_offsets] + \
            ldecl
        self.spill_hints = [(0, None), (0, None)]   # per class (gpr, xmm): see spill_oldest
        self.fuel_on = mc.fuel
        self.fuel_pending = 1 if mc.fuel else 0   # operators charged at the next flush (1: the call)
        # The register cache of locals (write-through: a local's slot is always
        # current, so a cached register may be dropped at any time without a
        # store).  ``lreg[l]``: the GPR holding local l's value, else -1;
        # ``rloc[r]``: the local GPR r holds; ``cmask``: the cached registers.
        # A cached register is absent from the free mask (nobody else writes
        # it) until the allocator, a fixed-register claim or a label takes it
        # back (``uncache_*``).  ``home``: the innermost loop header's cache
        # (local -> register), where a back-edge must put them (control.py).
        self.lreg = [-1] * len(self.local_types)
        self.rloc = [-1] * 16
        self.cmask = 0
        self.home = None

    # ------------------------------------------------------------- locations
    def local_disp(self, i):
        return self.ldisp[i]

    def slot_disp(self, i):
        if i > self.max_slot:
            self.max_slot = i
        return -self.slot_base - self.sstride * i

    # ------------------------------------------------------------- registers
    def alloc_gpr(self):
        free = self.free
        for r in self.gpr_alloc:
            if free >> r & 1:
                self.free = free & ~(1 << r)
                return r
        if self.cmask:
            self.evict_cached()
        else:
            self.spill_oldest(False)
        return self.alloc_gpr()

    # ------------------------------------------------------- local cache
    def evict_cached(self):
        """Give back one cached register (the last in allocation order, the
        least likely to be a loop's home register)."""
        m = self.cmask
        for r in reversed(self.gpr_alloc):
            if m >> r & 1:
                self.uncache_reg(r)
                return

    def uncache_reg(self, r):
        """Forget what cached register ``r`` holds; it becomes free."""
        self.lreg[self.rloc[r]] = -1
        self.rloc[r] = -1
        self.cmask &= ~(1 << r)
        self.free |= 1 << r

    def uncache_all(self):
        """Forget every cached local (at labels, calls, anything not audited)."""
        m = self.cmask
        if m:
            self.free |= m
            self.cmask = 0
            lreg = self.lreg
            rloc = self.rloc        # meaningful only where cmask has the bit: left as is
            while m:
                low = m & -m
                lreg[rloc[low.bit_length() - 1]] = -1
                m ^= low

    def uncache_for_op(self):
        """Empty the cache before an operator not audited for it.  A lazy read
        of a cached local still on the stack (a local.tee's result, typically)
        takes over the register instead, so it is not reloaded from the slot
        just stored (a store-forwarding stall); the topmost one is also the
        ``tee`` entry a following local.get copies."""
        stack = self.stack
        lreg = self.lreg
        i = len(stack) - 1
        lowest = max(i - 8, -1)
        top = True
        while i > lowest:
            e = stack[i]
            if e[0] == K_LOCAL:
                l = e[2]
                r = lreg[l]
                if r >= 0 and e[1] == self.local_types[l]:
                    lreg[l] = -1
                    self.cmask &= ~(1 << r)
                    e = (K_REG, e[1], r)
                    stack[i] = e
                    if top:
                        self.tee = (l, i, e)
                        top = False
            i -= 1
        self.uncache_all()

    def cache_local(self, local, r):
        """GPR ``r`` (owned by the caller, which gives it up) now holds ``local``'s value."""
        old = self.lreg[local]
        if old >= 0:
            self.uncache_reg(old)
        self.lreg[local] = r
        self.rloc[r] = local
        self.cmask |= 1 << r
        self.free &= ~(1 << r)

    def cache_snapshot(self):
        m = self.cmask
        rloc = self.rloc
        return m, [(r, rloc[r]) for r in range(16) if m >> r & 1]

    def cache_restore(self, snap):
        """Back to a snapshot's cache (the free mask is restored by the caller)."""
        m = self.cmask
        lreg = self.lreg
        rloc = self.rloc
        for r in range(16):
            if m >> r & 1:
                lreg[rloc[r]] = -1
                rloc[r] = -1
        self.cmask = snap[0]
        for r, l in snap[1]:
            lreg[l] = r
            rloc[r] = l

    def alloc_xmm(self):
        free = self.free
        for r in self.xmm_alloc:
            if free >> r & 1:
                self.free = free & ~(1 << r)
                return r
        self.spill_oldest(True)
        return self.alloc_xmm()

    def alloc(self, t):
        if IS_FLOAT[t]:
            return self.alloc_xmm()
        free = self.free            # alloc_gpr inlined
        for r in self.gpr_alloc:
            if free >> r & 1:
                self.free = free & ~(1 << r)
                return r
        return self.alloc_gpr()

    def free_reg(self, r):
        self.free |= 1 << r

    def spill_oldest(self, want_xmm):
        """Spill the lowest register value of the class.  The scan resumes from a
        hint (no register value of the class below it) so a huge value stack
        does not make spilling quadratic; the hint is dropped when the stack
        has been cut below it since (its entry object changed)."""
        stack = self.stack
        hints = self.spill_hints
        h, mark = hints[want_xmm]
        if h > len(stack) or (h and stack[h - 1] is not mark):
            h = 0
        for i in range(h, len(stack)):
            e = stack[i]
            if e[0] == K_REG and (e[2] >= 16) == want_xmm:
                self.spill_entry(i)
                hints[want_xmm] = (i + 1, stack[i])
                return
        raise CompileError("out of registers: every allocatable register holds a live temporary")

    def spill_entry(self, i):
        e = self.stack[i]
        if i > self.max_slot:
            self.max_slot = i
        d = -self.slot_base - self.sstride * i
        if d >= -128:       # slot_disp inlined, and the store's bytes appended directly
            self.a.buf += FRAME_STORE8[TSIZE[e[1]]][e[2]] + D8[d & 0xFF]
        elif d >= -0x80000000:
            self.a.buf += FRAME_STORE32[TSIZE[e[1]]][e[2]] + PACK_I32(d)
        else:
            self.a.store(TSIZE[e[1]], e[2], self.fp, d)
        self.free |= 1 << e[2]
        self.stack[i] = (K_MEM, e[1], 0)

    def claim(self, r):
        """Take the specific register ``r`` (evicting a stack value that holds it)."""
        if self.cmask >> r & 1:
            self.uncache_reg(r)
        if self.free >> r & 1:
            self.free &= ~(1 << r)
            return r
        stack = self.stack
        for i, e in enumerate(stack):
            if e[0] == K_REG and e[2] == r:
                break
        else:
            raise CompileError(f"register {r} is held by a temporary and cannot be claimed")
        new = self._try_alloc_other(r >= 16)
        if new is None:
            self.spill_entry(i)
            self.free &= ~(1 << r)
        else:
            if r >= 16:
                self.a.movaps(new, r)
            else:
                self.a.mov_rr(8, new, r)
            stack[i] = (K_REG, e[1], new)
        return r

    def _try_alloc_other(self, xmm):
        free = self.free
        for r in (self.xmm_alloc if xmm else self.gpr_alloc):
            if free >> r & 1:
                self.free = free & ~(1 << r)
                return r
        if not xmm and self.cmask:
            self.evict_cached()
            return self._try_alloc_other(xmm)
        return None

    # ------------------------------------------------------- moving values
    def load_value(self, e, idx, r):
        """Put the value of entry ``e`` (at stack index ``idx``) into register ``r``.
        A K_REG source register is freed (ownership moves to the caller)."""
        a = self.a
        k, t, v = e
        if k == K_REG:
            if v != r:
                if r >= 16:
                    a.movaps(r, v)
                else:
                    a.mov_rr(8, r, v)
                self.free |= 1 << v
        elif k == K_CONST:
            if r >= 16:
                a.load_fconst(TSIZE[t], r, v)
            else:
                a.mov_ri(TSIZE[t], r, v)
        elif k == K_LOCAL:
            rc = self.lreg[v]
            if rc >= 0 and r < 16:
                if rc != r:
                    a.buf += (MOV_RR8 if TSIZE[t] == 8 else MOV_RR4)[rc << 4 | r]
            else:
                a.load(TSIZE[t], r, self.fp, self.local_disp(v))
        elif k == K_MEM:
            a.load(TSIZE[t], r, self.fp, self.slot_disp(idx))
        else:  # K_CMP
            a.setcc(v, r)
            a.movzx_rr(1, r, r)

    def store_value(self, e, idx, base, disp):
        """Store entry ``e`` (at stack index ``idx``) to ``[base + disp]``; frees a K_REG."""
        a = self.a
        k, t, v = e
        if t != V128 and -0x80000000 <= disp <= 0x7FFFFFFF:
            # A frame slot or an outgoing argument: the common forms are appended
            # from isa/x64's tables instead of calling the encoders.
            size = TSIZE[t]
            if -128 <= disp <= 127:
                if disp:
                    head, tail, ihead = STORE_D8[size], D8[disp & 0xFF], STORE_IMM_D8
                else:
                    head, tail, ihead = STORE_D0[size], b"", STORE_IMM_D0
            else:
                head, tail, ihead = STORE_D32[size], PACK_I32(disp), STORE_IMM_D32
            if k == K_REG:
                a.buf += head[v << 4 | base] + tail
                self.free |= 1 << v
                return
            if k == K_CONST:
                if size == 4 or v < 0x80000000 or v >= 0xFFFFFFFF80000000:
                    a.buf += ihead[size][base] + tail + PACK_U32(v & 0xFFFFFFFF)
                    return
            elif k == K_LOCAL or k == K_MEM:
                # Through the scratch register, with the type's size, never 8 for an
                # i32/f32: its slot was written with a 4-byte store, and a wider load
                # of it stalls until that store commits (no store-to-load forwarding),
                # which cost sha256 a third of its time.
                if k == K_LOCAL:
                    rc = self.lreg[v]
                    if rc >= 0 and not IS_FLOAT[t]:
                        a.buf += head[rc << 4 | base] + tail
                        return
                    sd = self.ldisp[v]
                else:
                    sd = self.slot_disp(idx)
                    if base == FP and disp == sd:
                        return
                if -128 <= sd <= 127:
                    a.buf += FRAME_LOAD8[size][SCRATCH] + D8[sd & 0xFF] + head[SCRATCH << 4 | base] + tail
                    return
                if -0x80000000 <= sd <= 0x7FFFFFFF:
                    a.buf += FRAME_LOAD32[size][SCRATCH] + PACK_I32(sd) + head[SCRATCH << 4 | base] + tail
                    return
        if k == K_REG:
            if base == FP and (-0x80000000 <= disp < -128 or 127 < disp <= 0x7FFFFFFF):
                a.buf += FRAME_STORE32[TSIZE[t]][v] + PACK_I32(disp)    # a frame slot far from rbp
            else:
                a.store(TSIZE[t], v, base, disp)
            self.free |= 1 << v
        elif t == V128:
            self._store_v128(k, v, idx, base, disp)
        elif k == K_CONST:
            if _fits_simm32(v, t):
                a.store_imm(TSIZE[t], imm32_of(v, t), base, disp)
            else:
                a.mov_ri(8, self.scratch, v)
                a.store(8, self.scratch, base, disp)
        elif k == K_LOCAL:
            # The type's size, never 8 for an i32/f32: its slot was written with a
            # 4-byte store, and a wider load of it stalls until that store commits
            # (no store-to-load forwarding), which cost sha256 a third of its time.
            a.copy_mem(TSIZE[t], self.scratch, self.fp, self.ldisp[v], base, disp)
        elif k == K_MEM:
            sd = self.slot_disp(idx)
            if base != self.fp or disp != sd:
                a.copy_mem(TSIZE[t], self.scratch, self.fp, sd, base, disp)
        else:
            r = self.alloc_gpr()
            a.setcc(v, r)
            a.movzx_rr(1, r, r)
            a.store(4, r, base, disp)
            self.free |= 1 << r

    def _store_v128(self, k, v, idx, base, disp):
        """A v128 not in a register: through a free XMM register (one 16-byte
        store, so a later 16-byte load of it is store-forwarded), else in two
        8-byte halves through the scratch GPR.  Never spills, so spilling loops
        may call it."""
        a = self.a
        sc = self.scratch
        if k == K_CONST or base != self.fp or disp != (self.local_disp(v) if k == K_LOCAL else self.slot_disp(idx)):
            r = self._try_alloc_other(True)
            if r is not None:
                if k == K_CONST:
                    a.load_fconst(16, r, v)
                else:
                    a.load(16, r, self.fp, self.local_disp(v) if k == K_LOCAL else self.slot_disp(idx))
                a.store(16, r, base, disp)
                self.free |= 1 << r
                return
        if base == sc:
            # The address is in the scratch register (an imported global): go
            # through an XMM register instead (not reached from spilling loops).
            r = self.alloc_xmm()
            self.load_value((k, V128, v), idx, r)
            a.store(16, r, base, disp)
            self.free |= 1 << r
            return
        if k == K_CONST:
            a.mov_ri(8, sc, v & 0xFFFFFFFFFFFFFFFF)
            a.store(8, sc, base, disp)
            a.mov_ri(8, sc, v >> 64)
            a.store(8, sc, base, disp + 8)
            return
        sd = self.local_disp(v) if k == K_LOCAL else self.slot_disp(idx)
        if base != self.fp or disp != sd:
            for h in (0, 8):
                a.load(8, sc, self.fp, sd + h)
                a.store(8, sc, base, disp + h)

    # ----------------------------------------------------------- push / pop
    def push_reg(self, t, r):
        self.stack.append((K_REG, t, r))

    def push_const(self, t, bits):
        self.stack.append((K_CONST, t, bits))

    def pop_reg(self):
        """Pop the top value into a register the caller owns (and must free or push)."""
        e = self.stack.pop()
        k = e[0]
        if k == K_REG:
            return e[2]
        t = e[1]
        if IS_FLOAT[t]:
            r = self.alloc_xmm()
        else:
            # alloc_gpr inlined (pop_reg runs for a third of all operators)
            free = self.free
            for r in self.gpr_alloc:
                if free >> r & 1:
                    self.free = free & ~(1 << r)
                    break
            else:
                r = self.alloc_gpr()
        # load_value inlined for the common cases, the bytes appended directly
        if k == K_LOCAL:
            rc = self.lreg[e[2]]        # looked up after the allocation (which may evict it)
            if rc >= 0 and r < 16:
                self.a.buf += (MOV_RR8 if TSIZE[t] == 8 else MOV_RR4)[rc << 4 | r]
                return r
            d = self.ldisp[e[2]]
            if -128 <= d <= 127:
                self.a.buf += FRAME_LOAD8[TSIZE[t]][r] + D8[d & 0xFF]
                return r
            if -0x80000000 <= d <= 0x7FFFFFFF:
                self.a.buf += FRAME_LOAD32[TSIZE[t]][r] + PACK_I32(d)
                return r
        elif k == K_MEM:
            i = len(self.stack)
            if i > self.max_slot:
                self.max_slot = i
            d = -self.slot_base - self.sstride * i
            if d >= -128:
                self.a.buf += FRAME_LOAD8[TSIZE[t]][r] + D8[d & 0xFF]
                return r
            if d >= -0x80000000:
                self.a.buf += FRAME_LOAD32[TSIZE[t]][r] + PACK_I32(d)
                return r
        elif k == K_CONST and r < 16 and e[2] <= 0xFFFFFFFF:
            self.a.buf += MOV_I32[r] + PACK_U32(e[2])       # mov r32, imm32 (zero-extends)
            return r
        self.load_value(e, len(self.stack), r)
        return r

    def pop_into(self, r):
        """Pop the top value into the specific register ``r`` (already claimed by the caller)."""
        e = self.stack.pop()
        self.load_value(e, len(self.stack), r)

    def pop_operand(self):
        """Pop the top entry for use as an operand: a K_MEM is loaded into a
        register (its slot belongs to the index, which the result reuses) and a
        K_CMP is materialized; K_CONST, K_LOCAL and K_REG come back as they are."""
        e = self.stack[-1]
        k = e[0]
        if k == K_MEM or k == K_CMP:
            return (K_REG, e[1], self.pop_reg())
        self.stack.pop()
        return e

    def to_reg(self, e):
        """A register the caller owns holding popped entry ``e`` (K_CONST/K_LOCAL/K_REG)."""
        if e[0] == K_REG:
            return e[2]
        r = self.alloc(e[1])
        self.load_value(e, -1, r)
        return r

    def materialize_cmp(self):
        """Turn a pending comparison (K_CMP, the top entry if any) into 0/1 in a register."""
        self.flags_live = False
        if not self.stack or self.stack[-1][0] != K_CMP:
            return
        e = self.stack[-1]
        r = self.alloc_gpr()
        self.a.buf += SETCC_ZX[e[2] << 4 | r]       # setcc r8; movzx r32, r8
        self.stack[-1] = (K_REG, I32, r)

    def drop_to(self, height):
        """Discard entries above ``height`` (freeing their registers)."""
        stack = self.stack
        if len(stack) > height:
            for e in stack[height:]:
                if e[0] == K_REG:
                    self.free |= 1 << e[2]
            del stack[height:]

    # ------------------------------------------------------------ spilling
    def spill_regs(self):
        """Spill every register-held value (before calls); locals and constants stay."""
        stack = self.stack
        for i, e in enumerate(stack):
            k = e[0]
            if k == K_REG:
                self.spill_entry(i)
            elif k == K_CMP:
                self.materialize_cmp()
                self.spill_entry(i)

    def spill_local_refs(self, local):
        """Before ``local.set local``: give lazy references to it their own copy."""
        stack = self.stack
        for i, e in enumerate(stack):
            if e[0] == K_LOCAL and e[2] == local:
                self.store_value(e, i, self.fp, self.slot_disp(i))
                stack[i] = (K_MEM, e[1], 0)

    def spill_for_block(self, params_from):
        """At a control-flow boundary: everything to its slot, except constants
        below ``params_from`` (they cannot change).  Flags are preserved."""
        stack = self.stack
        fp = self.fp
        i = 0
        for e in stack:
            k = e[0]
            if k != K_MEM and (k != K_CONST or i >= params_from):
                self.store_value(e, i, fp, self.slot_disp(i))
                stack[i] = (K_MEM, e[1], 0)
            i += 1

    def move_to_label(self, target_base, n):
        """Store the top ``n`` values into the slots ``target_base ..`` (a branch's
        values); flags are preserved.  Entries are not popped."""
        stack = self.stack
        first = len(stack) - n
        fp = self.fp
        for k in range(n):
            s = first + k
            e = stack[s]
            if e[0] == K_MEM and s == target_base + k:
                continue
            if e[0] == K_REG:
                # Keep the register owned by the entry: only the copy goes.
                self.a.store(TSIZE[e[1]], e[2], fp, self.slot_disp(target_base + k))
            else:
                self.store_value(e, s, fp, self.slot_disp(target_base + k))

    def copy_to_reg(self, e, idx, r):
        """Put entry ``e``'s value into ``r`` without taking it from its owner
        (a branch's copy: the fallthrough path keeps the entry)."""
        if e[0] == K_REG:
            if e[2] != r:
                if r >= 16:
                    self.a.movaps(r, e[2])
                else:
                    self.a.mov_rr(8, r, e[2])
        else:
            self.load_value(e, idx, r)

    def top_to_reg(self, r):
        """Make the top entry live in the specific register ``r`` (evicting another
        holder of ``r``); the entry stays on the stack.  Flags are preserved."""
        stack = self.stack
        e = stack[-1]
        if e[0] == K_REG and e[2] == r:
            return
        idx = len(stack) - 1
        stack.pop()
        self.claim(r)
        self.load_value(e, idx, r)
        stack.append((K_REG, e[1], r))

    def canonicalize_top(self, n):
        """Make the top ``n`` entries K_MEM in their own slots."""
        if not n:
            return
        stack = self.stack
        fp = self.fp
        for s in range(len(stack) - n, len(stack)):
            e = stack[s]
            if e[0] != K_MEM:
                self.store_value(e, s, fp, self.slot_disp(s))
                stack[s] = (K_MEM, e[1], 0)

    # --------------------------------------------------------------- traps
    def trap_if(self, cc, code):
        """Branch to an out-of-line stub that traps with ``code`` when ``cc`` holds."""
        self.trap_stubs.append((self.a.jcc_fixup(cc), code, self.offset))

    def trap_now(self, code):
        pc = self.a.trap_call(code, self.mc.trap_routines, self.origin)
        self.trap_sites.append((pc, code, self.offset))

    def record_call(self):
        """Record the return address of the call just emitted (for backtraces)."""
        self.pcmap.append((self.a.pos, self.offset))

    def emit_trap_stubs(self):
        self.a.trap_stubs(self.trap_stubs, self.trap_sites, self.mc.trap_routines, self.origin)
        self.trap_stubs = []

    # ------------------------------------------------------------ helpers
    def fuel_flush(self):
        """Charge the operators counted since the last flush to ``limits.fuel_consumed``
        (before every branch, call, return and label: Wasmtime's per-path accounting).
        Keeps the flags when a comparison is pending."""
        n = self.fuel_pending
        if n:
            self.fuel_pending = 0
            self.mc.emit_fuel_add(self, n)

    def set_unreachable(self):
        self.reachable = False
        if self.cmask:
            self.uncache_all()
        self.fuel_pending = 0       # flushed by the branch, or lost to a trap
        self.drop_to(self.frames[-1].base if self.frames else 0)
