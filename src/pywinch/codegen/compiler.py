"""The module compiler: one pass per function, then the module blob is linked.

``compile_module`` validates the module-level rules, then compiles every
defined function in one pass over its operators (validator step, then the
visitor of the operator from a list indexed by opcode code), emits the
per-signature entry trampolines and the shared trap routines, and lays
everything out in one position-independent blob.
"""

from __future__ import annotations

from .. import trampoline as tramp
from .. import vmoffsets as vo
from ..abi import wasm_sig
from ..compiled import EPOCH_INTERRUPT, CompiledModule
from ..errors import CompileError, TrapCode, UnsupportedError
from ..isa.x64.asm import link_rel32
from ..masm import for_host
from ..wasm import opcodes as op
from ..wasm.types import I32, V128
from ..wasm.validate import FuncValidator, check_module
from . import calls, control, convert, floats, integer, reference, simd_bits, simd_float, simd_int, simd_mem, variables
from .context import FRAME_FUNC, K_CONST, K_LOCAL, Frame, FuncCompiler

# --- dispatch tables ----------------------------------------------------------------


def _simd(c, imm):
    raise UnsupportedError("SIMD (v128) instructions are not supported yet")


def _build_table():
    table = [None] * op.NUM_CODES
    for code in range(op.FD_BASE, op.NUM_CODES):
        if op.NAMES[code] is not None:
            table[code] = _simd
    for mod in (control, variables, calls, integer, floats, convert, reference,
                simd_mem, simd_int, simd_float, simd_bits):
        mod.register(table)
    missing = [op.NAMES[i] for i in range(op.FD_BASE) if op.NAMES[i] is not None and table[i] is None]
    if missing:
        raise AssertionError(f"operators without a visitor: {missing}")
    return table


VISITORS = _build_table()


# Fuel cost per operator, as Wasmtime: control that creates no work is free.
FUEL_COST = [1] * op.NUM_CODES
for _c in (op.NOP, op.DROP, op.BLOCK, op.LOOP, op.ELSE, op.END, op.RETURN, op.UNREACHABLE):
    FUEL_COST[_c] = 0


def _fuel_table():
    """The visitors wrapped to count operators (only used when fuel is on, so the
    plain loop pays nothing)."""
    def wrap(cost, fn):
        if not cost:
            return fn

        def visit(c, imm):
            c.fuel_pending += cost
            fn(c, imm)
        return visit
    return [None if fn is None else wrap(FUEL_COST[code], fn) for code, fn in enumerate(VISITORS)]


_FUEL_VISITORS = None


def _opmap_table(base):
    """``base`` wrapped to record where each operator's code starts (debug map)."""
    def wrap(fn):
        def visit(c, imm):
            c.opmap.append((c.a.pos, c.offset))
            fn(c, imm)
        return visit
    return [None if fn is None else wrap(fn) for fn in base]
# Operators that consume a pending comparison (K_CMP) as flags.
FUSES = [False] * op.NUM_CODES
for _c in (op.BR_IF, op.IF, op.SELECT, op.SELECT_TYPED, 0x45):
    FUSES[_c] = True
_BLOCK_OPENERS = (op.BLOCK, op.LOOP, op.IF)


