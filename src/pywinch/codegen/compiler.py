"""The module compiler: one pass per function, then the module blob is linked.

``compile_module`` validates the module-level rules, then compiles every
defined function in one pass over its body: each operator is decoded and
validated, then handed to the visitor of its opcode code (a list indexed by
code).  The loop decodes and validates the frequent forms itself (wasm/'s
read_op and the validator's handlers take the rest and every error, so the
messages are the validator's); it emits the per-signature entry trampolines
and the shared trap routines, and lays everything out in one
position-independent blob.
"""

from __future__ import annotations

from .. import trampoline as tramp
from .. import vmoffsets as vo
from ..abi import wasm_sig
from ..compiled import EPOCH_INTERRUPT, CompiledModule
from ..errors import CompileError, InvalidError, MalformedError, TrapCode, UnsupportedError
from ..isa.x64 import cpu
from ..isa.x64.asm import link_rel32
from ..isa.x64.masm import HEAP_GUARD
from ..masm import for_host
from ..wasm import opcodes as op
from ..wasm import validate as _v
from ..wasm.leb128 import read_s32, read_s64, read_u32
from ..wasm.operators import ran_out, read_blocktype, read_op
from ..wasm.types import I32, I64, V128, VALTYPES
from ..wasm.validate import FuncValidator, check_module
from . import calls, control, convert, floats, integer, reference, simd_bits, simd_float, simd_int, simd_mem, variables
from .context import FRAME_FUNC, K_CONST, K_LOCAL, KEEPS_CACHE, Frame, FuncCompiler

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


# How the compile loop decodes and validates each single-byte opcode, tested
# in this order (the most frequent first): local.get, i32/i64.const, a fixed-type
# binary operator, local.tee, br_if, local.set, end, block/loop/if, a store, a
# load, a fixed-type unary operator, a u32 immediate and a validator handler,
# no immediate and a handler, anything else (read_op and the validator's step).
(_GET, _CONST, _FIX2, _TEE, _BR_IF, _SET, _END, _BLOCK, _STORE, _LOAD, _FIX1, _U32, _NONE,
 _OTHER) = _INLINE_KINDS = range(14)
_KIND = [_OTHER] * 256
for _c in range(256):
    _imm = op.IMMEDIATES[_c]
    _k = _v.CLASS[_c]
    if op.NAMES[_c] is None:
        continue
    if _imm == op.NONE and _k == _v.C_FIX2:
        _KIND[_c] = _FIX2
    elif _imm == op.NONE and _k == _v.C_FIX1:
        _KIND[_c] = _FIX1
    elif _k == _v.C_LOAD:
        _KIND[_c] = _LOAD
    elif _k == _v.C_STORE:
        _KIND[_c] = _STORE
    elif _imm in (op.LABEL, op.FUNC, op.GLOBAL):
        _KIND[_c] = _U32
    elif _imm == op.NONE and _v.HANDLERS[_c] is not None:
        _KIND[_c] = _NONE
for _name, _k in (("local.get", _GET), ("i32.const", _CONST), ("i64.const", _CONST), ("local.tee", _TEE),
                 ("br_if", _BR_IF), ("local.set", _SET), ("end", _END), ("block", _BLOCK), ("loop", _BLOCK),
                 ("if", _BLOCK)):
    _KIND[op.BY_NAME[_name]] = _k
del _c, _k, _imm
# With the visitors wrapped (fuel, opmap) local.get and the integer constants take the
# general path (the loop compiles them itself otherwise).
_KIND_WRAPPED = list(_KIND)
for _name in ("local.get", "i32.const", "i64.const"):
    _KIND_WRAPPED[op.BY_NAME[_name]] = _OTHER
del _name
VOPS = _v.OPS
VHANDLERS = _v.HANDLERS
v_end = _v.HANDLERS[op.END]
VFrame = _v.Frame
# The results of the one-byte block types (empty or one value type), by byte.
_BLOCK_RESULTS = [None] * 256
_BLOCK_RESULTS[0x40] = ()
for _t in VALTYPES:
    _BLOCK_RESULTS[_t] = (_t,)
del _t


def _malformed(data, off, body_end):
    """Raise the decoding error of the instruction at ``off``, which the loop
    found to overrun the body: read_op gives the stream's exact error."""
    read_op(data, off, body_end)
    raise AssertionError(f"read_op accepted the instruction at {off} the compile loop rejected")


