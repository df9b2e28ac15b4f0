"""Locals, globals, constants and linear memory (loads, stores, size, grow, bulk ops)."""

from __future__ import annotations

from .. import vmoffsets as vo
from ..errors import CompileError, TrapCode
from ..isa.x64.gpr import D8, FRAME_STORE8, MOV_RR4, MOV_RR8
from ..isa.x64.masm import HEAP_GUARD
from ..wasm import opcodes as op
from ..wasm.types import F32, F64, I32, I64
from .calls import call_builtin
from .context import IS_FLOAT, K_CONST, K_LOCAL, K_MEM, K_REG, TSIZE

# --- constants -------------------------------------------------------------------


def visit_i32_const(c, imm):
    c.stack.append((K_CONST, I32, imm & 0xFFFFFFFF))


def visit_i64_const(c, imm):
    c.stack.append((K_CONST, I64, imm & 0xFFFFFFFFFFFFFFFF))


def visit_f32_const(c, imm):
    c.stack.append((K_CONST, F32, imm))


def visit_f64_const(c, imm):
    c.stack.append((K_CONST, F64, imm))


# --- locals --------------------------------------------------------------------------


def visit_local_get(c, idx):
    tee = c.tee
    if tee is not None and tee[0] == idx:
        stack = c.stack
        i = tee[1]
        if i < len(stack) and stack[i] is tee[2]:
            # The local's value is still in the register its local.tee left it in.
            t = tee[2][1]
            src = tee[2][2]
            if src >= 16:
                r = c.alloc_xmm()
                c.a.movaps(r, src)
            else:
                r = c.alloc_gpr()
                c.a.mov_rr(8, r, src)
            stack.append((K_REG, t, r))
            return
    c.stack.append((K_LOCAL, c.local_types[idx], idx))


# A lazy local reference may carry the local's type or, after a reinterpret,
# the other type of the same width.
_TWIN = {I32: F32, F32: I32, I64: F64, F64: I64}


# A local is cached only while this many GPRs stay truly free, so the
# allocator's fast path (a free register) keeps hitting and pressure-heavy code
# compiles as before; loops get theirs from the preload (control.py).
_KEEP_FREE = 4


def _store_local(c, idx, keep):
    """Store the top value to local ``idx``; pop it unless ``keep``.  A value in
    a GPR stays cached as the local's (write-through: the slot is stored too),
    and a kept one becomes a lazy reference to the local, read from that register."""
    stack = c.stack
    t = c.local_types[idx]
    # Membership is a C-level scan: only walk the stack when a reference exists.
    if (K_LOCAL, t, idx) in stack or (K_LOCAL, _TWIN.get(t), idx) in stack:
        c.spill_local_refs(idx)
    tee = c.tee
    if tee is not None and tee[0] == idx:
        c.tee = None
    e = stack[-1]
    disp = c.ldisp[idx]
    k = e[0]
    if k == K_LOCAL and e[2] == idx:
        if not keep:
            stack.pop()
        return
    lreg = c.lreg
    r = lreg[idx]
    if r >= 0:
        # The slot changes: the old cached value is stale (after the reads above).
        # (uncache_reg inlined)
        lreg[idx] = -1
        c.cmask &= ~(1 << r)
        c.free |= 1 << r
    if k == K_REG:
        r = e[2]
        if -128 <= disp <= 127:
            c.a.buf += FRAME_STORE8[TSIZE[t]][r] + D8[disp & 0xFF]
        else:
            c.a.store(TSIZE[t], r, c.fp, disp)
        if r < 16 and (c.free & c.gmask).bit_count() >= _KEEP_FREE:
            # cache_local inlined: r stays out of the free mask, now the cache's
            lreg[idx] = r
            c.rloc[r] = idx
            c.cmask |= 1 << r
            if keep:
                stack[-1] = (K_LOCAL, t, idx)
            else:
                stack.pop()
            return
        if not keep:
            stack.pop()
            c.free |= 1 << r
        elif TSIZE[t] <= 8:
            c.tee = (idx, len(stack) - 1, e)
        return
    if ((k == K_LOCAL or k == K_MEM) and not keep and not IS_FLOAT[t] and TSIZE[t] <= 8
            and (c.free & c.gmask).bit_count() >= _KEEP_FREE):
        # A copy through a free register instead of the scratch one: the local stays cached.
        r = c.pop_reg()
        c.a.store(TSIZE[t], r, c.fp, disp)
        _cache(c, idx, t, r)
        return
    if k == K_CONST or not keep:
        stack.pop()
        c.store_value(e, len(stack), c.fp, disp)
        if keep:
            stack.append(e)
        return
    # keep a K_MEM/K_LOCAL/K_CMP value: load it once, store it, keep the register.
    r = c.pop_reg()
    c.a.store(TSIZE[t], r, c.fp, disp)
    if r < 16 and (c.free & c.gmask).bit_count() >= _KEEP_FREE:
        _cache(c, idx, t, r)
        stack.append((K_LOCAL, t, idx))
        return
    e = (K_REG, t, r)
    stack.append(e)
    if TSIZE[t] <= 8:
        c.tee = (idx, len(stack) - 1, e)


