"""The WebAssembly 2.0 validator.

Two ways in:

- ``validate_module(module) -> ModuleContext`` validates a decoded module on
  its own: the module-level rules (modcheck.py), then every function body.
- The compiler validates *while* it generates code, one operator at a time::

      ctx = check_module(module)                 # module-level rules, once
      v = FuncValidator(ctx, func_index)
      for code, imm, offset in module.operators(body):
          v.step(code, imm, offset)              # raises InvalidError
          ...generate code...                    # may read v's state

  (codegen/compiler.py decodes and validates the frequent instructions
  itself with the tables CLASS, OPS and HANDLERS below, and calls ``step``
  for the others.)  After ``step`` the compiler may read ``v.unreachable`` (the code that
  follows is dead until the enclosing block ends), ``v.block_type(imm)``
  (a BLOCKTYPE immediate as a FuncType), ``v.label_types(depth)`` (the
  values a branch to ``depth`` carries), ``v.frame_kind(depth)``,
  ``v.locals`` (the types of parameters then declared locals), ``v.done``
  (the body's final ``end`` was checked) and ``v.stack`` (the operand types;
  ``UNKNOWN`` marks a value of unreachable code).

Rejections raise ``InvalidError(message, offset)`` in the specification's
words ("type mismatch", "unknown local 3", ...).  A function body whose
structure the binary grammar forbids (``else`` outside ``if``, ``memory.init``
without a data count section) raises ``MalformedError``.

The algorithm is the specification's appendix one (operand and control
stacks, polymorphic stack after unconditional branches), with frames on an
explicit list, so any nesting depth validates without recursion.  Dispatch is
a list indexed by opcode code; instructions of fixed type (opcodes.SIGS) go
through one fast path in ``step``.
"""

from __future__ import annotations

from ..errors import InvalidError, MalformedError
from . import opcodes as op
from .modcheck import ModuleContext, check_module
from .module import Module
from .operators import BLOCK_EMPTY
from .types import EXTERNREF, F32, F64, FUNCREF, I32, I64, V128, FuncType

UNKNOWN = 0          # the type of a value popped from the polymorphic stack
FUNC_FRAME = -1      # frame kind of the function body itself

_LETTER = {"i": I32, "I": I64, "f": F32, "F": F64, "v": V128}
_EMPTY_FT = FuncType((), ())
_SINGLE_FT = {t: FuncType((), (t,)) for t in (I32, I64, F32, F64, V128, FUNCREF, EXTERNREF)}


def _sig(s: str):
    params, results = s.split(":")
    return [_LETTER[c] for c in params], (_LETTER[results] if results else 0)


# Fast paths.  _CLASS sorts codes for the dispatch in step() and
# validate_function(): 0/1/2 fixed typing with 2/1/0 operands (no immediate to
# check), 3 local.get, 4 local.set, 5 local.tee, 6 a load (memarg, i32 -> r),
# 7 a store (memarg, [i32 t] -> []), 8 everything else (a handler).
# _OPS[code] = (a, b, r): deeper and top operand types, result type or 0;
# for loads and stores a is the natural alignment.
C_FIX2, C_FIX1, C_FIX0, C_LOCAL_GET, C_LOCAL_SET, C_LOCAL_TEE, C_LOAD, C_STORE, C_OTHER = range(9)
_CLASS: list = [C_OTHER] * op.NUM_CODES
_OPS: list = [None] * op.NUM_CODES
_SIGTAB: list = [None] * op.NUM_CODES
for _code in range(op.NUM_CODES):
    _s = op.SIGS[_code]
    if _s is None:
        continue
    _p, _r = _sig(_s)
    _SIGTAB[_code] = (_p, len(_p), _r)
    _imm = op.IMMEDIATES[_code]
    if _imm in (op.NONE, op.I32, op.I64, op.F32, op.F64, op.V128) and len(_p) <= 2:
        _CLASS[_code] = (C_FIX0, C_FIX1, C_FIX2)[len(_p)]
        _OPS[_code] = ((_p[0] if len(_p) == 2 else 0), (_p[-1] if _p else 0), _r)
    elif _imm == op.MEMARG and _code < op.FC_BASE:
        # The scalar loads and stores (SIMD ones take the general path).
        _CLASS[_code] = C_LOAD if _r else C_STORE
        _OPS[_code] = (op.NATURAL_ALIGN[_code], _p[-1], _r)
