"""The output of the compiler: one position-independent code blob and its tables.

A :class:`CompiledModule` is plain data.  The runtime loads it (it never
imports the compiler), places ``code`` in executable memory once, and serves
any number of instances from it: compiled code reaches instance state only
through the vmctx register (r14), calls within the module are rel32, and
builtins are called through the vmctx builtins table.

Offsets below are byte offsets into ``code``.

* ``func_offsets[i]``: entry of the i-th *defined* function (module function
  index ``num_imported_funcs + i``), internal Wasm calling convention
  (docs/architecture.md).
* ``func_ends[i]``: end of that function's code (exclusive), for pc lookup.
* ``trampolines[type_index] = (array_to_wasm, native_to_wasm)``: per module
  type index that some defined function has; ``native_to_wasm`` is -1 when the
  signature has no native form (more than one result, or v128).  Both take the
  callee's code address as their first argument (see ``pywinch.trampoline``).
* ``traps``: sorted list of ``(pc, trap_code, wasm_offset)``.  ``pc`` is what
  compiled code stores in ``limits.trap_pc`` when it traps at that site (the
  return address of the trap stub's call, i.e. an offset just after the
  trapping site's stub call).  ``trap_code`` 0 means "dynamic": the code was
  returned by a builtin and is only in ``limits.trap_code``.
* ``pcmap``: sorted list of ``(pc, wasm_offset)``: return addresses of calls
  (to Wasm functions, imports, builtins) mapped to the byte offset of the call
  instruction in the module, for backtraces of non-top frames.
* ``names``: function names by module function index (from the name section),
  or empty.
* ``opmap``: sorted ``(pc, wasm_offset)`` where the code of each compiled
  operator starts; empty unless compiled with ``opmap=True`` (for explore).
"""

from __future__ import annotations

import bisect
import json
import struct
import zlib

from .errors import WasmError

# ``features["epoch"]``: the interruption checks at function entries and loop
# headers.  DEADLINE traps when the engine's epoch reaches the store's
# deadline (Config.epoch_interruption); INTERRUPT only when the instance's
# Ctrl-C flag (VMCTX_INTERRUPT) is set, which is all that can interrupt without
# epoch_interruption (one compare instead of three dependent loads).
EPOCH_OFF = 0
EPOCH_DEADLINE = 1
EPOCH_INTERRUPT = 2

FORMAT_MAGIC = b"PYWINCH\x00"
FORMAT_VERSION = 1


class CompiledModule:
    """Machine code and metadata of one compiled module (see the module docstring)."""

    __slots__ = ("code", "func_offsets", "func_ends", "trampolines", "traps", "pcmap",
                 "names", "num_imported_funcs", "features", "opmap", "_trap_pcs", "_map_pcs")

    def __init__(self, code: bytes, func_offsets: list[int], func_ends: list[int],
                 trampolines: dict[int, tuple[int, int]], traps: list[tuple[int, int, int]],
                 pcmap: list[tuple[int, int]], names: dict[int, str] | None = None,
                 num_imported_funcs: int = 0, features: dict | None = None, opmap=None):
        self.code = bytes(code)
        self.func_offsets = list(func_offsets)
        self.func_ends = list(func_ends)
        self.trampolines = dict(trampolines)
        self.traps = sorted(traps)
        self.pcmap = sorted(pcmap)
        self.names = dict(names or {})
        self.num_imported_funcs = num_imported_funcs
        self.features = dict(features or {})
        self.opmap = sorted(opmap or ())
        self._trap_pcs = [t[0] for t in self.traps]
        self._map_pcs = [p[0] for p in self.pcmap]

    # --- lookups used by the runtime for traps and backtraces -----------------
    def func_at(self, pc: int) -> int | None:
        """Module function index of the defined function containing code offset ``pc``."""
        i = bisect.bisect_right(self.func_offsets, pc) - 1
        if i >= 0 and pc < self.func_ends[i]:
            return self.num_imported_funcs + i
        return None

    def trap_at(self, pc: int) -> tuple[int, int] | None:
        """``(trap_code, wasm_offset)`` of the trap site whose recorded pc is ``pc``."""
        i = bisect.bisect_left(self._trap_pcs, pc)
        if i < len(self.traps) and self._trap_pcs[i] == pc:
            return self.traps[i][1], self.traps[i][2]
        return None

    def wasm_offset_at(self, pc: int) -> int | None:
        """Wasm byte offset of the call whose return address is ``pc`` (or of a trap site)."""
        i = bisect.bisect_left(self._map_pcs, pc)
        if i < len(self.pcmap) and self._map_pcs[i] == pc:
            return self.pcmap[i][1]
        t = self.trap_at(pc)
        return t[1] if t else None

    # --- serialization ---------------------------------------------------------
    def serialize(self) -> bytes:
        meta = {
            "func_offsets": self.func_offsets,
            "func_ends": self.func_ends,
            "trampolines": {str(k): list(v) for k, v in self.trampolines.items()},
            "traps": [list(t) for t in self.traps],
            "pcmap": [list(p) for p in self.pcmap],
            "names": {str(k): v for k, v in self.names.items()},
            "num_imported_funcs": self.num_imported_funcs,
            "features": self.features,
            "opmap": [list(p) for p in self.opmap],
        }
        mb = json.dumps(meta, separators=(",", ":")).encode()
        body = struct.pack("<II", len(mb), len(self.code)) + mb + self.code
        return FORMAT_MAGIC + struct.pack("<II", FORMAT_VERSION, zlib.crc32(body)) + body

    @classmethod
    def deserialize(cls, data: bytes) -> "CompiledModule":
        """Inverse of :meth:`serialize`; raises ``WasmError`` on foreign, corrupt or old data."""
        data = bytes(data)
        if len(data) < 24 or data[:8] != FORMAT_MAGIC:
            raise WasmError("not a serialized pywinch module")
        version, crc = struct.unpack_from("<II", data, 8)
        if version != FORMAT_VERSION:
            raise WasmError(f"serialized module has format version {version}, expected {FORMAT_VERSION}")
        body = data[16:]
        if zlib.crc32(body) != crc:
            raise WasmError("serialized module is corrupt (checksum mismatch)")
        mlen, clen = struct.unpack_from("<II", body, 0)
        if 8 + mlen + clen != len(body):
            raise WasmError("serialized module is truncated")
        try:
            meta = json.loads(body[8:8 + mlen])
            return cls(
                body[8 + mlen:],
                meta["func_offsets"], meta["func_ends"],
                {int(k): (v[0], v[1]) for k, v in meta["trampolines"].items()},
                [tuple(t) for t in meta["traps"]],
                [tuple(p) for p in meta["pcmap"]],
                {int(k): v for k, v in meta["names"].items()},
                meta["num_imported_funcs"], meta.get("features"),
                [tuple(p) for p in meta.get("opmap", ())],
            )
        except (ValueError, KeyError, TypeError, IndexError) as e:
            raise WasmError(f"serialized module metadata is corrupt: {e}") from None

    def __repr__(self):
        return (f"<CompiledModule {len(self.func_offsets)} functions, {len(self.code)} bytes of code, "
                f"{len(self.trampolines)} signatures>")