def _cache(c, idx, t, r):
    """Local ``idx`` (just stored from GPR ``r``, which the caller gives up) is
    cached in ``r``; a loop's back-edge moves it to the loop's register
    (control.conform_both) rather than every store."""
    c.cache_local(idx, r)


def visit_local_set(c, idx):
    _store_local(c, idx, False)


def visit_local_tee(c, idx):
    _store_local(c, idx, True)


# --- globals ------------------------------------------------------------------------


def _global_addr(c, idx):
    """``(base, disp)`` of global ``idx``'s value (an imported one through its pointer)."""
    vmo = c.mc.vmoffsets
    if idx < vmo.num_imported_globals:
        c.a.load(8, c.scratch, c.vmctx, vmo.global_import(idx))
        return c.scratch, 0
    return c.vmctx, vmo.global_definition(idx)


def visit_global_get(c, idx):
    t = c.mc.global_types[idx].valtype
    r = c.alloc(t)
    base, disp = _global_addr(c, idx)
    c.a.load(TSIZE[t], r, base, disp)
    c.stack.append((K_REG, t, r))


def visit_global_set(c, idx):
    t = c.mc.global_types[idx].valtype
    e = c.stack[-1]
    if e[0] == K_CONST:
        c.stack.pop()
        base, disp = _global_addr(c, idx)
        if base == c.scratch and TSIZE[t] == 8 and not (e[2] < 0x80000000 or e[2] >= 0xFFFFFFFF80000000):
            r = c.alloc_gpr()
            c.a.mov_ri(8, r, e[2])
            c.a.store(8, r, base, disp)
            c.free |= 1 << r
        else:
            c.store_value(e, len(c.stack), base, disp)
        return
    r = c.pop_reg()
    base, disp = _global_addr(c, idx)
    c.a.store(TSIZE[t], r, base, disp)
    c.free |= 1 << r


# --- linear memory ------------------------------------------------------------------


def memory_def(c, mem):
    """``(base_reg, disp)`` of memory ``mem``'s VMMemoryDefinition.  For an
    imported memory the pointer is loaded into a fresh register the caller frees
    (returned as third element), else the third element is -1."""
    vmo = c.mc.vmoffsets
    if mem < vmo.num_imported_memories:
        r = c.alloc_gpr()
        c.a.load(8, r, c.vmctx, vmo.memory_import(mem))
        return r, 0, r
    return c.vmctx, vmo.memory_definition(mem), -1


