"""Byte layout of the structures shared by compiled code and the runtime.

This module is the contract between ``codegen`` (which emits loads and stores
at these offsets) and ``runtime`` (which allocates and fills the memory).  It
knows counts only, never the compiler or the runtime, so both can import it.
All structures are little-endian, 8-byte aligned.  See docs/architecture.md.
"""

from __future__ import annotations

PTR = 8
GLOBAL_SIZE = 16          # every global slot holds up to a v128
VALUE_SLOT = 16           # array calling convention: one value per 16 bytes

# --- VMRuntimeLimits: one per Store ------------------------------------------
LIMITS_STACK_LIMIT = 0        # u64: lowest rsp Wasm may use (set at outermost entry)
LIMITS_ENTRY_SP = 8           # u64: rsp to restore on trap (points at a return address); 0 = no Wasm running
LIMITS_EXIT_FP = 16           # u64: rbp of the last Wasm frame when it called the host
LIMITS_EXIT_PC = 24           # u64: return address into Wasm of that host call
LIMITS_FUEL_CONSUMED = 32     # i64: negative remaining fuel; > 0 after an add means out of fuel
LIMITS_EPOCH_DEADLINE = 40    # u64: trap (interrupt) when *epoch_counter >= deadline
LIMITS_EPOCH_COUNTER_PTR = 48 # u64*: the engine's epoch counter
LIMITS_TRAP_CODE = 56         # u32: TrapCode of the last trap, 0 = none
LIMITS_TRAP_PC = 64           # u64: pc of the trapping instruction (or of the call that trapped)
LIMITS_TRAP_FP = 72           # u64: rbp of the trapping frame (start of the backtrace)
LIMITS_PENDING_EXCEPTION = 80 # u32: set by a host function wrapper that caught a Python exception
LIMITS_SIZE = 96

# --- VMFuncRef: what tables hold (a pointer to one) and ref.func produces ------
FUNCREF_ARRAY_CALL = 0    # array-to-wasm trampoline for this function's signature
FUNCREF_WASM_CALL = 8     # code address, internal Wasm calling convention
FUNCREF_TYPE_ID = 16      # u64: engine-wide signature id (call_indirect compares it)
FUNCREF_VMCTX = 24        # callee vmctx (an instance's VMContext or a host function context)
FUNCREF_NATIVE_CALL = 32  # native-to-wasm trampoline (SysV typed) or 0
FUNCREF_SIZE = 40

# --- VMMemoryDefinition / VMTableDefinition -----------------------------------
MEMORY_BASE = 0           # u64: base address; never moves (reserved once)
MEMORY_LENGTH = 8         # u64: current length in bytes
MEMORY_DEF_SIZE = 16
TABLE_BASE = 0            # u64: address of an array of u64 elements (funcref ptr or externref handle; 0 = null)
TABLE_LENGTH = 8          # u64: current number of elements
TABLE_DEF_SIZE = 16

# --- Imported function entry in a VMContext ------------------------------------
IMPORT_FUNC_WASM_CALL = 0
IMPORT_FUNC_VMCTX = 8
IMPORT_FUNC_FUNCREF = 16  # the exporter's VMFuncRef*, for ref.func and tables
IMPORT_FUNC_SIZE = 24

# --- Builtins: SysV functions the compiled code calls through VMCTX_BUILTINS ----
# Each takes the vmctx first.  Those marked "status" return 0 or a TrapCode.
BUILTIN_MEMORY_GROW = 0   # (vmctx, mem, delta_pages) -> old pages, or -1 (as i64)
BUILTIN_MEMORY_FILL = 1   # (vmctx, mem, dst, val, len) -> status
BUILTIN_MEMORY_COPY = 2   # (vmctx, dst_mem, src_mem, dst, src, len) -> status
BUILTIN_MEMORY_INIT = 3   # (vmctx, mem, data, dst, src, len) -> status
BUILTIN_DATA_DROP = 4     # (vmctx, data) -> 0
BUILTIN_TABLE_GROW = 5    # (vmctx, table, init, delta) -> old size, or -1
BUILTIN_TABLE_FILL = 6    # (vmctx, table, dst, val, len) -> status
BUILTIN_TABLE_COPY = 7    # (vmctx, dst_table, src_table, dst, src, len) -> status
BUILTIN_TABLE_INIT = 8    # (vmctx, table, elem, dst, src, len) -> status
BUILTIN_ELEM_DROP = 9     # (vmctx, elem) -> 0
BUILTIN_COUNT = 10

