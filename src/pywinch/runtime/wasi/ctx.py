"""``WasiCtx``: the state of one WASI guest and its host functions.

The runtime's glue asks :meth:`WasiCtx.functions` for the
``wasi_snapshot_preview1`` imports: for each name, the Wasm parameter and
result types and a Python callable ``fn(mem, *args) -> int | None``. ``mem``
is a writable 1-D byte ``memoryview`` of the calling instance's memory export
``"memory"``, fetched for each call because ``memory.grow`` changes its
length (a ``bytearray`` works too; ``None`` if the module exports no memory,
and then the first memory access raises a ``Trap``). The callable returns the
WASI errno (i32); ``proc_exit`` returns nothing and raises ``ExitTrap``.
No other Python exception leaves a call except ``KeyboardInterrupt`` during a
blocking wait, a ``Trap`` for a missing memory, and genuine bugs.
"""

from __future__ import annotations

import os
import time

from ...errors import ExitTrap, Trap, TrapCode, WasmError
from ...wasm.types import I32, I64
from . import constants as C
from .config import WasiConfig
from .fd_ops import FdOps
from .fdtable import FdTable, FileDesc
from .guest import U32, Fault, MissingMemory, WasiErrno, check, u32_set, u64_set, write_bytes
from .path_ops import PathOps
from .poll import PollOps

_i = I32
_I = I64
# Lowered preview1 signatures: every function returns its errno as an i32,
# except proc_exit, which does not return.
SIGNATURES: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "args_get": ((_i, _i), (_i,)),
    "args_sizes_get": ((_i, _i), (_i,)),
    "environ_get": ((_i, _i), (_i,)),
    "environ_sizes_get": ((_i, _i), (_i,)),
    "clock_res_get": ((_i, _i), (_i,)),
    "clock_time_get": ((_i, _I, _i), (_i,)),
    "fd_advise": ((_i, _I, _I, _i), (_i,)),
    "fd_allocate": ((_i, _I, _I), (_i,)),
    "fd_close": ((_i,), (_i,)),
    "fd_datasync": ((_i,), (_i,)),
    "fd_fdstat_get": ((_i, _i), (_i,)),
    "fd_fdstat_set_flags": ((_i, _i), (_i,)),
    "fd_fdstat_set_rights": ((_i, _I, _I), (_i,)),
    "fd_filestat_get": ((_i, _i), (_i,)),
    "fd_filestat_set_size": ((_i, _I), (_i,)),
    "fd_filestat_set_times": ((_i, _I, _I, _i), (_i,)),
    "fd_pread": ((_i, _i, _i, _I, _i), (_i,)),
    "fd_prestat_get": ((_i, _i), (_i,)),
    "fd_prestat_dir_name": ((_i, _i, _i), (_i,)),
    "fd_pwrite": ((_i, _i, _i, _I, _i), (_i,)),
    "fd_read": ((_i, _i, _i, _i), (_i,)),
    "fd_readdir": ((_i, _i, _i, _I, _i), (_i,)),
    "fd_renumber": ((_i, _i), (_i,)),
    "fd_seek": ((_i, _I, _i, _i), (_i,)),
    "fd_sync": ((_i,), (_i,)),
    "fd_tell": ((_i, _i), (_i,)),
    "fd_write": ((_i, _i, _i, _i), (_i,)),
    "path_create_directory": ((_i, _i, _i), (_i,)),
    "path_filestat_get": ((_i, _i, _i, _i, _i), (_i,)),
    "path_filestat_set_times": ((_i, _i, _i, _i, _I, _I, _i), (_i,)),
    "path_link": ((_i, _i, _i, _i, _i, _i, _i), (_i,)),
    "path_open": ((_i, _i, _i, _i, _i, _I, _I, _i, _i), (_i,)),
    "path_readlink": ((_i, _i, _i, _i, _i, _i), (_i,)),
    "path_remove_directory": ((_i, _i, _i), (_i,)),
    "path_rename": ((_i, _i, _i, _i, _i, _i), (_i,)),
    "path_symlink": ((_i, _i, _i, _i, _i), (_i,)),
    "path_unlink_file": ((_i, _i, _i), (_i,)),
    "poll_oneoff": ((_i, _i, _i, _i), (_i,)),
    "proc_exit": ((_i,), ()),
    "proc_raise": ((_i,), (_i,)),
    "sched_yield": ((), (_i,)),
    "random_get": ((_i, _i), (_i,)),
    "sock_accept": ((_i, _i, _i), (_i,)),
    "sock_recv": ((_i, _i, _i, _i, _i, _i), (_i,)),
    "sock_send": ((_i, _i, _i, _i, _i), (_i,)),
    "sock_shutdown": ((_i, _i), (_i,)),
}

