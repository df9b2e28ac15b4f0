"""WASI preview1 (``wasi_snapshot_preview1``) for pywinch: all 46 functions.

Interface for the runtime's glue (``Linker.define_wasi``)::

    ctx = WasiCtx(config)                  # opens stdio files and preopens
    for name, (params, results, fn) in ctx.functions().items():
        # params/results: tuples of valtype ints (pywinch.wasm.types.I32/I64)
        # define import (MODULE, name) calling  fn(mem, *args)
        ...
    ctx.close()                            # when the store is dropped

``fn(mem, *args)``: ``mem`` is the caller's exported ``"memory"`` as a
writable byte memoryview (``LinearMemory.view()``; None if not exported);
``args`` are the Wasm arguments as ints, signed or unsigned (both accepted);
returns the errno as an int (0 = success), or raises ``ExitTrap`` from
``proc_exit``.

Behaviour follows Wasmtime 50's preview1, checked call by call by
``tests/wasi`` (the errno probe runs the same ~170 calls under both):
escapes from a preopen are EPERM, stdio is a non-seekable stream, rights are
reported but only enforced once the guest drops them, exit statuses of 126
and up trap. Departures, each where Wasmtime leaves preview1 unimplemented
or traps: a pointer outside memory is EFAULT (Wasmtime traps); invalid enum
or flag values are EINVAL (Wasmtime traps); the CPU-time clocks,
``fd_allocate``, ``fd_fdstat_set_rights`` and the dsync/rsync/sync fdflags
work (ENOTSUP or EBADF in Wasmtime).

Modules: ``config`` (WasiConfig), ``ctx`` (WasiCtx, signatures, args, clocks,
random, process, sockets), ``fd_ops``, ``path_ops``, ``poll``, ``paths`` (the
sandboxed walk), ``fdtable``, ``guest`` (checked memory access), ``constants``.
"""

from .config import WasiConfig
from .constants import MODULE, errno_from_host, errno_name
from .ctx import SIGNATURES, WasiCtx

__all__ = ["MODULE", "SIGNATURES", "WasiConfig", "WasiCtx", "errno_from_host", "errno_name"]
