"""Per-engine and per-store runtime state: signature ids, the epoch counter,
VMRuntimeLimits, externref handles, resource limits, trap bookkeeping."""

from __future__ import annotations

import threading
import weakref

from .. import vmoffsets as vo
from ..errors import TypeCheckError
from . import sysmem
from .globals import RuntimeGlobal
from .table import RuntimeTable
from .values import EXTERNREF

_Q_STACK_LIMIT = vo.LIMITS_STACK_LIMIT >> 3
_Q_ENTRY_SP = vo.LIMITS_ENTRY_SP >> 3
_Q_FUEL = vo.LIMITS_FUEL_CONSUMED >> 3
_Q_DEADLINE = vo.LIMITS_EPOCH_DEADLINE >> 3
_Q_EPOCH_PTR = vo.LIMITS_EPOCH_COUNTER_PTR >> 3
Q_TRAP_CODE = vo.LIMITS_TRAP_CODE >> 3
Q_TRAP_PC = vo.LIMITS_TRAP_PC >> 3
Q_TRAP_FP = vo.LIMITS_TRAP_FP >> 3
Q_PENDING = vo.LIMITS_PENDING_EXCEPTION >> 3
U64_MAX = 0xFFFFFFFFFFFFFFFF
EXTERN_GC_MIN = 4096      # externref handles before the first collection
EXTERN_GRACE = 1024       # the newest handles a collection always keeps

# Signature ids are process-wide: two engines never share functions, and one
# numbering lets serialized modules and host functions agree without a handshake.
_sig_lock = threading.Lock()
_sig_ids: dict[tuple, int] = {}
_sig_keys: list[tuple] = [((), ())]   # id 0 is never handed out: a zeroed funcref must not match


def intern_sig(key: tuple) -> int:
    """The engine-wide id of a signature ``(params, results)`` (tuples of value types)."""
    sid = _sig_ids.get(key)
    if sid is None:
        with _sig_lock:
            sid = _sig_ids.get(key)
            if sid is None:
                sid = len(_sig_keys)
                _sig_keys.append(key)
                _sig_ids[key] = sid
    return sid


def sig_key(sid: int) -> tuple:
    return _sig_keys[sid]


class EngineState:
    """What an Engine shares with its stores: the epoch counter compiled code reads."""

    __slots__ = ("epoch", "epoch_interruption", "consume_fuel", "max_wasm_stack", "__weakref__")

    def __init__(self, epoch_interruption: bool = False, consume_fuel: bool = False,
                 max_wasm_stack: int = 512 * 1024):
        self.epoch = sysmem.Buffer(8)
        self.epoch_interruption = epoch_interruption
        self.consume_fuel = consume_fuel
        self.max_wasm_stack = max_wasm_stack

    def increment_epoch(self) -> None:
        # A single aligned 8-byte store; compiled code only ever reads it.
        q = self.epoch.q
        q[0] = (q[0] + 1) & U64_MAX

    @property
    def current_epoch(self) -> int:
        return self.epoch.q[0]


class ResourceLimiter:
    """Store.set_limits: caps checked when memories and tables are created or grown."""

    __slots__ = ("memory_size", "table_elements", "instances", "tables", "memories",
                 "num_instances", "num_tables", "num_memories")

    def __init__(self):
        self.memory_size = -1
        self.table_elements = -1
        self.instances = -1
        self.tables = -1
        self.memories = -1
        self.num_instances = 0
        self.num_tables = 0
        self.num_memories = 0

    def memory_allowed(self, new_bytes: int, old_bytes: int = 0) -> bool:
        return self.memory_size < 0 or new_bytes <= self.memory_size