class ModuleCompiler:
    """Module-wide state shared by the function compilers (``c.mc``)."""

    def __init__(self, module, ctx, fuel=False, epoch=False, opmap=False):
        self.masm_class, self.abi, self.regs = for_host()
        self.module = module
        self.ctx = ctx
        self.types = module.types
        self.num_imported_funcs = module.num_imported_funcs
        self.global_types = module.global_types
        self.table_types = module.table_types
        self.fuel = fuel
        self.epoch = int(epoch)     # EPOCH_*; True means EPOCH_DEADLINE
        self.opmap = opmap
        self._opmap_table = None
        self.trap_routines = None   # blob offset of the trap routine per TrapCode (set by compile_module)
        self.func_offsets = []      # blob offsets of the defined functions placed so far
        m = module
        self.vmoffsets = vo.VMOffsets(
            num_types=len(m.types),
            num_imported_funcs=m.num_imported_funcs,
            num_imported_tables=m.num_imported_tables,
            num_imported_memories=m.num_imported_memories,
            num_imported_globals=m.num_imported_globals,
            num_defined_funcs=len(m.funcs),
            num_defined_tables=len(m.tables),
            num_defined_memories=len(m.memories),
            num_defined_globals=len(m.globals),
        )

        # Defined memories: (length disp, base disp) for the cached access sequences.
        vmo = self.vmoffsets
        self.fast_memory = {
            i: (vmo.memory_definition(i) + vo.MEMORY_LENGTH, vmo.memory_definition(i) + vo.MEMORY_BASE, -1)
            for i in range(m.num_imported_memories, m.num_imported_memories + len(m.memories))}

        # A memory's length is never below its declared minimum (imports match at least it).
        self.memory_min_bytes = [mt.limits.min * 65536 for mt in m.memory_types]
        # Memory 0's base stays in a pinned register (it never moves): loaded by
        # the prologue, reloaded after calls that may leave the instance.
        self.heap_base = None
        if m.num_imported_memories:
            self.heap_base = (vmo.memory_import(0), True)
        elif m.memories:
            self.heap_base = (vmo.memory_definition(0) + vo.MEMORY_BASE, False)
        if self.heap_base is not None:
            self.gpr_alloc = tuple(r for r in self.abi.GPR_ALLOC if r != self.abi.HEAP_BASE)
            if 0 in self.fast_memory:
                self.fast_memory[0] = self.fast_memory[0][:2] + (self.abi.HEAP_BASE,)
        else:
            self.gpr_alloc = self.abi.GPR_ALLOC

        self.func_sigs = [wasm_sig(ft) for ft in ctx.funcs]
        self.has_v128 = (any(V128 in t.params or V128 in t.results for t in m.types)
                         or any(g.valtype == V128 for g in m.global_types))

    def func_type(self, func_index):
        return self.ctx.funcs[func_index]

    def load_heap_base(self, c):
        """(Re)load the pinned memory-0 base register from the vmctx."""
        hb = self.heap_base
        if hb is None:
            return
        disp, imported = hb
        a = c.a
        if imported:
            a.load(8, self.abi.HEAP_BASE, c.vmctx, disp)
            a.load(8, self.abi.HEAP_BASE, self.abi.HEAP_BASE, vo.MEMORY_BASE)
        else:
            a.load(8, self.abi.HEAP_BASE, c.vmctx, disp)

    def placed_func(self, func_index):
        """Blob offset of a defined function already placed, else None (forward call)."""
        j = func_index - self.num_imported_funcs
        offs = self.func_offsets
        return offs[j] if 0 <= j < len(offs) else None

    @staticmethod
    def wasm_sig(ft):
        return wasm_sig(ft)

    # --- fuel and epoch hooks (emitted only when enabled) ------------------------------
    def emit_entry_checks(self, c, limits_loaded=False):
        """Function entry and loop headers: charge the pending fuel and trap when
        it runs out; trap when the epoch deadline has passed.  ``limits_loaded``:
        the scratch register already holds the limits pointer (the prologue's
        stack check loaded it), so neither check reloads it."""
        if self.fuel:
            a = c.a
            n = c.fuel_pending
            c.fuel_pending = 0
            if not limits_loaded:
                a.load(8, c.scratch, c.vmctx, vo.VMCTX_LIMITS)
                limits_loaded = True
            if n:
                a.alu_mi(0, 8, n, c.scratch, vo.LIMITS_FUEL_CONSUMED)    # add
            else:
                a.alu_mi(7, 8, 0, c.scratch, vo.LIMITS_FUEL_CONSUMED)    # cmp
            c.trap_if(self.regs.CC_GE, TrapCode.OUT_OF_FUEL)
        if self.epoch:
            self._epoch_check(c, limits_loaded)

    def emit_loop_checks(self, c):
        self.emit_entry_checks(c)

    def emit_fuel_add(self, c, n):
        """``limits.fuel_consumed += n`` without touching the flags when a
        comparison is pending (pushfq/popfq around the add)."""
        a = c.a
        a.load(8, c.scratch, c.vmctx, vo.VMCTX_LIMITS)
        if c.flags_live:
            a.pushf()
            a.alu_mi(0, 8, n, c.scratch, vo.LIMITS_FUEL_CONSUMED)
            a.popf()
        else:
            a.alu_mi(0, 8, n, c.scratch, vo.LIMITS_FUEL_CONSUMED)

    def _epoch_check(self, c, limits_loaded=False):
        a = c.a
        if not limits_loaded:
            a.load(8, c.scratch, c.vmctx, vo.VMCTX_LIMITS)
        if self.epoch == EPOCH_INTERRUPT:
            a.alu_mi(7, 8, 0, c.scratch, vo.LIMITS_EPOCH_DEADLINE)     # cmp [deadline], 0
            c.trap_if(self.regs.CC_E, TrapCode.INTERRUPT)
            return
        t = c.alloc_gpr()
        a.load(8, t, c.scratch, vo.LIMITS_EPOCH_COUNTER_PTR)
        a.load(8, t, t, 0)
        a.alu_rm(7, 8, t, c.scratch, vo.LIMITS_EPOCH_DEADLINE)
        c.free_reg(t)
        c.trap_if(self.regs.CC_AE, TrapCode.INTERRUPT)

    # --- one function ----------------------------------------------------------------
    def compile_function(self, defined_index, origin=0):
        module = self.module
        func_index = self.num_imported_funcs + defined_index
        body = module.codes[defined_index]
        ft = self.ctx.funcs[func_index]
        declared = body.local_types
        # 16-byte value-stack slots only where a v128 may appear.  A v128 comes
        # from a SIMD operator (a 0xFD prefix byte in the body: a cheap
        # over-approximation), a local, or a signature or global type (then a
        # block or select may carry it too).
        wide = self.has_v128 or V128 in declared or module.data.find(b"\xfd", body.start, body.end) >= 0
        v = FuncValidator(self.ctx, func_index, declared)
        c = FuncCompiler(self, func_index, ft, declared, v, origin, wide)
        c.offset = body.start
        self._prologue(c, len(declared))
        c.frames.append(Frame(FRAME_FUNC, (), ft.results, 0, -1))
        table = VISITORS
        if self.fuel:
            global _FUEL_VISITORS
            if _FUEL_VISITORS is None:
                _FUEL_VISITORS = _fuel_table()
            table = _FUEL_VISITORS
        if self.opmap:
            if self._opmap_table is None:
                self._opmap_table = _opmap_table(table)
            table = self._opmap_table
        fuses = FUSES
        step = v.step
        off = body.start
        stack = c.stack
        ltypes = c.local_types
        inline_get = not (self.fuel or self.opmap)
        # local.get and i32.const are 40% of all operators: validated and compiled
        # here without a call (the validator's step would only push the type).
        vpush = v.stack.append
        vlocals = v.locals
        nlocals = len(vlocals) if inline_get else 0
        for code, imm, off in module.operators(body):
            if code == 0x20 and imm < nlocals:
                vpush(vlocals[imm])
                if c.reachable:
                    if c.flags_live:
                        c.materialize_cmp()
                    tee = c.tee
                    if tee is None or tee[0] != imm:
                        # a lazy reference, no code
                        stack.append((K_LOCAL, ltypes[imm], imm))
                    else:
                        c.offset = off
                        table[code](c, imm)
                continue
            if code == 0x41 and inline_get:
                vpush(I32)
                if c.reachable:
                    if c.flags_live:
                        c.materialize_cmp()
                    stack.append((K_CONST, I32, imm & 0xFFFFFFFF))
                continue
            step(code, imm, off)
            if c.reachable:
                if c.flags_live and not fuses[code]:
                    c.materialize_cmp()
                c.offset = off
                table[code](c, imm)
            elif code in _BLOCK_OPENERS:
                c.dead += 1
            elif code == op.END:
                if c.dead:
                    c.dead -= 1
                else:
                    c.offset = off
                    control.visit_end(c, imm)
            elif code == op.ELSE and not c.dead:
                c.offset = off
                control.visit_else(c, imm)
        v.finish(off)
        c.emit_trap_stubs()
        frame = (c.slot_base + c.sstride * c.max_slot + c.max_out + 15) & -16
        if frame > 0x7FFFFFFF:
            raise CompileError(f"function {func_index}: frame of {frame} bytes is too large")
        for at in c.frame_patch:
            c.a.patch_imm32(at, frame)
        if not c.uses_heap and c.heap_load[1] > c.heap_load[0]:
            # The function never used the pinned base: its prologue load becomes a nop.
            c.a.nop_out(*c.heap_load)
        code = c.a.finalize()
        return code, c.a.relocs, c.trap_sites, c.pcmap, c.opmap

    def _prologue(self, c, ndeclared):
        a = c.a
        abi = self.abi
        regs = self.regs
        a.prologue()
        a.mov_rr(8, abi.VMCTX, abi.WASM_CALLEE_VMCTX)
        t = abi.RET_GPR
        a.load(8, abi.SCRATCH, abi.VMCTX, vo.VMCTX_LIMITS)
        a.mov_rr(8, t, abi.SP)
        c.frame_patch.append(a.sub_imm32_patchable(t))
        a.alu_rm(7, 8, t, abi.SCRATCH, vo.LIMITS_STACK_LIMIT)
        c.trap_if(regs.CC_B, TrapCode.STACK_OVERFLOW)
        a.mov_rr(8, abi.SP, t)
        a.store(8, abi.VMCTX, abi.FP, abi.FRAME_VMCTX_OFFSET)
        # Before the heap base and the zeroing, while the scratch register still
        # holds the limits pointer: the checks save a load (one per call).
        self.emit_entry_checks(c, limits_loaded=True)
        start = a.pos
        self.load_heap_base(c)
        c.heap_load = (start, a.pos)
        if ndeclared:
            a.zero_qwords(abi.FP, *c.zero_area)


