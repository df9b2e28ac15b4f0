"""Compiled-code artifacts: ``.cwasm`` files and the compile cache of ``pywinch run``.

A ``.cwasm`` (what ``pywinch compile`` writes, and what the cache holds) is
``Module.serialize()`` behind a small header saying who made it and for
what::

    b"PYWCWASM"  u32 header length  header (JSON)  Module.serialize() bytes

The header records the pywinch version and a hash of its sources (a build
id), the CPU features the code may use, the engine settings that change the
code (fuel, epoch checks, guarded memories) and the sha256 of the Wasm input.  Loading refuses
an artifact made by another pywinch version or build, or for CPU features
this machine lacks: running code with instructions the CPU does not have, or
laid out for another runtime, would crash instead of trapping.

The cache (``$PYWINCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/pywinch``, else
``~/.cache/pywinch``) stores one artifact per key: the sha256 of all of the
above, so any change of one of them is a miss, never a stale hit.  Writes go
through a temporary file and ``os.replace``: concurrent runs never read half
an artifact.  A cache that cannot be read or written is skipped, never an
error.  Beyond ``Cache.MAX_BYTES`` the least recently used entries are
deleted (a hit touches its entry).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import struct
import tempfile

from . import __version__
from .errors import WasmError
from .api.compiler import epoch_mode
from .api.engine import heap_guard

MAGIC = b"PYWCWASM"
_LEN = struct.Struct("<I")
ENV_CACHE_DIR = "PYWINCH_CACHE_DIR"


def cpu_features() -> list[str]:
    """The CPU features compiled code may use here (sorted)."""
    from .isa.x64 import cpu
    return sorted(cpu.features())


def _settings(engine) -> dict:
    cfg = engine.config
    return {"fuel": bool(cfg.consume_fuel),
            "epoch": epoch_mode(cfg),
            "guard": heap_guard(cfg),
            "features": sorted(k for k, on in cfg.features().items() if on)}


@functools.lru_cache(maxsize=None)
def build_id() -> str:
    """sha256 of pywinch's own sources (~5 ms).

    The version string alone would let code compiled by an older checkout of
    the same version be loaded after the compiler or the runtime's layout
    changed: a crash, not a trap.  The same sources installed anywhere give
    the same id, so a .cwasm still travels between machines."""
    root = os.path.dirname(os.path.abspath(__file__))
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                path = os.path.join(dirpath, name)
                h.update(os.path.relpath(path, root).encode() + b"\0")
                with open(path, "rb") as f:
                    h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def header_for(engine, wasm: bytes) -> dict:
    return {"pywinch": __version__, "build": build_id(), "cpu": cpu_features(), **_settings(engine),
            "sha256": hashlib.sha256(wasm).hexdigest()}


def cache_key(engine, wasm: bytes) -> str:
    h = header_for(engine, wasm)
    return hashlib.sha256(json.dumps(h, sort_keys=True).encode()).hexdigest()


# --- .cwasm files -----------------------------------------------------------------
def is_cwasm(data: bytes) -> bool:
    return data[:8] == MAGIC


def dumps(engine, module, wasm: bytes) -> bytes:
    """The ``.cwasm`` bytes of ``module`` (compiled by ``engine`` from ``wasm``)."""
    header = json.dumps(header_for(engine, wasm), sort_keys=True).encode()
    return MAGIC + _LEN.pack(len(header)) + header + bytes(module.serialize())


def read_header(data: bytes) -> tuple[dict, int]:
    """(header, offset of the serialized module) of ``.cwasm`` bytes."""
    if not is_cwasm(data) or len(data) < 12:
        raise WasmError("not a pywinch .cwasm file")
    (n,) = _LEN.unpack_from(data, 8)
    if 12 + n > len(data):
        raise WasmError(".cwasm file is truncated")
    try:
        header = json.loads(data[12:12 + n])
    except ValueError:
        header = None
    if not isinstance(header, dict):
        raise WasmError(".cwasm file is corrupt (bad header)")
    return header, 12 + n


def loads(engine, data: bytes):
    """A ``Module`` from ``.cwasm`` bytes; ``WasmError`` if they do not fit this pywinch, CPU or engine."""
    from .api.module import Module
    header, at = read_header(data)
    made_by = header.get("pywinch")
    if made_by != __version__:
        raise WasmError(f"compiled by pywinch {made_by}, this is pywinch {__version__}: compile it again")
    if header.get("build") != build_id():
        raise WasmError(f"compiled by another build of pywinch {__version__} (its sources differ): "
                        "compile it again")
    missing = sorted(set(header.get("cpu") or ()) - set(cpu_features()))
    if missing:
        raise WasmError(f"compiled for CPU features this machine lacks ({', '.join(missing)}): compile it again")
    mine = _settings(engine)
    if header.get("fuel") != mine["fuel"]:
        raise WasmError("compiled with fuel checks, for runs with fuel: compile it again without"
                        if header.get("fuel") else
                        "compiled without the fuel checks fuel needs: compile it again with fuel "
                        "(pywinch compile --fuel)")
    for key in ("epoch", "guard", "features"):
        if header.get(key) != mine[key]:
            raise WasmError(f"compiled with other engine settings ({key}): compile it again")
    return Module.deserialize(engine, data[at:])


# --- compiling -------------------------------------------------------------------
def compile_module(engine, wasm: bytes, progress=None):
    """``Module(engine, wasm)``, reporting ``progress(done, total)`` after each function.

    The public ``Module`` constructor takes no progress callback, so with one
    this drives the compiler with the engine's settings (as
    ``pywinch.api.compiler.compile_module`` does) and assembles the Module
    from the result.  See .agents/CONTRACT_CHANGES.md (H9) for the request
    that makes this path unnecessary."""
    from .api.module import Module, _to_binary
    if progress is None or not hasattr(Module, "_setup"):
        return Module(engine, wasm)
    from .api.compiler import compile_module as compile_decoded
    from .wasm.binary import decode_module
    binary = _to_binary(wasm)
    m = decode_module(binary)
    compiled = compile_decoded(m, engine.config, progress=progress)
    mod = Module.__new__(Module)
    mod._setup(engine, binary, m, compiled)
    return mod


# --- the cache directory ------------------------------------------------------------
def cache_dir() -> str:
    d = os.environ.get(ENV_CACHE_DIR)
    if d:
        return d
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "pywinch")


class Cache:
    """``get_module(engine, wasm)`` loads from the cache or compiles and stores.

    ``last`` says what the latest call did: ``"hit"``, ``"miss"`` (compiled and
    stored), ``"stale"`` (an unusable entry was replaced) or ``"off"``
    (compiled, nothing stored: the directory is not writable)."""

    MAX_BYTES = 512 << 20       # beyond this the least recently used entries go

    def __init__(self, directory: str | None = None, max_bytes: int | None = None):
        self.directory = directory or cache_dir()
        self.max_bytes = self.MAX_BYTES if max_bytes is None else max_bytes
        self.last: str | None = None
        self.path: str | None = None

    def entry(self, engine, wasm: bytes) -> str:
        return os.path.join(self.directory, cache_key(engine, wasm) + ".cwasm")

    def get_module(self, engine, wasm: bytes, progress=None):
        path = self.path = self.entry(engine, wasm)
        stale = False
        try:
            with open(path, "rb") as f:
                # Machine code is trusted only from the user's own files.
                data = f.read() if os.fstat(f.fileno()).st_uid == os.getuid() else None
        except OSError:
            data = None
        if data is not None:
            try:
                module = loads(engine, data)
                self.last = "hit"
                try:
                    os.utime(path)      # the mtime records the last use, for pruning
                except OSError:
                    pass
                return module
            except WasmError:
                stale = True     # corrupt or foreign: compile again and replace it
        module = compile_module(engine, wasm, progress)
        stored = self.put(engine, wasm, dumps(engine, module, wasm))
        self.last = ("stale" if stale else "miss") if stored else "off"
        return module

    def put(self, engine, wasm: bytes, data: bytes) -> bool:
        """Store ``.cwasm`` bytes made by ``engine`` from ``wasm``; False when the cache is not writable."""
        path = self.path = self.entry(engine, wasm)
        try:
            os.makedirs(self.directory, mode=0o700, exist_ok=True)
            write_atomic(path, data)
        except OSError:
            return False
        self.prune(keep=path)
        return True

    def prune(self, keep: str | None = None) -> int:
        """Delete the least recently used entries while the cache exceeds ``max_bytes``; how many."""
        entries = []
        try:
            with os.scandir(self.directory) as it:
                for e in it:
                    if e.name.endswith(".cwasm") and e.is_file(follow_symlinks=False):
                        st = e.stat(follow_symlinks=False)
                        entries.append((st.st_mtime, st.st_size, e.path))
        except OSError:
            return 0
        total = sum(size for _, size, _ in entries)
        removed = 0
        for _, size, p in sorted(entries):
            if total <= self.max_bytes:
                break
            if keep is not None and os.path.abspath(p) == os.path.abspath(keep):
                continue
            try:
                os.unlink(p)
            except OSError:
                continue
            total -= size
            removed += 1
        return removed


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part."""
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".pywinch-", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())      # mkstemp makes it 0600; a written file follows the umask
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