def _address(c, memarg, size):
    """Pop an i32 address, check ``addr + offset + size <= length`` (64-bit), and
    return ``(base, disp, index, temps)`` of the access: ``[base + index + disp]``.
    ``temps`` are registers to free after the access."""
    _align, offset, mem = memarg
    a = c.a
    scratch = c.scratch
    e = c.stack[-1]
    mbase, mdisp, tmp = memory_def(c, mem)
    end = offset + size
    if e[0] == K_CONST:
        c.stack.pop()
        ea = e[2] + offset
        if ea + size <= 0x7FFFFFFF:
            # Memories never shrink below their declared minimum: no check needed there.
            if ea + size > c.mc.memory_min_bytes[mem]:
                a.alu_mi(7, 8, ea + size, mbase, mdisp + vo.MEMORY_LENGTH)   # cmp [len], end
                c.trap_if(c.cc.CC_B, TrapCode.HEAP_OUT_OF_BOUNDS)
            if tmp >= 0:
                c.free |= 1 << tmp
            fast = c.mc.fast_memory.get(mem)
            if fast is not None and fast[2] >= 0:
                c.uses_heap = True
                return fast[2], ea, -1, ()
            a.load_fixed(8, scratch, mbase, mdisp + vo.MEMORY_BASE)
            return scratch, ea, -1, ()
        c.push_const(I32, e[2])
    addr = c.pop_reg()
    if tmp < 0 and end <= 0x7FFFFFFF:
        # The common case, with cached encodings: defined memory, small offset.
        a.heap_check(addr, end, mbase, mdisp + vo.MEMORY_LENGTH, scratch)
        c.trap_stubs.append((a.jcc_fixup(7), TrapCode.HEAP_OUT_OF_BOUNDS, c.offset))   # ja
        fast = c.mc.fast_memory.get(mem)
        if fast is not None and fast[2] >= 0:
            c.uses_heap = True
            return fast[2], offset, addr, (addr,)
        a.load_fixed(8, scratch, mbase, mdisp + vo.MEMORY_BASE)
        return scratch, offset, addr, (addr,)
    if end <= 0x7FFFFFFF:
        a.lea(8, scratch, addr, end)
    else:
        a.mov_ri(8, scratch, end)
        a.alu_rr(0, 8, scratch, addr)
    a.alu_rm(7, 8, scratch, mbase, mdisp + vo.MEMORY_LENGTH)            # cmp end, [len]
    c.trap_if(c.cc.CC_A, TrapCode.HEAP_OUT_OF_BOUNDS)
    a.load(8, scratch, mbase, mdisp + vo.MEMORY_BASE)
    temps = (addr,) if tmp < 0 else (addr, tmp)
    if offset <= 0x7FFFFFFF:
        return scratch, offset, addr, temps
    a.alu_rr(0, 8, scratch, addr)
    a.mov_ri(8, addr, offset)
    return scratch, 0, addr, temps


def heap_guard(c):
    """Bytes of guard past the 4 GiB index space of every memory the code may
    meet (0: explicit checks; the API asks for HEAP_GUARD when the engine has
    Config.signals_based_traps): ``compile_module(heap_guard=...)``."""
    return c.mc.heap_guard


def _guarded_base(c, mem):
    """``(mbase, base_disp, heap_reg)`` for :meth:`heap_access_guarded`: memory 0
    through its pinned base register, another defined memory through its
    definition in the vmctx, an imported one through its import pointer
    (loaded into the scratch register here)."""
    mc = c.mc
    if mem == 0 and mc.heap_base is not None:
        c.uses_heap = True
        return c.vmctx, 0, c.abi.HEAP_BASE
    fast = mc.fast_memory.get(mem)
    if fast is not None:
        return c.vmctx, fast[1], -1
    c.a.load(8, c.scratch, c.vmctx, mc.vmoffsets.memory_import(mem))
    return c.scratch, vo.MEMORY_BASE, -1


def _guarded_site(c, at):
    """Record the unchecked access at ``at`` as a trap site.  The fault handler
    reports ``at + 1`` as the trap pc: inside the instruction, so it is never
    the return address of a call and ``trap_at`` finds this operator."""
    c.trap_sites.append((at + 1, TrapCode.HEAP_OUT_OF_BOUNDS, c.offset))


def _guarded_const(c, memarg, size):
    """A constant address on a guarded memory: ``(base, disp)`` of the access,
    or None when the effective address does not fit a disp32 (explicit check)."""
    e = c.stack[-1]
    ea = e[2] + memarg[1]
    if ea + size > 0x7FFFFFFF:
        return None
    c.stack.pop()
    mbase, base_disp, hr = _guarded_base(c, memarg[2])
    if hr >= 0:
        return hr, ea
    c.a.load(8, c.scratch, mbase, base_disp)
    return c.scratch, ea


# code -> (access size, result type, sign-extend?)
_LOADS = {
    0x28: (4, I32, False), 0x29: (8, I64, False), 0x2A: (4, F32, False), 0x2B: (8, F64, False),
    0x2C: (1, I32, True), 0x2D: (1, I32, False), 0x2E: (2, I32, True), 0x2F: (2, I32, False),
    0x30: (1, I64, True), 0x31: (1, I64, False), 0x32: (2, I64, True), 0x33: (2, I64, False),
    0x34: (4, I64, True), 0x35: (4, I64, False),
}
_STORES = {0x36: 4, 0x37: 8, 0x38: 4, 0x39: 8, 0x3A: 1, 0x3B: 2, 0x3C: 1, 0x3D: 2, 0x3E: 4}