_CLASS[op.BY_NAME["local.get"]] = C_LOCAL_GET
_CLASS[op.BY_NAME["local.set"]] = C_LOCAL_SET
_CLASS[op.BY_NAME["local.tee"]] = C_LOCAL_TEE

# Lane counts of the lane-indexed SIMD instructions.
_LANES = [0] * op.NUM_CODES
for _name, _n in [("i8x16.extract_lane_s", 16), ("i8x16.extract_lane_u", 16), ("i8x16.replace_lane", 16),
                  ("i16x8.extract_lane_s", 8), ("i16x8.extract_lane_u", 8), ("i16x8.replace_lane", 8),
                  ("i32x4.extract_lane", 4), ("i32x4.replace_lane", 4), ("i64x2.extract_lane", 2),
                  ("i64x2.replace_lane", 2), ("f32x4.extract_lane", 4), ("f32x4.replace_lane", 4),
                  ("f64x2.extract_lane", 2), ("f64x2.replace_lane", 2),
                  ("v128.load8_lane", 16), ("v128.load16_lane", 8), ("v128.load32_lane", 4),
                  ("v128.load64_lane", 2), ("v128.store8_lane", 16), ("v128.store16_lane", 8),
                  ("v128.store32_lane", 4), ("v128.store64_lane", 2)]:
    _LANES[op.BY_NAME[_name]] = _n
del _code, _s, _p, _r, _imm, _name, _n


class Frame:
    """A control frame: ``kind`` is the opening opcode (block, loop, if, else)
    or FUNC_FRAME; ``height`` the operand stack height at entry."""

    __slots__ = ("kind", "params", "results", "height", "unreachable")

    def __init__(self, kind, params, results, height):
        self.kind = kind
        self.params = params
        self.results = results
        self.height = height
        self.unreachable = False


def _mismatch(offset):
    return InvalidError("type mismatch", offset)


