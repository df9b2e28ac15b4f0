"""Run one module in pywinch or in Wasmtime and describe what happened, engine-neutrally.

An *outcome* is a JSON-friendly dict, so a worker process can send it back:

    {"compile": status, "instantiate": status, "calls": [[name, args, status, globals], ...],
     "globals": {...}, "memories": {...}, "tables": {...}, "host_log": [[host func, args...], ...]}

where a status is ``["ok", values]``, ``["trap", kind]``, ``["reject", message]``
(the module was refused: malformed, invalid or unlinkable), ``["unsupported", message]``
(pywinch only) or ``["error", type_name, message]`` (anything else: for pywinch an
exception outside its hierarchy, which is always a failure).

Trap kinds are the specification's words, so Wasmtime's and pywinch's codes meet
on neutral ground (Wasmtime reports a call_indirect past the table end as
TABLE_OUT_OF_BOUNDS where pywinch has UNDEFINED_ELEMENT; both are "table").
Floats travel as their bit patterns, so -0.0 and NaN payloads are compared exactly.
"""

from __future__ import annotations

import hashlib
import math
import random
import struct
import traceback

I32 = [0, 1, -1, 2, 7, 0x7FFFFFFF, -0x80000000, 0xFFFF, 0x10000, 0xFFFFFFF, -65536, 31, 32, 64, 4096]
I64 = [0, 1, -1, 2, 0x7FFFFFFFFFFFFFFF, -0x8000000000000000, 0xFFFFFFFF, 0x100000000, 63, 64, -0x80000000]
F64 = [0.0, -0.0, 1.0, -1.0, 0.5, math.inf, -math.inf, math.nan, 1e300, -1e-300, 2.0 ** 31, 2.0 ** 63,
       -2.0 ** 63, 4294967296.0, 1.5, -2.5, 5e-324]
F32 = [0.0, -0.0, 1.0, -1.0, 0.5, math.inf, -math.inf, math.nan, 3.4028234663852886e38, 2.0 ** 31,
       -2.0 ** 31, 2.0 ** 63, 4294967296.0, 1.5, -2.5, 1.401298464324817e-45]

# Trap kinds, by pywinch TrapCode number and by Wasmtime TrapCode name.
PW_TRAPS = {1: "stack", 2: "memory", 3: "table", 4: "uninitialized", 5: "signature", 6: "overflow",
            7: "divzero", 8: "conversion", 9: "unreachable", 10: "interrupt", 11: "fuel", 12: "table",
            13: "null"}
WT_TRAPS = {"STACK_OVERFLOW": "stack", "MEMORY_OUT_OF_BOUNDS": "memory", "TABLE_OUT_OF_BOUNDS": "table",
            "INDIRECT_CALL_TO_NULL": "uninitialized", "BAD_SIGNATURE": "signature",
            "INTEGER_OVERFLOW": "overflow", "INTEGER_DIVISION_BY_ZERO": "divzero",
            "BAD_CONVERSION_TO_INTEGER": "conversion", "UNREACHABLE": "unreachable",
            "INTERRUPT": "interrupt", "OUT_OF_FUEL": "fuel", "NULL_REFERENCE": "null"}

MAX_TABLE_SCAN = 4096
FUEL_EXPORT = "__fuel"   # see difffuzz.expose_fuel
# Call depth stays under FUEL too: 512 KiB of stack / 250 frames leaves 2 KiB a frame,
# so stack exhaustion (depth is implementation-defined) rarely decides a case.
FUEL = 250
TABLE_LIMIT = 1 << 20


def make_args(rng: random.Random, params: list[str]) -> list:
    """Deterministic arguments: mostly edge values, some random bits (no NaN payloads:
    the two hosts' double->float conversions need not agree on them)."""
    out = []
    for p in params:
        r = rng.random()
        if p == "i32":
            out.append(rng.choice(I32) if r < 0.6 else rng.randrange(-2 ** 31, 2 ** 31))
        elif p == "i64":
            out.append(rng.choice(I64) if r < 0.6 else rng.randrange(-2 ** 63, 2 ** 63))
        elif p == "f32":
            if r < 0.6:
                out.append(rng.choice(F32))
            else:
                v = struct.unpack("<f", struct.pack("<I", rng.getrandbits(32)))[0]
                out.append(math.nan if math.isnan(v) else v)
        elif p == "f64":
            if r < 0.6:
                out.append(rng.choice(F64))
            else:
                v = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0]
                out.append(math.nan if math.isnan(v) else v)
        else:
            out.append(None)   # funcref / externref: null
    return out