class ModuleCompiler:
    """Module-wide state shared by the function compilers (``c.mc``)."""

    def __init__(self, module, ctx, fuel=False, epoch=False, opmap=False, heap_guard=0):
        self.masm_class, self.abi, self.regs = for_host()
        self.module = module
        self.ctx = ctx
        if heap_guard not in (0, HEAP_GUARD):
            raise CompileError(f"unsupported heap guard of {heap_guard} bytes")
        self.heap_guard = heap_guard      # read by variables.heap_guard
        self.types = module.types
        self.num_imported_funcs = module.num_imported_funcs
        self.global_types = module.global_types
        self.table_types = module.table_types
        self.fuel = fuel
        self.epoch = int(epoch)     # EPOCH_*; True means EPOCH_DEADLINE
        self.opmap = opmap
        self._opmap_table = None
        self._prologue_template = None    # see _prologue
        self.global_valtypes = [g.valtype for g in ctx.globals]
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
        self.gpr_mask = sum(1 << r for r in self.gpr_alloc)

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
        if self.epoch == EPOCH_INTERRUPT:
            # One compare with memory on the pinned vmctx: the Ctrl-C watcher
            # sets the flag in every instance of a store it interrupts.
            a.alu_mi(7, 4, 0, c.vmctx, vo.VMCTX_INTERRUPT)
            c.trap_if(self.regs.CC_NE, TrapCode.INTERRUPT)
            return
        if not limits_loaded:
            a.load(8, c.scratch, c.vmctx, vo.VMCTX_LIMITS)
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
        keeps = KEEPS_CACHE
        block_results = _BLOCK_RESULTS
        vops = VOPS
        handlers = VHANDLERS
        step = v.step
        apply_sig = v.apply_sig
        stack = c.stack
        ltypes = c.local_types
        # local.get and the integer constants (40% of all operators) are compiled
        # here too, without a call, unless the visitors are wrapped (fuel, opmap).
        kinds = _KIND_WRAPPED if self.fuel or self.opmap else _KIND
        vstack = v.stack                # the validator's lists keep their identity
        vpush = vstack.append
        ctrl = v.ctrl
        vlocals = v.locals
        nlocals = len(vlocals)
        height = 0                      # v.height, reloaded after calls that change it
        has_memory = self.ctx.num_memories > 0
        funcs = self.ctx.funcs
        nfuncs = len(funcs)
        global_types = self.global_valtypes
        nglobals = len(global_types)
        data = module.data
        pos = body.start
        body_end = body.end
        end = len(data)
        # The loop's constants as locals (a local load is cheaper than a global's).
        GET, CONST, FIX2, TEE, BR_IF, SET, END, BLOCK, STORE, LOAD, FIX1, U32, NONE, _ = _INLINE_KINDS
        i32, i64, loop_, if_, else_ = I32, I64, op.LOOP, op.IF, op.ELSE
        k_local, k_const = K_LOCAL, K_CONST
        # Decoding and validating the frequent forms inline is the loop's point:
        # a malformed immediate goes to read_op (the stream's exact errors), an
        # operand that is not the expected type to the validator's handler.
        while pos < body_end:
            off = pos
            code = data[pos]
            pos += 1
            k = kinds[code]
            if k == GET:
                if pos >= body_end:
                    _malformed(data, off, body_end)
                imm = data[pos]
                if imm & 0x80:
                    imm, pos = read_u32(data, pos, end)
                    if pos > body_end:
                        _malformed(data, off, body_end)
                else:
                    pos += 1
                if imm >= nlocals:
                    raise InvalidError(f"unknown local {imm}", off)
                vpush(vlocals[imm])
                if c.reachable:
                    if c.flags_live:
                        c.materialize_cmp()
                    tee = c.tee
                    if tee is None or tee[0] != imm:
                        # a lazy reference, no code
                        stack.append((k_local, ltypes[imm], imm))
                    else:
                        c.offset = off
                        table[code](c, imm)
                continue
            elif k == CONST:                # i32.const, i64.const
                if pos >= body_end:
                    _malformed(data, off, body_end)
                imm = data[pos]
                if imm & 0x80:
                    imm, pos = read_s32(data, pos, end) if code == 0x41 else read_s64(data, pos, end)
                    if pos > body_end:
                        _malformed(data, off, body_end)
                else:
                    pos += 1
                    if imm & 0x40:
                        imm -= 0x80
                if code == 0x41:
                    vpush(i32)
                    if c.reachable:
                        if c.flags_live:
                            c.materialize_cmp()
                        stack.append((k_const, i32, imm & 0xFFFFFFFF))
                else:
                    vpush(i64)
                    if c.reachable:
                        if c.flags_live:
                            c.materialize_cmp()
                        stack.append((k_const, i64, imm & 0xFFFFFFFFFFFFFFFF))
                continue
            elif k == FIX2:
                imm = None
                a, b, r = vops[code]
                if len(vstack) - 2 >= height and vstack[-1] == b and vstack[-2] == a:
                    del vstack[-1]
                    if r:
                        vstack[-1] = r
                    else:
                        del vstack[-1]
                else:
                    apply_sig(code, off)
            elif k <= SET:                 # local.tee, br_if, local.set
                if pos >= body_end:
                    _malformed(data, off, body_end)
                imm = data[pos]
                if imm & 0x80:
                    imm, pos = read_u32(data, pos, end)
                    if pos > body_end:
                        _malformed(data, off, body_end)
                else:
                    pos += 1
                if k == BR_IF:
                    if len(vstack) > height and vstack[-1] == i32 and imm < len(ctrl):
                        f = ctrl[-1 - imm]
                        if not (f.params if f.kind == loop_ else f.results):
                            del vstack[-1]
                        else:
                            handlers[code](v, imm, off)
                    else:
                        handlers[code](v, imm, off)
                elif imm < nlocals and len(vstack) > height and vstack[-1] == vlocals[imm]:
                    if k == SET:
                        del vstack[-1]
                else:
                    handlers[code](v, imm, off)
            elif k == END:
                f = ctrl[-1]
                res = f.results
                n = len(res)
                if (len(vstack) == height + n and len(ctrl) > 1 and (not n or n == 1 and vstack[-1] == res[0])
                        and (f.kind != if_ or f.params == res)):
                    # The block's results are on top, exactly: they stay.
                    del ctrl[-1]
                    height = v.height = ctrl[-1].height
                else:
                    v_end(v, None, off)
                    height = v.height
                if c.reachable:
                    if c.flags_live:
                        c.materialize_cmp()
                    c.offset = off
                    table[code](c, None)
                elif c.dead:
                    c.dead -= 1
                else:
                    c.offset = off
                    control.visit_end(c, None)
                if v.done:
                    if pos != body_end:
                        raise MalformedError("section size mismatch", pos)
                    break
                continue
            elif k == BLOCK:
                if pos >= body_end:
                    _malformed(data, off, body_end)
                b = data[pos]
                res = block_results[b]
                if res is not None and (code != if_ or len(vstack) > height and vstack[-1] == i32):
                    # No parameters, no or one result (and the if's condition on top).
                    imm = -b
                    pos += 1
                    if code == if_:
                        del vstack[-1]
                    height = v.height = len(vstack)
                    ctrl.append(VFrame(code, (), res, height))
                else:
                    imm, pos = read_blocktype(data, pos, end)
                    if pos > body_end:
                        _malformed(data, off, body_end)
                    handlers[code](v, imm, off)
                    height = v.height
                if not c.reachable:
                    c.dead += 1
                    continue
            elif k <= LOAD:                # store, load
                if pos + 1 >= body_end:
                    _malformed(data, off, body_end)
                a = data[pos]
                o = data[pos + 1]
                if (a | o) & 0x80:
                    a, pos = read_u32(data, pos, end)
                    o, pos = read_u32(data, pos, end)
                    if pos > body_end:
                        _malformed(data, off, body_end)
                else:
                    pos += 2
                imm = (a, o, 0)
                al, b, r = vops[code]
                if a <= al and has_memory and (
                        len(vstack) > height and vstack[-1] == i32 if k == LOAD else
                        len(vstack) - 2 >= height and vstack[-1] == b and vstack[-2] == i32):
                    if k == LOAD:
                        vstack[-1] = r
                    else:
                        del vstack[-2:]
                else:
                    handlers[code](v, imm, off)
            elif k == FIX1:
                imm = None
                a, b, r = vops[code]
                if len(vstack) > height and vstack[-1] == b:
                    if r:
                        vstack[-1] = r
                    else:
                        del vstack[-1]
                else:
                    apply_sig(code, off)
            elif k == U32:                 # br, call, global.get/set, ref.func
                if pos >= body_end:
                    _malformed(data, off, body_end)
                imm = data[pos]
                if imm & 0x80:
                    imm, pos = read_u32(data, pos, end)
                    if pos > body_end:
                        _malformed(data, off, body_end)
                else:
                    pos += 1
                if code == 0x0C and imm < len(ctrl):              # br
                    f = ctrl[-1 - imm]
                    if f.params if f.kind == loop_ else f.results:
                        handlers[code](v, imm, off)
                    else:
                        del vstack[height:]
                        ctrl[-1].unreachable = True
                elif code == 0x10 and imm < nfuncs:               # call
                    ft = funcs[imm]
                    params = ft.params
                    n = len(params)
                    if not n:
                        vstack.extend(ft.results)
                    elif len(vstack) - n >= height and tuple(vstack[-n:]) == params:
                        del vstack[-n:]
                        vstack.extend(ft.results)
                    else:
                        handlers[code](v, imm, off)
                elif code == 0x23 and imm < nglobals:             # global.get
                    vpush(global_types[imm])
                else:
                    handlers[code](v, imm, off)
            elif k == NONE:                # unreachable, else, return, drop, select, ref.is_null
                imm = None
                if code == 0x1A and len(vstack) > height:         # drop
                    del vstack[-1]
                else:
                    handlers[code](v, None, off)
                    height = v.height
                if code == else_ and not c.reachable:
                    if not c.dead:
                        c.offset = off
                        control.visit_else(c, None)
                    continue
            else:
                code, imm, pos = read_op(data, off, body_end)
                step(code, imm, off)
                height = v.height
                if not c.reachable:
                    continue
            if c.reachable:
                if c.flags_live and not fuses[code]:
                    c.materialize_cmp()
                if c.cmask and not keeps[code]:
                    c.uncache_for_op()
                c.offset = off
                table[code](c, imm)
        else:
            raise ran_out(data, pos)
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
        tpl = self._prologue_template
        if tpl is None:
            # Everything before the zeroing of the locals depends only on the
            # module (memory, fuel, epoch) and on a fresh FuncCompiler: the first
            # function's is kept and replayed for the others, its trap stubs
            # given each function's own offset.
            start = a.pos
            npatch = len(c.frame_patch)
            nstubs = len(c.trap_stubs)
            self._emit_prologue(c)
            tpl = self._prologue_template = (
                bytes(a.buf[start:]), [at - start for at in c.frame_patch[npatch:]],
                [(at - start, code) for at, code, _ in c.trap_stubs[nstubs:]],
                c.heap_load[0] - start, c.heap_load[1] - start, c.fuel_pending)
        else:
            code, patches, stubs, heap_start, heap_end, fuel_pending = tpl
            base = a.pos
            a.buf += code
            for at in patches:
                c.frame_patch.append(base + at)
            offset = c.offset
            for at, trap in stubs:
                c.trap_stubs.append((base + at, trap, offset))
            c.heap_load = (base + heap_start, base + heap_end)
            c.fuel_pending = fuel_pending
        if ndeclared:
            a.zero_qwords(self.abi.FP, *c.zero_area)

    def _emit_prologue(self, c):
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