class FuncValidator:
    __slots__ = ("ctx", "func_index", "func_type", "locals", "stack", "ctrl", "height", "done")

    def __init__(self, ctx: ModuleContext, func_index: int, local_types=None):
        """``func_index`` in the function index space; ``local_types`` the
        declared locals (default: from the module's code section)."""
        self.ctx = ctx
        self.func_index = func_index
        ft = ctx.funcs[func_index]
        self.func_type = ft
        if local_types is None:
            local_types = ctx.module.codes[func_index - ctx.num_imported_funcs].local_types
        self.locals = list(ft.params) + list(local_types)
        self.stack: list[int] = []
        self.ctrl: list[Frame] = [Frame(FUNC_FRAME, (), ft.results, 0)]
        self.height = 0
        self.done = False

    # --- queries for the compiler ----------------------------------------------
    @property
    def unreachable(self) -> bool:
        return self.ctrl[-1].unreachable if self.ctrl else True

    def block_type(self, imm: int) -> FuncType:
        if imm >= 0:
            return self.ctx.types[imm]
        if imm == BLOCK_EMPTY:
            return _EMPTY_FT
        return _SINGLE_FT[-imm]

    def label_types(self, depth: int) -> tuple:
        f = self.ctrl[-1 - depth]
        return f.params if f.kind == op.LOOP else f.results

    def frame_kind(self, depth: int) -> int:
        return self.ctrl[-1 - depth].kind

    # --- the step ---------------------------------------------------------------
    def step(self, code: int, imm, offset: int) -> None:
        # The common cases (operands present with the exact types) cost a few
        # comparisons; anything else takes the general pops, which handle the
        # polymorphic stack and raise the errors.  validate_function() holds
        # a copy of this dispatch, inlined in its loop.
        k = _CLASS[code]
        stack = self.stack
        if k == 3:                                   # local.get
            locals_ = self.locals
            if imm >= len(locals_):
                raise InvalidError(f"unknown local {imm}", offset)
            stack.append(locals_[imm])
            return
        if k < 3:
            a, b, r = _OPS[code]
            if k == 0:
                if len(stack) - 2 >= self.height and stack[-1] == b and stack[-2] == a:
                    del stack[-1]
                    if r:
                        stack[-1] = r
                    else:
                        del stack[-1]
                    return
            elif k == 1:
                if len(stack) > self.height and stack[-1] == b:
                    if r:
                        stack[-1] = r
                    else:
                        del stack[-1]
                    return
            else:
                if r:
                    stack.append(r)
                return
            self.apply_sig(code, offset)
            return
        if k == 4 or k == 5:                         # local.set, local.tee
            locals_ = self.locals
            if imm < len(locals_) and len(stack) > self.height and stack[-1] == locals_[imm]:
                if k == 4:
                    del stack[-1]
                return
        elif k == 6 or k == 7:                       # scalar load, store
            a, b, r = _OPS[code]
            if imm[0] <= a and self.ctx.num_memories:
                if k == 6:
                    if len(stack) > self.height and stack[-1] == I32:
                        stack[-1] = r
                        return
                elif len(stack) - 2 >= self.height and stack[-1] == b and stack[-2] == I32:
                    del stack[-2:]
                    return
        _HANDLERS[code](self, imm, offset)

    def finish(self, offset: int) -> None:
        """Check that the body ended (the stream stops at its final end)."""
        if not self.done:
            raise MalformedError("unexpected end of section or function", offset)

    # --- operand stack ------------------------------------------------------------
    def _pop(self, expect: int, offset: int) -> int:
        stack = self.stack
        if len(stack) == self.height:
            if self.ctrl[-1].unreachable:
                return UNKNOWN
            raise _mismatch(offset)
        actual = stack.pop()
        if actual != expect and actual and expect:
            raise _mismatch(offset)
        return actual

    def _pop_list(self, types, offset: int) -> None:
        pop = self._pop
        for t in reversed(types):
            pop(t, offset)

    def apply_sig(self, code: int, offset: int) -> None:
        """Validate fixed-type instruction ``code`` (opcodes.SIGS)."""
        pops, n, push = _SIGTAB[code]
        stack = self.stack
        if n:
            if len(stack) - n >= self.height and stack[-n:] == pops:
                del stack[-n:]
            else:
                self._pop_list(pops, offset)
        if push:
            stack.append(push)

    def _set_unreachable(self) -> None:
        frame = self.ctrl[-1]
        del self.stack[frame.height:]
        frame.unreachable = True

    def _push_frame(self, kind: int, ft: FuncType) -> None:
        stack = self.stack
        self.ctrl.append(Frame(kind, ft.params, ft.results, len(stack)))
        self.height = len(stack)
        stack.extend(ft.params)

    def _pop_frame(self, offset: int) -> Frame:
        frame = self.ctrl[-1]
        results = frame.results
        stack = self.stack
        n = len(results)
        if len(stack) - n == frame.height and (not n or stack[-n:] == list(results)):
            del stack[frame.height:]
        else:
            self._pop_list(results, offset)
            if len(stack) != frame.height:
                raise _mismatch(offset)
        self.ctrl.pop()
        self.height = self.ctrl[-1].height if self.ctrl else 0
        return frame

    def _label(self, depth: int, offset: int) -> tuple:
        ctrl = self.ctrl
        if depth >= len(ctrl):
            raise InvalidError(f"unknown label {depth}", offset)
        f = ctrl[-1 - depth]
        return f.params if f.kind == op.LOOP else f.results

    def _block_type(self, imm: int, offset: int) -> FuncType:
        if imm >= 0:
            types = self.ctx.types
            if imm >= len(types):
                raise InvalidError(f"unknown type {imm}", offset)
            return types[imm]
        if imm == BLOCK_EMPTY:
            return _EMPTY_FT
        return _SINGLE_FT[-imm]

    def _memory(self, index: int, offset: int) -> None:
        if index >= self.ctx.num_memories:
            raise InvalidError(f"unknown memory {index}", offset)

    def _table(self, index: int, offset: int) -> int:
        tables = self.ctx.tables
        if index >= len(tables):
            raise InvalidError(f"unknown table {index}", offset)
        return tables[index]

    def _data(self, index: int, offset: int) -> None:
        count = self.ctx.data_count
        if count is None:
            raise MalformedError("data count section required", offset)
        if index >= count:
            raise InvalidError(f"unknown data segment {index}", offset)

    def _elem(self, index: int, offset: int) -> int:
        elems = self.ctx.elems
        if index >= len(elems):
            raise InvalidError(f"unknown elem segment {index}", offset)
        return elems[index]


# --- handlers: one per instruction not on the fast path -------------------------

def _unreachable(v, imm, off):
    v._set_unreachable()


def _block(v, imm, off):
    ft = v._block_type(imm, off)
    if ft.params:
        v._pop_list(ft.params, off)
    v._push_frame(op.BLOCK, ft)