def _make_load(code):
    size, t, signed = _LOADS[code]
    float_ = IS_FLOAT[t]
    dsize = TSIZE[t]
    acc = ("load", size, dsize, signed)
    limit = 0x7FFFFFFF - size

    def visit(c, memarg):
        if memarg[1] <= limit and heap_guard(c):
            # No bounds check: an out-of-bounds access faults in the guard.
            a = c.a
            if c.stack[-1][0] != K_CONST:
                addr = c.pop_reg()      # a zero-extended u32 (every i32 producer writes 32 bits)
                r = c.alloc_xmm() if float_ else addr
                mbase, base_disp, hr = _guarded_base(c, memarg[2])
                _guarded_site(c, a.heap_access_guarded(acc, r, addr, memarg[1], mbase, base_disp,
                                                       c.scratch, hr))
                if float_:
                    c.free |= 1 << addr
                c.stack.append((K_REG, t, r))
                return
            r = c.alloc(t)
            at = _guarded_const(c, memarg, size)
            if at is None:
                c.free |= 1 << r
            else:
                pos = a.pos
                if float_:
                    a.load(size, r, at[0], at[1])
                elif signed:
                    a.load_sx(size, dsize, r, at[0], at[1])
                else:
                    a.load_zx(size, r, at[0], at[1])
                _guarded_site(c, pos)
                c.stack.append((K_REG, t, r))
                return
        fast = c.mc.fast_memory.get(memarg[2]) if memarg[1] <= limit and c.stack[-1][0] != K_CONST else None
        if fast is not None:
            addr = c.pop_reg()
            # An integer result reuses the address register.
            r = c.alloc_xmm() if float_ else addr
            at = c.a.heap_access(acc, r, addr, memarg[1], c.vmctx, fast[0], fast[1], c.scratch, fast[2])
            c.uses_heap = True
            c.trap_stubs.append((at, TrapCode.HEAP_OUT_OF_BOUNDS, c.offset))
            if float_:
                c.free |= 1 << addr
            c.stack.append((K_REG, t, r))
            return
        base, disp, index, temps = _address(c, memarg, size)
        for r in temps:
            c.free |= 1 << r
        r = c.alloc(t)
        a = c.a
        if float_:
            a.load(size, r, base, disp, index)
        elif signed:
            a.load_sx(size, dsize, r, base, disp, index)
        else:
            a.load_zx(size, r, base, disp, index)
        c.stack.append((K_REG, t, r))
    return visit


def _make_store(code):
    size = _STORES[code]
    acc = ("store", size)
    limit = 0x7FFFFFFF - size

    def visit(c, memarg):
        stack = c.stack
        v = stack[-1]
        if memarg[1] <= limit and heap_guard(c) and (v[0] != K_CONST or size < 8 or _simm32(v[2])):
            # No bounds check: an out-of-bounds access faults in the guard.
            a = c.a
            if v[0] == K_CONST:
                stack.pop()
                vr = None
                bits = _store_imm(v[2], size)
            else:
                vr = c.pop_reg()
            if stack[-1][0] != K_CONST:
                addr = c.pop_reg()      # a zero-extended u32 (every i32 producer writes 32 bits)
                mbase, base_disp, hr = _guarded_base(c, memarg[2])
                if vr is None:
                    if hr < 0:
                        a.load(8, c.scratch, mbase, base_disp)
                        hr = c.scratch
                    pos = a.pos
                    a.store_imm(size, bits, hr, memarg[1], addr)
                    _guarded_site(c, pos)
                else:
                    _guarded_site(c, a.heap_access_guarded(acc, vr, addr, memarg[1], mbase, base_disp,
                                                           c.scratch, hr))
                    c.free |= 1 << vr
                c.free |= 1 << addr
                return
            at = _guarded_const(c, memarg, size)
            if at is not None:
                pos = a.pos
                if vr is None:
                    a.store_imm(size, bits, at[0], at[1])
                else:
                    a.store(size, vr, at[0], at[1])
                    c.free |= 1 << vr
                _guarded_site(c, pos)
                return
            # A constant address too large for a disp32: the checked path below.
            if vr is None:
                stack.append(v)
            else:
                stack.append((K_REG, v[1], vr))
                v = stack[-1]
        if v[0] == K_CONST:
            stack.pop()
            base, disp, index, temps = _address(c, memarg, size)
            bits = v[2] & ((1 << (8 * size)) - 1)
            if size == 8 and not (bits < 0x80000000 or bits >= 0xFFFFFFFF80000000):
                r = c.alloc_gpr()
                c.a.mov_ri(8, r, bits)
                c.a.store(8, r, base, disp, index)
                c.free |= 1 << r
            else:
                if size == 8 and bits >= 1 << 63:
                    bits -= 1 << 64
                elif size == 4 and bits >= 1 << 31:
                    bits -= 1 << 32
                c.a.store_imm(size, bits, base, disp, index)
            for r in temps:
                c.free |= 1 << r
            return
        vr = c.pop_reg()
        fast = c.mc.fast_memory.get(memarg[2]) if memarg[1] <= limit and stack[-1][0] != K_CONST else None
        if fast is not None:
            addr = c.pop_reg()
            at = c.a.heap_access(acc, vr, addr, memarg[1], c.vmctx, fast[0], fast[1], c.scratch, fast[2])
            c.uses_heap = True
            c.trap_stubs.append((at, TrapCode.HEAP_OUT_OF_BOUNDS, c.offset))
            c.free |= 1 << vr
            c.free |= 1 << addr
            return
        base, disp, index, temps = _address(c, memarg, size)
        c.a.store(size, vr, base, disp, index)
        c.free |= 1 << vr
        for r in temps:
            c.free |= 1 << r
    return visit


