"""WASI preview1 (``wasi_snapshot_preview1``) for pywinch.

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
``proc_exit``. Every preview1 function is provided.
"""

from .config import WasiConfig
from .constants import MODULE, errno_from_host, errno_name
from .ctx import SIGNATURES, WasiCtx

__all__ = ["MODULE", "SIGNATURES", "WasiConfig", "WasiCtx", "errno_from_host", "errno_name"]
