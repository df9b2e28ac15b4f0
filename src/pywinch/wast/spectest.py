"""The ``spectest`` module every WAST script may import.

Written against the wasmtime-py API surface (``api`` is ``pywinch`` or
``wasmtime``), so both backends get the same definitions. Its externs are
created once per store (a script's store); the function types and host
callables are built once per API and reused.
"""

from __future__ import annotations

__all__ = ["define_spectest", "SPECTEST_GLOBALS"]

# name -> (value type, value); f32/f64 are given as the float the spec writes
SPECTEST_GLOBALS = {
    "global_i32": ("i32", 666),
    "global_i64": ("i64", 666),
    "global_f32": ("f32", 666.6),
    "global_f64": ("f64", 666.6),
}

# the print functions: name -> parameter types
SPECTEST_FUNCS = {
    "print": (),
    "print_i32": ("i32",),
    "print_i64": ("i64",),
    "print_f32": ("f32",),
    "print_f64": ("f64",),
    "print_i32_f32": ("i32", "f32"),
    "print_f64_f64": ("f64", "f64"),
}


def _ignore(*args):
    # The reference interpreter prints the arguments; a test runner keeps its
    # output to failures, so the functions only accept their arguments.
    return None


def _func_types(api, cache: dict):
    types = cache.get("spectest")
    if types is None:
        vt = {"i32": api.ValType.i32(), "i64": api.ValType.i64(),
              "f32": api.ValType.f32(), "f64": api.ValType.f64()}
        types = {name: api.FuncType([vt[p] for p in params], []) for name, params in SPECTEST_FUNCS.items()}
        types["_vt"] = vt
        cache["spectest"] = types
    return types


def define_spectest(api, store, linker, cache: dict) -> tuple[dict, dict]:
    """Create the spectest externs in ``store`` and define them in ``linker``.

    Returns ``(externs, errors)`` by name. An extern the runtime cannot create
    is left undefined and its exception put in ``errors``, so scripts that do
    not import it still run; the runner reports the errors once per script.
    ``cache`` keeps the function types between calls: one per engine (the
    backend's), since a runtime may tie types to the engine that made them.
    """
    externs, errors = {}, {}
    try:
        types = _func_types(api, cache)
    except Exception as exc:
        return externs, {name: exc for name in (*SPECTEST_FUNCS, *SPECTEST_GLOBALS, "table", "memory")}
    vt = types["_vt"]
    makers = {name: (lambda name=name: api.Func(store, types[name], _ignore)) for name in SPECTEST_FUNCS}
    for name, (t, value) in SPECTEST_GLOBALS.items():
        makers[name] = (lambda t=t, value=value:
                        api.Global(store, api.GlobalType(vt[t], False), getattr(api.Val, t)(value)))
    makers["table"] = lambda: api.Table(store, api.TableType(api.ValType.funcref(), api.Limits(10, 20)), None)
    makers["memory"] = lambda: api.Memory(store, api.MemoryType(api.Limits(1, 2)))
    for name, make in makers.items():
        try:
            ext = make()
            linker.define(store, "spectest", name, ext)
            externs[name] = ext
        except Exception as exc:
            errors[name] = exc
    return externs, errors