# --- VMContext header ---------------------------------------------------------
VMCTX_LIMITS = 0          # VMRuntimeLimits*
VMCTX_BUILTINS = 8        # u64[BUILTIN_COUNT]*
VMCTX_INSTANCE_ID = 16    # u64: the runtime's handle for the owning instance
VMCTX_MAGIC = 24          # u32 "core" for an instance, "host" for a host function context
VMCTX_INTERRUPT = 28      # u32: nonzero = Ctrl-C is pending (EPOCH_INTERRUPT code traps at its next check)
VMCTX_HEADER_SIZE = 32

# --- VMHostFuncContext: the vmctx of a host function ---------------------------
# The common header, then the host function's own VMFuncRef, whose NATIVE_CALL
# slot holds the ctypes callback the wasm-to-native trampoline calls.
HOSTCTX_FUNCREF = VMCTX_HEADER_SIZE
HOSTCTX_SIZE = HOSTCTX_FUNCREF + FUNCREF_SIZE

VMCTX_MAGIC_CORE = 0x65726F63  # b"core"
VMCTX_MAGIC_HOST = 0x74736F68  # b"host"


def _align(n: int, a: int) -> int:
    return (n + a - 1) & -a


class VMOffsets:
    """Offsets of one module's VMContext, computed from its counts.

    Layout after the header: type ids (u32 per module type), imported
    functions, imported tables/memories/globals (pointers), defined tables and
    memories (inline definitions), defined globals (16-byte slots), and one
    VMFuncRef per function of the module (imported ones included, so a
    ``ref.func`` of any index is one ``lea``).
    """

    __slots__ = (
        "num_types", "num_imported_funcs", "num_imported_tables", "num_imported_memories",
        "num_imported_globals", "num_defined_funcs", "num_defined_tables", "num_defined_memories",
        "num_defined_globals", "type_ids", "imported_funcs", "imported_tables", "imported_memories",
        "imported_globals", "defined_tables", "defined_memories", "defined_globals", "funcrefs", "size",
    )

    def __init__(self, *, num_types=0, num_imported_funcs=0, num_imported_tables=0,
                 num_imported_memories=0, num_imported_globals=0, num_defined_funcs=0,
                 num_defined_tables=0, num_defined_memories=0, num_defined_globals=0):
        self.num_types = num_types
        self.num_imported_funcs = num_imported_funcs
        self.num_imported_tables = num_imported_tables
        self.num_imported_memories = num_imported_memories
        self.num_imported_globals = num_imported_globals
        self.num_defined_funcs = num_defined_funcs
        self.num_defined_tables = num_defined_tables
        self.num_defined_memories = num_defined_memories
        self.num_defined_globals = num_defined_globals
        off = VMCTX_HEADER_SIZE
        self.type_ids = off
        off = _align(off + 4 * num_types, 8)
        self.imported_funcs = off
        off += IMPORT_FUNC_SIZE * num_imported_funcs
        self.imported_tables = off
        off += PTR * num_imported_tables
        self.imported_memories = off
        off += PTR * num_imported_memories
        self.imported_globals = off
        off += PTR * num_imported_globals
        self.defined_tables = off
        off += TABLE_DEF_SIZE * num_defined_tables
        self.defined_memories = off
        off += MEMORY_DEF_SIZE * num_defined_memories
        self.defined_globals = _align(off, 16)
        off = self.defined_globals + GLOBAL_SIZE * num_defined_globals
        self.funcrefs = off
        off += FUNCREF_SIZE * (num_imported_funcs + num_defined_funcs)
        self.size = _align(off, 16)

    # Index spaces below are the module's (imports first, as in Wasm).
    def type_id(self, type_index: int) -> int:
        return self.type_ids + 4 * type_index

    def imported_func(self, func_index: int) -> int:
        return self.imported_funcs + IMPORT_FUNC_SIZE * func_index

    def funcref(self, func_index: int) -> int:
        return self.funcrefs + FUNCREF_SIZE * func_index

    def table_import(self, table_index: int) -> int:
        """Offset of the pointer to an imported table's VMTableDefinition."""
        return self.imported_tables + PTR * table_index

    def table_definition(self, table_index: int) -> int:
        """Offset of a defined table's inline VMTableDefinition."""
        return self.defined_tables + TABLE_DEF_SIZE * (table_index - self.num_imported_tables)

    def memory_import(self, memory_index: int) -> int:
        return self.imported_memories + PTR * memory_index

    def memory_definition(self, memory_index: int) -> int:
        return self.defined_memories + MEMORY_DEF_SIZE * (memory_index - self.num_imported_memories)

    def global_import(self, global_index: int) -> int:
        return self.imported_globals + PTR * global_index

    def global_definition(self, global_index: int) -> int:
        return self.defined_globals + GLOBAL_SIZE * (global_index - self.num_imported_globals)