def _simm32(bits):
    """An 8-byte constant storable as a sign-extended imm32."""
    return bits < 0x80000000 or bits >= 0xFFFFFFFF80000000


def _store_imm(bits, size):
    """The signed immediate ``store_imm`` takes for the low ``size`` bytes of ``bits``."""
    bits &= (1 << (8 * size)) - 1
    if size == 8 and bits >= 1 << 63:
        return bits - (1 << 64)
    if size == 4 and bits >= 1 << 31:
        return bits - (1 << 32)
    return bits


def visit_memory_size(c, mem):
    base, disp, tmp = memory_def(c, mem)
    r = c.alloc_gpr()
    c.a.load(8, r, base, disp + vo.MEMORY_LENGTH)
    c.a.shift_ri(5, 8, r, 16)    # shr r, 16
    if tmp >= 0:
        c.free |= 1 << tmp
    c.stack.append((K_REG, I32, r))


def visit_memory_grow(c, mem):
    r = call_builtin(c, vo.BUILTIN_MEMORY_GROW, [("imm", mem), ("pop", None)], result=True)
    c.a.mov_rr(4, r, r)   # -1 (i64) becomes 0xFFFFFFFF; old page counts fit 32 bits
    c.stack.append((K_REG, I32, r))


def visit_memory_fill(c, mem):
    call_builtin(c, vo.BUILTIN_MEMORY_FILL, [("imm", mem), ("pop", 3)], status=True)


def visit_memory_copy(c, imm):
    dst, src = imm
    call_builtin(c, vo.BUILTIN_MEMORY_COPY, [("imm", dst), ("imm", src), ("pop", 3)], status=True)


def visit_memory_init(c, imm):
    data, mem = imm
    call_builtin(c, vo.BUILTIN_MEMORY_INIT, [("imm", mem), ("imm", data), ("pop", 3)], status=True)


def visit_data_drop(c, data):
    call_builtin(c, vo.BUILTIN_DATA_DROP, [("imm", data)])


def register(table):
    table[0x41] = visit_i32_const
    table[0x42] = visit_i64_const
    table[0x43] = visit_f32_const
    table[0x44] = visit_f64_const
    table[0x20] = visit_local_get
    table[0x21] = visit_local_set
    table[0x22] = visit_local_tee
    table[0x23] = visit_global_get
    table[0x24] = visit_global_set
    for code in _LOADS:
        table[code] = _make_load(code)
    for code in _STORES:
        table[code] = _make_store(code)
    table[0x3F] = visit_memory_size
    table[0x40] = visit_memory_grow
    table[op.FC_BASE + 8] = visit_memory_init
    table[op.FC_BASE + 9] = visit_data_drop
    table[op.FC_BASE + 10] = visit_memory_copy
    table[op.FC_BASE + 11] = visit_memory_fill
