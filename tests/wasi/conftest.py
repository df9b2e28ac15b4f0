import pytest

from engines import HybridEngine, PywinchEngine, WasmtimeEngine, pywinch_skip_reason

_ENGINES = {"wasmtime": WasmtimeEngine, "wasmtime+pywinch-wasi": HybridEngine, "pywinch": PywinchEngine}
_cache = {}


@pytest.fixture(params=list(_ENGINES))
def engine(request):
    """Each WASI program case runs under Wasmtime (the reference: it proves
    the expectations), under Wasmtime's code with pywinch's WASI functions,
    and under pywinch itself once ``pywinch.Linker.define_wasi`` exists."""
    name = request.param
    if name == "pywinch":
        reason = pywinch_skip_reason()
        if reason:
            pytest.skip(reason)
    if name not in _cache:
        _cache[name] = _ENGINES[name]()
    return _cache[name]