class StoreState:
    """The runtime half of a Store. ``lq`` is a u64 view of its VMRuntimeLimits."""

    __slots__ = ("engine", "limits", "lq", "externs", "extern_ids", "next_handle", "funcs",
                 "instances", "keep", "pending", "limiter", "api_funcs", "owner", "wrap_func",
                 "interrupted", "saved_deadline", "extern_gc_at", "tid",
                 "__weakref__")

    def __init__(self, engine: EngineState):
        self.engine = engine
        self.limits = sysmem.Buffer(vo.LIMITS_SIZE)
        self.lq = lq = self.limits.q
        lq[_Q_EPOCH_PTR] = engine.epoch.addr
        # Wasmtime's defaults: with epochs on, the deadline is the current epoch
        # (trap at once until set); with fuel on, the tank starts empty.
        lq[_Q_DEADLINE] = engine.epoch.q[0] if engine.epoch_interruption else U64_MAX
        self.extern_gc_at = EXTERN_GC_MIN
        self.tid = 0                  # thread the stack limit was set up for (stack.retarget)
        self.interrupted = False      # Ctrl-C turned the deadline to 0 (see interrupt.py)
        self.saved_deadline = 0
        lq[_Q_FUEL] = 0
        self.externs: dict[int, object] = {}
        self.extern_ids: dict[int, int] = {}
        self.next_handle = 1
        self.funcs: dict[int, object] = {}     # VMFuncRef* -> FuncInfo (runtime)
        # VMFuncRef* -> API Func; weak so the store holds no cycle through its Funcs.
        self.api_funcs = weakref.WeakValueDictionary()
        self.instances: list = []
        self.keep: list = []
        self.pending: BaseException | None = None
        self.limiter = ResourceLimiter()
        self.owner = None
        # Set by the API's Store: VMFuncRef* -> the user-facing Func (None for 0).
        self.wrap_func = lambda addr: addr or None

    @property
    def addr(self) -> int:
        return self.limits.addr

    # --- externref handles ----------------------------------------------------
    def extern_to_raw(self, obj) -> int:
        if obj is None:
            return 0
        h = self.extern_ids.get(id(obj))
        if h is not None and self.externs.get(h) is obj:
            return h
        h = self.next_handle
        self.next_handle += 1
        self.externs[h] = obj
        self.extern_ids[id(obj)] = h
        if len(self.externs) > self.extern_gc_at and self.lq[_Q_ENTRY_SP] <= 1:
            self.collect_externs(h - EXTERN_GRACE)
        return h

    def collect_externs(self, below: int) -> None:
        """Forget externref handles nothing in Wasm can reach any more.

        Run only while no Wasm of this store is on the stack, so the roots are
        exactly the externref tables, globals and element segments of the store.  Handles at or
        above ``below`` are kept whatever: they may be arguments of the call
        being prepared (a call has at most 1000 parameters).
        """
        roots = set()
        for inst in self.instances:
            for seg in inst.elems:       # passive segments may hold global.get'ed externrefs
                roots.update(seg)
        for t, g in self._extern_roots():
            if t is not None:
                roots.update(t.buf.q[:t.size].tolist())
            else:
                roots.add(g.get_raw())
        externs = self.externs
        for h in [h for h in externs if h < below and h not in roots]:
            obj = externs.pop(h)
            if self.extern_ids.get(id(obj)) == h:
                del self.extern_ids[id(obj)]
        self.extern_gc_at = max(EXTERN_GC_MIN, 2 * len(externs))

    def _extern_roots(self):
        seen = set()
        objs = [o for inst in self.instances for o in (*inst.tables, *inst.globals)] + list(self.keep)
        for o in objs:
            if id(o) in seen:
                continue
            seen.add(id(o))
            if isinstance(o, RuntimeTable) and o.elem_type == EXTERNREF:
                yield o, None
            elif isinstance(o, RuntimeGlobal) and o.valtype == EXTERNREF:
                yield None, o

    def raw_to_extern(self, h: int):
        if h == 0:
            return None
        return self.externs.get(h)

    def func_to_raw(self, f) -> int:
        """A funcref value (an API Func or None) -> its VMFuncRef* in this store."""
        if f is None:
            return 0
        addr = getattr(f, "_funcref", None)
        if addr is None:
            raise TypeCheckError(f"expected a Func or None for funcref, got {type(f).__name__}")
        info = self.funcs.get(addr)
        if info is None:
            raise TypeCheckError("the Func belongs to another store")
        if info.host is not None:
            info.host.ensure_wasm_call()
        return addr

    # --- fuel and epochs --------------------------------------------------------
    def set_fuel(self, fuel: int) -> None:
        if fuel < 0:
            raise ValueError("fuel must be non-negative")
        self.lq[_Q_FUEL] = (-min(fuel, (1 << 63) - 1)) & U64_MAX

    def get_fuel(self) -> int:
        v = self.lq[_Q_FUEL]
        if v >> 63:
            return (1 << 64) - v
        return 0

    def set_epoch_deadline(self, ticks: int) -> None:
        # Without Config.epoch_interruption the deadline stays at "never": the
        # epoch checks compiled code always has then serve only Ctrl-C.
        if self.engine.epoch_interruption:
            self.lq[_Q_DEADLINE] = (self.engine.epoch.q[0] + ticks) & U64_MAX

    # --- trap state ------------------------------------------------------------
    def take_trap(self) -> tuple[int, int, int]:
        """Read and clear (code, pc, fp) of the last trap."""
        lq = self.lq
        code = lq[Q_TRAP_CODE] & 0xFFFFFFFF
        pc = lq[Q_TRAP_PC]
        fp = lq[Q_TRAP_FP]
        lq[Q_TRAP_CODE] = 0
        lq[Q_TRAP_PC] = 0
        lq[Q_TRAP_FP] = 0
        lq[Q_PENDING] = 0
        return code, pc, fp

    def set_pending(self, exc: BaseException) -> None:
        self.pending = exc
        self.lq[Q_PENDING] = 1

    def in_wasm(self) -> bool:
        # 1 is the idle sentinel of stack.py, not a running entry.
        return self.lq[_Q_ENTRY_SP] > 1