def _loop(v, imm, off):
    ft = v._block_type(imm, off)
    if ft.params:
        v._pop_list(ft.params, off)
    v._push_frame(op.LOOP, ft)


def _if(v, imm, off):
    ft = v._block_type(imm, off)
    v._pop(I32, off)
    if ft.params:
        v._pop_list(ft.params, off)
    v._push_frame(op.IF, ft)


def _else(v, imm, off):
    frame = v.ctrl[-1]
    if frame.kind != op.IF:
        # The binary grammar has else only inside if: elsewhere it ends the
        # instruction sequence where an end must come.
        raise MalformedError("END opcode expected", off)
    v._pop_frame(off)
    v._push_frame(op.ELSE, FuncType(frame.params, frame.results))


def _end(v, imm, off):
    frame = v._pop_frame(off)
    if frame.kind == op.IF and frame.params != frame.results:
        raise _mismatch(off)
    if v.ctrl:
        v.stack.extend(frame.results)
    else:
        v.done = True


def _br(v, imm, off):
    v._pop_list(v._label(imm, off), off)
    v._set_unreachable()


def _br_if(v, imm, off):
    v._pop(I32, off)
    types = v._label(imm, off)
    if types:
        v._pop_list(types, off)
        v.stack.extend(types)


def _br_table(v, imm, off):
    labels, default = imm
    v._pop(I32, off)
    default_types = v._label(default, off)
    arity = len(default_types)
    pop = v._pop
    stack = v.stack
    for depth in labels:
        types = v._label(depth, off)
        if len(types) != arity:
            raise _mismatch(off)
        if arity:
            popped = [pop(t, off) for t in reversed(types)]
            popped.reverse()
            stack.extend(popped)
    v._pop_list(default_types, off)
    v._set_unreachable()


def _return(v, imm, off):
    v._pop_list(v.ctrl[0].results, off)
    v._set_unreachable()


def _call(v, imm, off):
    funcs = v.ctx.funcs
    if imm >= len(funcs):
        raise InvalidError(f"unknown function {imm}", off)
    ft = funcs[imm]
    params = ft.params
    stack = v.stack
    n = len(params)
    if n:
        if len(stack) - n >= v.height and tuple(stack[-n:]) == params:
            del stack[-n:]
        else:
            v._pop_list(params, off)
    stack.extend(ft.results)


def _call_indirect(v, imm, off):
    typeidx, table = imm
    if v._table(table, off) != FUNCREF:
        raise _mismatch(off)
    types = v.ctx.types
    if typeidx >= len(types):
        raise InvalidError(f"unknown type {typeidx}", off)
    ft = types[typeidx]
    v._pop(I32, off)
    v._pop_list(ft.params, off)
    v.stack.extend(ft.results)


def _drop(v, imm, off):
    v._pop(UNKNOWN, off)


def _select(v, imm, off):
    v._pop(I32, off)
    t1 = v._pop(UNKNOWN, off)
    t2 = v._pop(UNKNOWN, off)
    if t1 == FUNCREF or t1 == EXTERNREF or t2 == FUNCREF or t2 == EXTERNREF:
        raise _mismatch(off)
    if t1 != t2 and t1 and t2:
        raise _mismatch(off)
    v.stack.append(t1 or t2)


def _select_t(v, imm, off):
    if len(imm) != 1:
        raise InvalidError("invalid result arity", off)
    t = imm[0]
    v._pop(I32, off)
    v._pop(t, off)
    v._pop(t, off)
    v.stack.append(t)


def _local_get(v, imm, off):
    locals_ = v.locals
    if imm >= len(locals_):
        raise InvalidError(f"unknown local {imm}", off)
    v.stack.append(locals_[imm])


def _local_set(v, imm, off):
    locals_ = v.locals
    if imm >= len(locals_):
        raise InvalidError(f"unknown local {imm}", off)
    t = locals_[imm]
    stack = v.stack
    if len(stack) > v.height and stack[-1] == t:
        stack.pop()
    else:
        v._pop(t, off)


def _local_tee(v, imm, off):
    locals_ = v.locals
    if imm >= len(locals_):
        raise InvalidError(f"unknown local {imm}", off)
    t = locals_[imm]
    stack = v.stack
    if len(stack) > v.height and stack[-1] == t:
        return
    v._pop(t, off)
    stack.append(t)


def _global_get(v, imm, off):
    globals_ = v.ctx.globals
    if imm >= len(globals_):
        raise InvalidError(f"unknown global {imm}", off)
    v.stack.append(globals_[imm].valtype)