# The entry trampolines of a signature depend on nothing else (given the host's
# CPU features): their bytes are kept across modules (wasi-libc programs share
# most of their signatures), as the assembler keeps its memory-access sequences.
_TRAMPOLINES: dict = {}
_MISSING = object()


def _entry_trampolines(ft):
    """(array_to_wasm, native_to_wasm or None) code of ``ft``'s entry trampolines;
    None when they cannot be built (UnsupportedError)."""
    key = (ft.params, ft.results, cpu.features())
    pair = _TRAMPOLINES.get(key, _MISSING)
    if pair is _MISSING:
        try:
            pair = (tramp.array_to_wasm(ft), tramp.native_to_wasm(ft))
        except UnsupportedError:
            pair = None
        if len(_TRAMPOLINES) >= 4096:       # bounded: a fuzzer's signatures are unbounded
            _TRAMPOLINES.clear()
        _TRAMPOLINES[key] = pair
    return pair


def compile_module(module, *, features=None, fuel=False, epoch=False, progress=None,
                   opmap=False, heap_guard=0) -> CompiledModule:
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
    ``heap_guard``: 0 (explicit bounds checks) or ``isa.x64.masm.HEAP_GUARD``
    (memories are guarded: loads and stores unchecked).
    """
    ctx = check_module(module)
    mc = ModuleCompiler(module, ctx, fuel=fuel, epoch=epoch, opmap=opmap, heap_guard=heap_guard)
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
            pair = _entry_trampolines(ft)
            if pair is None:
                continue
            arr, nat = pair
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
                          nimp, {"fuel": fuel, "epoch": mc.epoch, "heap_guard": mc.heap_guard, **(features or {})}, opmap=ops)