def _trap_routines(masm_class, abi, regs):
    """The module's trap routines: returns (code, offsets) with the offset of the
    routine of each TrapCode (index = code; index 0 is the common tail).

    Each sets ecx = code and jumps to the common tail, which records the trap
    in the limits (code, pc = the caller's return address, fp) and unwinds to
    the entry trampoline: ``mov rsp, [limits.entry_sp]; ret``.  Code 0 is the
    tail itself (the code is already in ecx: a builtin's status).
    """
    a = masm_class()
    codes = sorted(v for k, v in vars(TrapCode).items() if k.isupper() and isinstance(v, int))
    offsets = [0] * (max(codes) + 1)
    common = a.new_label()
    for code in codes:
        offsets[code] = a.pos
        a.mov_ri(4, regs.RCX, code)
        a.jmp(common)
    a.align(16)
    a.bind(common)
    offsets[0] = a.pos
    a.pop_r(regs.RAX)
    a.load(8, regs.R11, abi.VMCTX, vo.VMCTX_LIMITS)
    a.store(4, regs.RCX, regs.R11, vo.LIMITS_TRAP_CODE)
    a.store(8, regs.RAX, regs.R11, vo.LIMITS_TRAP_PC)
    a.store(8, regs.RBP, regs.R11, vo.LIMITS_TRAP_FP)
    a.load(8, regs.RSP, regs.R11, vo.LIMITS_ENTRY_SP)
    a.ret()
    return a.finalize(), offsets