def encode(ty: str, v):
    """One value as plain JSON data; floats as ["f32", bits]."""
    if ty == "f32":
        return ["f32", struct.unpack("<I", struct.pack("<f", v))[0]]
    if ty == "f64":
        return ["f64", struct.unpack("<Q", struct.pack("<d", v))[0]]
    if ty in ("i32", "i64"):
        return int(v)
    if type(v).__name__ == "Val":   # wasmtime-py hands back a null reference as Val(None)
        v = v.value
    return None if v is None else "ref"


def _ty(vt) -> str:
    s = str(vt)
    return "externref" if s in ("anyref", "externref") else s


def _results(ty_results, value) -> list:
    if not ty_results:
        return []
    vals = value if len(ty_results) > 1 else [value]
    return [encode(t, v) for t, v in zip(ty_results, vals)]


def _memory_digest(arr) -> str:
    return hashlib.blake2b(memoryview(arr).cast("B"), digest_size=16).hexdigest()


class _Engine:
    name = ""

    def status_of(self, exc: BaseException) -> list:
        raise NotImplementedError


class Pywinch(_Engine):
    name = "pywinch"

    def __init__(self, epoch: bool = False, fuel: bool = False):
        import pywinch
        self.lib = pywinch
        config = pywinch.Config()
        config.epoch_interruption = epoch
        config.consume_fuel = fuel
        self.engine = pywinch.Engine(config)

    def status_of(self, exc):
        pw = self.lib
        if isinstance(exc, HostError):
            return ["host_error", exc.args[0]]
        if isinstance(exc, pw.Trap):
            return ["trap", PW_TRAPS.get(exc.code, f"code{exc.code}")]
        if isinstance(exc, pw.UnsupportedError):
            return ["unsupported", str(exc)]
        if isinstance(exc, (pw.ModuleError, pw.LinkError)):
            return ["reject", str(exc)]
        kind = "pywinch-error" if isinstance(exc, pw.WasmError) else "foreign"
        return ["error", kind, type(exc).__name__, _short_tb(exc)]


class Wasmtime(_Engine):
    name = "wasmtime"

    def __init__(self, epoch: bool = False, fuel: bool = False):
        import wasmtime
        self.lib = wasmtime
        self.engine = wasmtime.Engine(wasmtime_config(epoch, fuel))

    def status_of(self, exc):
        wt = self.lib
        if isinstance(exc, HostError):
            return ["host_error", exc.args[0]]
        if isinstance(exc, wt.Trap):
            code = exc.trap_code
            return ["trap", WT_TRAPS.get(code.name, code.name) if code is not None else "unknown"]
        if isinstance(exc, wt.WasmtimeError):
            return ["reject", str(exc).splitlines()[0] if str(exc) else ""]
        return ["error", "foreign", type(exc).__name__, _short_tb(exc)]


def wasmtime_config(epoch: bool = False, fuel: bool = False):
    """A Wasmtime Config with pywinch's default feature set (Wasmtime's defaults add
    tail calls, multi-memory, function references...), so both judge the same language."""
    import pywinch
    import wasmtime
    config = wasmtime.Config()
    for name, value in pywinch.Config().features().items():
        setattr(config, name, value)
    config.epoch_interruption = epoch
    config.consume_fuel = fuel
    return config


def _short_tb(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)[-6:])[-1500:]


# The imports smith may use (``--available-imports``), given identically to both engines.
IMPORTS_WAT = """(module
  (import "env" "f_i32" (func (param i32) (result i32)))
  (import "env" "f_void" (func))
  (import "env" "f_mix" (func (param i64 f32 f64 i32) (result i32 i64 f64)))
  (import "env" "f_f32" (func (param f32) (result f32)))
  (import "env" "f_ref" (func (param funcref externref) (result externref)))
  (import "env" "mem" (memory 1 16))
  (import "env" "tab" (table 10 100 funcref))
  (import "env" "g_i32" (global (mut i32)))
  (import "env" "g_f64" (global f64)))"""
HOST_LOG_MAX = 2000


class HostError(Exception):
    """Raised by a host function on purpose: both engines must hand it back to the caller."""


