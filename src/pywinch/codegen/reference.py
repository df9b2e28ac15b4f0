"""Reference and table operators: ref.null, ref.is_null, ref.func,
table.get/set/size/grow/fill/copy/init, elem.drop."""

from __future__ import annotations

from .. import vmoffsets as vo
from ..errors import TrapCode
from ..wasm import opcodes as op
from ..wasm.types import FUNCREF, I32
from .calls import call_builtin, table_def
from .context import K_REG, K_CMP, K_CONST

FC = op.FC_BASE


def visit_ref_null(c, t):
    c.stack.append((K_CONST, t, 0))


def visit_ref_is_null(c, imm):
    e = c.stack[-1]
    if e[0] == K_CONST:
        c.stack[-1] = (K_CONST, I32, 1 if e[2] == 0 else 0)
        return
    r = c.pop_reg()
    c.a.test_rr(8, r, r)
    c.free |= 1 << r
    c.stack.append((K_CMP, I32, c.cc.CC_E))
    c.flags_live = True


def visit_ref_func(c, func):
    r = c.alloc_gpr()
    c.a.lea(8, r, c.vmctx, c.mc.vmoffsets.funcref(func))
    c.stack.append((K_REG, FUNCREF, r))


def _table_elem(c, table, idx):
    """Bounds-check ``idx`` against ``table`` and return ``(base_reg)`` holding the
    element array (the scratch register) for ``[base + idx*8]``."""
    a = c.a
    base, disp = table_def(c, table)
    a.alu_rm(7, 8, idx, base, disp + vo.TABLE_LENGTH)
    c.trap_if(c.cc.CC_AE, TrapCode.TABLE_OUT_OF_BOUNDS)
    a.load(8, c.scratch, base, disp + vo.TABLE_BASE)
    return c.scratch


def visit_table_get(c, table):
    t = c.mc.table_types[table].elem
    idx = c.pop_reg()
    base = _table_elem(c, table, idx)
    c.a.load(8, idx, base, 0, idx, 8)
    c.stack.append((K_REG, t, idx))


def visit_table_set(c, table):
    v = c.pop_reg()
    idx = c.pop_reg()
    base = _table_elem(c, table, idx)
    c.a.store(8, v, base, 0, idx, 8)
    c.free |= 1 << v
    c.free |= 1 << idx


def visit_table_size(c, table):
    base, disp = table_def(c, table)
    r = c.alloc_gpr()
    c.a.load(4, r, base, disp + vo.TABLE_LENGTH)
    c.stack.append((K_REG, I32, r))


def visit_table_grow(c, table):
    r = call_builtin(c, vo.BUILTIN_TABLE_GROW, [("imm", table), ("pop", 2)], result=True)
    c.a.mov_rr(4, r, r)
    c.stack.append((K_REG, I32, r))


def visit_table_fill(c, table):
    call_builtin(c, vo.BUILTIN_TABLE_FILL, [("imm", table), ("pop", 3)], status=True)


def visit_table_copy(c, imm):
    dst, src = imm
    call_builtin(c, vo.BUILTIN_TABLE_COPY, [("imm", dst), ("imm", src), ("pop", 3)], status=True)


def visit_table_init(c, imm):
    elem, table = imm
    call_builtin(c, vo.BUILTIN_TABLE_INIT, [("imm", table), ("imm", elem), ("pop", 3)], status=True)


def visit_elem_drop(c, elem):
    call_builtin(c, vo.BUILTIN_ELEM_DROP, [("imm", elem)])


def register(table):
    table[0xD0] = visit_ref_null
    table[0xD1] = visit_ref_is_null
    table[0xD2] = visit_ref_func
    table[0x25] = visit_table_get
    table[0x26] = visit_table_set
    table[FC + 12] = visit_table_init
    table[FC + 13] = visit_elem_drop
    table[FC + 14] = visit_table_copy
    table[FC + 15] = visit_table_grow
    table[FC + 16] = visit_table_size
    table[FC + 17] = visit_table_fill