def compile_module(module, *, features=None, fuel=False, epoch=False, progress=None,
                   opmap=False) -> CompiledModule:
    """Validate and compile a decoded module (``pywinch.wasm.module.Module``).

    Each function is validated and compiled in the same pass, operator by
    operator.  Raises ``InvalidError``/``MalformedError`` for a bad module,
    ``UnsupportedError`` for what pywinch cannot compile yet (SIMD).
    ``fuel``/``epoch`` emit the checks at function entries and loop headers
    (no code at all when off; ``epoch`` is one of ``pywinch.compiled.EPOCH_*``,
    True meaning EPOCH_DEADLINE).  ``progress(done, total)`` is called after each
    function.  ``features`` is recorded in the result (reserved).  ``opmap``
    records where the code of every compiled operator starts
    (``CompiledModule.opmap``, for ``pywinch explore``; costs compile time).
    """
    ctx = check_module(module)
    mc = ModuleCompiler(module, ctx, fuel=fuel, epoch=epoch, opmap=opmap)
    # The trap routines come first, so every trap stub is resolved as it is emitted.
    blob, routines = _trap_routines(mc.masm_class, mc.abi, mc.regs)
    blob = bytearray(blob)
    mc.trap_routines = routines
    func_offsets = mc.func_offsets
    func_ends = []
    relocs, traps, pcmap, ops = [], [], [], []
    ndef = len(module.funcs)
    for j in range(ndef):
        blob += b"\xcc" * (-len(blob) & 15)
        base = len(blob)
        code, frelocs, ftraps, fpcmap, fops = mc.compile_function(j, base)
        func_offsets.append(base)
        blob += code
        func_ends.append(len(blob))
        if frelocs:
            relocs.extend([(base + at, key) for at, key in frelocs])
        traps.extend([(base + pc, tc, off) for pc, tc, off in ftraps])
        pcmap.extend([(base + pc, off) for pc, off in fpcmap])
        if fops:
            ops.extend([(base + pc, off) for pc, off in fops])
        if progress is not None:
            progress(j + 1, ndef)
    # Entry trampolines, one per distinct signature of a defined function.
    trampolines = {}
    by_sig = {}
    for ti in sorted(set(module.funcs)):
        ft = module.types[ti]
        key = (ft.params, ft.results)
        offs = by_sig.get(key)
        if offs is None:
            try:
                arr = tramp.array_to_wasm(ft)
                nat = tramp.native_to_wasm(ft)
            except UnsupportedError:
                continue
            blob += b"\xcc" * (-len(blob) & 15)
            a_off = len(blob)
            blob += arr
            n_off = -1
            if nat is not None:
                blob += b"\xcc" * (-len(blob) & 15)
                n_off = len(blob)
                blob += nat
            offs = by_sig[key] = (a_off, n_off)
        trampolines[ti] = offs
    nimp = module.num_imported_funcs
    for at, key in relocs:
        if key[0] == "func":
            target = func_offsets[key[1] - nimp]
        else:
            target = routines[key[1]]
        link_rel32(blob, at, target)
    names = dict(module.names.functions) if module.names else {}
    return CompiledModule(bytes(blob), func_offsets, func_ends, trampolines, traps, pcmap, names,
                          nimp, {"fuel": fuel, "epoch": mc.epoch, **(features or {})}, opmap=ops)