def _wrap(bits: int, v: int) -> int:
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def make_imports(lib, store, module, log: list) -> list:
    """One extern per import of ``module``, built with ``lib``'s API; host calls go to ``log``."""
    i32, i64, f32, f64 = lib.ValType.i32(), lib.ValType.i64(), lib.ValType.f32(), lib.ValType.f64()

    def note(name, *vals):
        if len(log) < HOST_LOG_MAX:
            log.append([name, *vals])

    def f_i32(x):
        note("f_i32", x)
        if x % 97 == 13:
            raise HostError(x)
        return _wrap(32, x * 31 + 7)

    def f_void():
        note("f_void")

    def f_mix(a, b, c, d):
        note("f_mix", a, encode("f32", b), encode("f64", c), d)
        return [_wrap(32, d ^ 5), _wrap(64, a + 1), c * 0.5]

    def f_f32(x):
        note("f_f32", encode("f32", x))
        return x + 1.0

    def f_ref(f, e):
        note("f_ref", encode("ref", f), encode("ref", e))
        return e

    funcs = {"f_i32": ([i32], [i32], f_i32), "f_void": ([], [], f_void),
             "f_mix": ([i64, f32, f64, i32], [i32, i64, f64], f_mix), "f_f32": ([f32], [f32], f_f32),
             "f_ref": ([lib.ValType.funcref(), lib.ValType.externref()], [lib.ValType.externref()], f_ref)}
    out = []
    for imp in module.imports:
        name = imp.name
        if name in funcs:
            params, results, fn = funcs[name]
            out.append(lib.Func(store, lib.FuncType(params, results), fn))
        elif name == "mem":
            out.append(lib.Memory(store, lib.MemoryType(lib.Limits(1, 16))))
        elif name == "tab":
            out.append(lib.Table(store, lib.TableType(lib.ValType.funcref(), lib.Limits(10, 100)), None))
        elif name == "g_i32":
            out.append(lib.Global(store, lib.GlobalType(i32, True), 7))
        elif name == "g_f64":
            out.append(lib.Global(store, lib.GlobalType(f64, False), -2.5))
        else:
            raise ValueError(f"no provider for import {imp.module}.{name}")
    return out


def run(eng: _Engine, wasm: bytes, seed: int, argsets: int = 4, fuel: int | None = None) -> dict:
    """Compile, instantiate, call every exported function ``argsets`` times (arguments
    drawn from ``seed``), then snapshot exported globals, memories and tables.  With
    ``fuel`` (the engine must consume fuel) each call starts with that much fuel and
    what is left after it is recorded: fuel accounting is compared too."""
    lib = eng.lib
    out: dict = {"compile": None, "instantiate": None, "calls": [], "globals": {}, "memories": {},
                 "tables": {}}
    try:
        module = lib.Module(eng.engine, wasm)
        out["compile"] = ["ok"]
    except Exception as e:
        out["compile"] = eng.status_of(e)
        return out
    store = lib.Store(eng.engine)
    if fuel is not None:
        store.set_fuel(fuel)
    # Growth limits are implementation-defined (pywinch stops tables at 10M elements,
    # Wasmtime goes to 2^32-1 and takes ~30 s doing it): the same limit in both.
    store.set_limits(table_elements=TABLE_LIMIT)
    log: list = []
    out["host_log"] = log
    try:
        inst = lib.Instance(store, module, make_imports(lib, store, module, log))
        out["instantiate"] = ["ok"]
    except Exception as e:
        out["instantiate"] = eng.status_of(e)
        return out
    rng = random.Random(seed)
    try:
        exports = inst.exports(store)
        names = list(exports)
        items = [(n, exports[n]) for n in names]
    except Exception as e:
        out["instantiate"] = eng.status_of(e)
        return out
    smith_fuel = dict(items).get(FUEL_EXPORT)
    globals_ = [(n, g, _ty(g.type(store).content)) for n, g in items
                if isinstance(g, lib.Global) and n != FUEL_EXPORT]
    for name, ext in items:
        if not isinstance(ext, lib.Func):
            continue
        try:
            fty = ext.type(store)
            params = [_ty(p) for p in fty.params]
            results = [_ty(r) for r in fty.results]
        except Exception as e:
            out["calls"].append([name, None, eng.status_of(e)])
            continue
        for _ in range(argsets):
            args = make_args(rng, params)
            if smith_fuel is not None:
                smith_fuel.set_value(store, FUEL)
            if fuel is not None:
                store.set_fuel(fuel)
            try:
                status = ["ok", _results(results, ext(store, *args))]
            except Exception as e:
                status = eng.status_of(e)
            # The exported globals after each call: state changes are compared call by call.
            after = [encode(t, g.value(store)) for _, g, t in globals_]
            if fuel is not None and status[0] == "ok":
                # Only after a normal return: Wasmtime charges a block's fuel at its end,
                # so after a trap in mid-block its count is not comparable.
                after.append(["fuel left", store.get_fuel()])
            out["calls"].append([name, [encode(t, a) for t, a in zip(params, args)], status, after])
    for name, ext in items:
        try:
            if isinstance(ext, lib.Global):
                out["globals"][name] = encode(_ty(ext.type(store).content), ext.value(store))
            elif isinstance(ext, lib.Memory):
                n = ext.data_len(store)
                out["memories"][name] = [n, _memory_digest(ext.get_buffer_ptr(store)) if n else ""]
            elif isinstance(ext, lib.Table):
                size = ext.size(store)
                nulls = "".join("0" if encode("ref", ext.get(store, i)) is None else "1"
                                for i in range(min(size, MAX_TABLE_SCAN)))
                out["tables"][name] = [size, nulls]
        except Exception as e:
            out["globals"][name] = eng.status_of(e)
    return out