def _global_set(v, imm, off):
    globals_ = v.ctx.globals
    if imm >= len(globals_):
        raise InvalidError(f"unknown global {imm}", off)
    g = globals_[imm]
    if not g.mutable:
        raise InvalidError("global is immutable", off)
    v._pop(g.valtype, off)


def _table_get(v, imm, off):
    t = v._table(imm, off)
    v._pop(I32, off)
    v.stack.append(t)


def _table_set(v, imm, off):
    t = v._table(imm, off)
    v._pop(t, off)
    v._pop(I32, off)


def _table_size(v, imm, off):
    v._table(imm, off)
    v.stack.append(I32)


def _table_grow(v, imm, off):
    t = v._table(imm, off)
    v._pop(I32, off)
    v._pop(t, off)
    v.stack.append(I32)


def _table_fill(v, imm, off):
    t = v._table(imm, off)
    v._pop(I32, off)
    v._pop(t, off)
    v._pop(I32, off)


def _table_copy(v, imm, off):
    dst, src = imm
    if v._table(dst, off) != v._table(src, off):
        raise _mismatch(off)
    v.apply_sig(op.FC_BASE + 14, off)


def _table_init(v, imm, off):
    elem, table = imm
    t = v._table(table, off)
    if v._elem(elem, off) != t:
        raise _mismatch(off)
    v.apply_sig(op.FC_BASE + 12, off)


def _elem_drop(v, imm, off):
    v._elem(imm, off)


def _make_memarg(code):
    natural = op.NATURAL_ALIGN[code]

    def handler(v, imm, off):
        v._memory(imm[2], off)
        if imm[0] > natural:
            raise InvalidError("alignment must not be larger than natural", off)
        v.apply_sig(code, off)
    return handler


def _make_memarg_lane(code):
    natural = op.NATURAL_ALIGN[code]
    lanes = _LANES[code]

    def handler(v, imm, off):
        v._memory(imm[2], off)
        if imm[0] > natural:
            raise InvalidError("alignment must not be larger than natural", off)
        if imm[3] >= lanes:
            raise InvalidError("invalid lane index", off)
        v.apply_sig(code, off)
    return handler


def _make_lane(code):
    lanes = _LANES[code]

    def handler(v, imm, off):
        if imm >= lanes:
            raise InvalidError("invalid lane index", off)
        v.apply_sig(code, off)
    return handler


def _make_fixed(code):
    def handler(v, imm, off):
        v.apply_sig(code, off)
    return handler


def _make_memory(code):
    def handler(v, imm, off):
        v._memory(imm, off)
        v.apply_sig(code, off)
    return handler


def _memory_init(v, imm, off):
    data, mem = imm
    v._memory(mem, off)
    v._data(data, off)
    v.apply_sig(op.FC_BASE + 8, off)


def _data_drop(v, imm, off):
    v._data(imm, off)


def _memory_copy(v, imm, off):
    v._memory(imm[0], off)
    v._memory(imm[1], off)
    v.apply_sig(op.FC_BASE + 10, off)


def _shuffle(v, imm, off):
    for lane in imm:
        if lane >= 32:
            raise InvalidError("invalid lane index", off)
    v.apply_sig(op.FD_BASE + 0x0D, off)


def _ref_null(v, imm, off):
    v.stack.append(imm)


def _ref_is_null(v, imm, off):
    t = v._pop(UNKNOWN, off)
    if t != FUNCREF and t != EXTERNREF and t:
        raise _mismatch(off)
    v.stack.append(I32)


def _ref_func(v, imm, off):
    ctx = v.ctx
    if imm >= len(ctx.funcs):
        raise InvalidError(f"unknown function {imm}", off)
    if imm not in ctx.refs:
        raise InvalidError("undeclared function reference", off)
    v.stack.append(FUNCREF)