# Clock id -> (its reading in ns, its name for time.get_clock_info). Python's
# portable clocks: the same sources as clock_gettime on POSIX.
_CLOCKS = (
    (time.time_ns, "time"),
    (time.monotonic_ns, "monotonic"),
    (time.process_time_ns, "process_time"),
    (time.thread_time_ns, "thread_time"),
)
_RESOLUTION = tuple(max(1, round(time.get_clock_info(name).resolution * 1e9)) for _, name in _CLOCKS)


def _encode_strings(strings: list[str]) -> list[bytes]:
    out = []
    for s in strings:
        raw = s.encode("utf-8")
        if b"\0" in raw:
            raise WasmError(f"WASI argument or environment entry {s!r} contains a NUL character")
        out.append(raw + b"\0")
    return out


class WasiCtx(FdOps, PathOps, PollOps):
    """One guest's WASI state: arguments, environment, descriptor table.

    Create it from a :class:`WasiConfig` (files and directories are opened
    now; an error is one clear :class:`WasmError`), hand
    :meth:`functions` to the linker, :meth:`close` it when the store goes.
    """

    def __init__(self, config: WasiConfig | None = None):
        config = config if config is not None else WasiConfig()
        self._args = _encode_strings(config._argv)
        self._environ = _encode_strings([f"{k}={v}" for k, v in config._env])
        self.fds = FdTable()
        try:
            self._open_stdio(0, config._stdin, readable=True)
            self._open_stdio(1, config._stdout, readable=False)
            self._open_stdio(2, config._stderr, readable=False)
            for host_path, guest_path, mutable in config._preopens:
                self._preopen(host_path, guest_path, mutable)
        except BaseException:
            self.fds.close_all()
            raise

    # --- set-up --------------------------------------------------------------
    def _open_stdio(self, fd: int, how: tuple, readable: bool) -> None:
        kind = how[0]
        rights = C.RIGHTS_TTY
        if kind == "inherit":
            host_fd, owned = fd, False
        elif kind == "file":
            flags = os.O_RDONLY if readable else (os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            try:
                host_fd = os.open(how[1], flags | getattr(os, "O_CLOEXEC", 0), 0o666)
            except OSError as e:
                raise WasmError(f"cannot open WASI {('stdin', 'stdout', 'stderr')[fd]} file "
                                f"{how[1]!r}: {e.strerror}") from None
            owned = True
        else:
            sink = None if readable else (how[1] if kind == "custom" else _discard)
            self.fds.entries[fd] = FileDesc(None, C.FILETYPE_UNKNOWN, C.RIGHTS_TTY, 0,
                                            owned=False, sink=sink, stream=True)
            return
        # Stdio is a stream even when the host redirects it to a file: no
        # seek, and a terminal shows as a character device (which wasi-libc's
        # isatty checks), anything else as unknown, as in Wasmtime.
        filetype = C.FILETYPE_CHARACTER_DEVICE if os.isatty(host_fd) else C.FILETYPE_UNKNOWN
        self.fds.entries[fd] = FileDesc(host_fd, filetype, rights, 0, owned=owned, stream=True)

    def _preopen(self, host_path: str, guest_path: str, mutable: bool) -> None:
        try:
            host_fd = os.open(host_path, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        except OSError as e:
            raise WasmError(f"cannot preopen {host_path!r}: {e.strerror}") from None
        base, inheriting = C.RIGHTS_DIRECTORY, C.RIGHTS_DIRECTORY_INHERITING
        if not mutable:
            base &= ~C.RIGHTS_MUTATING
            inheriting &= ~C.RIGHTS_MUTATING
        self.fds.insert(FileDesc(host_fd, C.FILETYPE_DIRECTORY, base, inheriting,
                                 preopen=guest_path, mutable=mutable, host_path=host_path))

    def close(self) -> None:
        """Closes every host descriptor the guest holds (inherited stdio stays open)."""
        self.fds.close_all()

    def __enter__(self) -> "WasiCtx":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        fds = getattr(self, "fds", None)
        if fds is not None:
            fds.close_all()

    # --- the import table ----------------------------------------------------
    def functions(self) -> dict:
        """``{name: (param valtypes, result valtypes, fn(mem, *args))}`` for
        every ``wasi_snapshot_preview1`` function."""
        return {name: (params, results, _guard(name, getattr(self, name)))
                for name, (params, results) in SIGNATURES.items()}

    # --- arguments and environment -------------------------------------------
    def args_sizes_get(self, mem, argc_ptr, size_ptr):
        return _sizes(mem, self._args, argc_ptr, size_ptr)

    def args_get(self, mem, argv_ptr, buf_ptr):
        return _strings(mem, self._args, argv_ptr, buf_ptr)

    def environ_sizes_get(self, mem, count_ptr, size_ptr):
        return _sizes(mem, self._environ, count_ptr, size_ptr)

    def environ_get(self, mem, environ_ptr, buf_ptr):
        return _strings(mem, self._environ, environ_ptr, buf_ptr)

    # --- clocks and randomness -----------------------------------------------
    def clock_res_get(self, mem, clock_id, res_ptr):
        clock_id &= U32
        if clock_id >= len(_CLOCKS):
            raise WasiErrno(C.EINVAL)
        u64_set(mem, res_ptr, _RESOLUTION[clock_id])
        return 0

    def clock_time_get(self, mem, clock_id, precision, time_ptr):
        clock_id &= U32
        if clock_id >= len(_CLOCKS):
            raise WasiErrno(C.EINVAL)
        check(mem, time_ptr, 8)
        u64_set(mem, time_ptr, self._clock_now(clock_id))
        return 0

    @staticmethod
    def _clock_now(clock_id: int) -> int:
        return _CLOCKS[clock_id][0]()

    def random_get(self, mem, buf, buf_len):
        buf_len &= U32
        ptr = check(mem, buf, buf_len)
        mem[ptr:ptr + buf_len] = os.urandom(buf_len)
        return 0

    # --- process -------------------------------------------------------------
    def proc_exit(self, mem, code):
        code &= U32
        if code >= 126:
            # As Wasmtime: 126 and up mean "not executable", "not found" and
            # signals to a shell, so a guest cannot claim them.
            raise Trap(TrapCode.HOST_EXCEPTION, "exit with invalid exit status outside of [0..126)")
        raise ExitTrap(code)

    def proc_raise(self, mem, signal):
        # Preview1 deprecated signals; there is no process to signal in a sandbox.
        return C.ENOSYS

    def sched_yield(self, mem):
        yield_ = getattr(os, "sched_yield", None)
        if yield_ is not None:
            yield_()
        return 0

    # --- sockets ---------------------------------------------------------------
    # No socket is ever handed to a guest (there is no preopened-socket
    # option), so a valid descriptor is never a socket.
    def sock_accept(self, mem, fd, flags, fd_ptr):
        self.fds.get(fd)
        return C.ENOTSOCK

    def sock_recv(self, mem, fd, ri_data, ri_data_len, ri_flags, ro_datalen_ptr, ro_flags_ptr):
        self.fds.get(fd)
        return C.ENOTSOCK

    def sock_send(self, mem, fd, si_data, si_data_len, si_flags, so_datalen_ptr):
        self.fds.get(fd)
        return C.ENOTSOCK

    def sock_shutdown(self, mem, fd, how):
        self.fds.get(fd)
        return C.ENOTSOCK


def _discard(data: bytes) -> None:
    """The sink of a stdout/stderr the config did not redirect."""


def _sizes(mem, strings, count_ptr, size_ptr) -> int:
    check(mem, count_ptr, 4)
    check(mem, size_ptr, 4)
    u32_set(mem, count_ptr, len(strings))
    u32_set(mem, size_ptr, sum(len(s) for s in strings))
    return 0


def _strings(mem, strings, array_ptr, buf_ptr) -> int:
    check(mem, array_ptr, 4 * len(strings))
    check(mem, buf_ptr, sum(len(s) for s in strings))
    at = buf_ptr & U32
    for i, s in enumerate(strings):
        u32_set(mem, array_ptr + 4 * i, at)
        write_bytes(mem, at, s)
        at += len(s)
    return 0


def _guard(name: str, method):
    """Wraps a WASI method: normalizes ``mem`` and turns every failure the
    guest may cause into its errno, so no Python exception reaches Wasm."""
    missing = MissingMemory(name)

    def call(mem, *args):
        if mem is None:
            mem = missing
        elif type(mem) is not memoryview or mem.format != "B":
            mem = memoryview(mem).cast("B")
        try:
            return method(mem, *args)
        except WasiErrno as e:
            return e.errno
        except Fault:
            return C.EFAULT
        except OSError as e:
            return C.errno_from_host(e.errno)
        except OverflowError:
            return C.EOVERFLOW

    call.__name__ = call.__qualname__ = name
    call.__doc__ = getattr(method, "__doc__", None)
    return call