_HANDLERS: list = [None] * op.NUM_CODES
for _name, _fn in [
    ("unreachable", _unreachable), ("block", _block), ("loop", _loop), ("if", _if), ("else", _else),
    ("end", _end), ("br", _br), ("br_if", _br_if), ("br_table", _br_table), ("return", _return),
    ("call", _call), ("call_indirect", _call_indirect), ("drop", _drop), ("select", _select),
    ("select_t", _select_t), ("local.get", _local_get), ("local.set", _local_set),
    ("local.tee", _local_tee), ("global.get", _global_get), ("global.set", _global_set),
    ("table.get", _table_get), ("table.set", _table_set), ("table.size", _table_size),
    ("table.grow", _table_grow), ("table.fill", _table_fill), ("table.copy", _table_copy),
    ("table.init", _table_init), ("elem.drop", _elem_drop), ("memory.init", _memory_init),
    ("data.drop", _data_drop), ("memory.copy", _memory_copy), ("i8x16.shuffle", _shuffle),
    ("ref.null", _ref_null), ("ref.is_null", _ref_is_null), ("ref.func", _ref_func),
]:
    _HANDLERS[op.BY_NAME[_name]] = _fn
for _code in range(op.NUM_CODES):
    _k = op.IMMEDIATES[_code]
    if op.NAMES[_code] is None or _HANDLERS[_code] is not None:
        continue
    if _k == op.MEMARG:
        _HANDLERS[_code] = _make_memarg(_code)
    elif _k == op.MEMARG_LANE:
        _HANDLERS[_code] = _make_memarg_lane(_code)
    elif _k == op.LANE:
        _HANDLERS[_code] = _make_lane(_code)
    elif _k == op.MEMORY:
        _HANDLERS[_code] = _make_memory(_code)
    elif _CLASS[_code] > C_FIX0 and _SIGTAB[_code] is not None:
        _HANDLERS[_code] = _make_fixed(_code)      # three operands (v128.bitselect)
    elif _CLASS[_code] > C_FIX0:
        raise AssertionError(f"no validation rule for {op.NAMES[_code]}")
del _name, _fn, _code, _k

# The tables of the fast paths, for a loop that validates the frequent
# instructions itself (codegen/compiler.py): CLASS[code] is one of the C_*
# classes, OPS[code] its (a, b, r) (see above), HANDLERS[code] the handler
# ``handler(v, imm, offset)`` of every instruction that has one (all but the
# fixed-type ones without immediate: those take ``v.apply_sig``).  A handler
# changes ``v.height`` only for block, loop, if, else and end.
CLASS = _CLASS
OPS = _OPS
HANDLERS = _HANDLERS


def validate_function(ctx: ModuleContext, defined_index: int) -> None:
    """Validate the body of defined function ``defined_index``."""
    module = ctx.module
    body = module.codes[defined_index]
    v = FuncValidator(ctx, ctx.num_imported_funcs + defined_index, body.local_types)
    # FuncValidator.step, inlined: validating alone is a loop of nothing else.
    # ``height`` mirrors v.height, which only handlers change.
    classes = _CLASS
    ops_tab = _OPS
    handlers = _HANDLERS
    stack = v.stack            # the validator keeps this list object throughout
    locals_ = v.locals
    nlocals = len(locals_)
    has_memory = ctx.num_memories > 0
    height = 0
    for code, imm, off in module.operators(body):
        k = classes[code]
        if k == 3:
            if imm >= nlocals:
                raise InvalidError(f"unknown local {imm}", off)
            stack.append(locals_[imm])
            continue
        if k < 3:
            a, b, r = ops_tab[code]
            if k == 0:
                if len(stack) - 2 >= height and stack[-1] == b and stack[-2] == a:
                    del stack[-1]
                    if r:
                        stack[-1] = r
                    else:
                        del stack[-1]
                    continue
            elif k == 1:
                if len(stack) > height and stack[-1] == b:
                    if r:
                        stack[-1] = r
                    else:
                        del stack[-1]
                    continue
            else:
                if r:
                    stack.append(r)
                continue
            v.apply_sig(code, off)
            continue
        if k == 4 or k == 5:
            if imm < nlocals and len(stack) > height and stack[-1] == locals_[imm]:
                if k == 4:
                    del stack[-1]
                continue
        elif k == 6 or k == 7:
            a, b, r = ops_tab[code]
            if imm[0] <= a and has_memory:
                if k == 6:
                    if len(stack) > height and stack[-1] == I32:
                        stack[-1] = r
                        continue
                elif len(stack) - 2 >= height and stack[-1] == b and stack[-2] == I32:
                    del stack[-2:]
                    continue
        handlers[code](v, imm, off)
        height = v.height
    v.finish(body.end)


def validate_module(module: Module) -> ModuleContext:
    """Validate ``module`` entirely; returns the ModuleContext."""
    ctx = check_module(module)
    for i in range(len(module.codes)):
        validate_function(ctx, i)
    return ctx
