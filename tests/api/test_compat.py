"""The same program against wasmtime-py and pywinch gives the same results:
the API mirrors wasmtime-py's names and semantics."""

import pytest

import pywinch

wasmtime = pytest.importorskip("wasmtime")

WAT = """
(module
  (import "env" "log" (func $log (param i32 i64 f32 f64)))
  (import "env" "mem" (memory 1 4))
  (import "env" "g" (global $g (mut i32)))
  (import "env" "t" (table 2 funcref))
  (type $ret_i32 (func (result i32)))
  (func $five (result i32) i32.const 5)
  (elem declare func $five)
  (func (export "run") (param i32) (result i32 i64)
    (call $log (local.get 0) (i64.const -2) (f32.const 1.5) (f64.const 2.25))
    (i32.store (i32.const 8) (i32.mul (local.get 0) (i32.const 3)))
    (global.set $g (i32.add (global.get $g) (local.get 0)))
    (table.set (i32.const 1) (ref.func $five))
    (i32.add (call_indirect (type $ret_i32) (i32.const 1)) (memory.grow (i32.const 1)))
    (i64.const 0x7fffffffffffffff))
  (func (export "trap") (result i32) (i32.div_s (i32.const 1) (i32.const 0)))
  (func (export "f32") (param f32) (result f32) local.get 0))
"""


def scenario(w):
    engine = w.Engine()
    store = w.Store(engine)
    logged = []
    i32, i64, f32, f64 = w.ValType.i32(), w.ValType.i64(), w.ValType.f32(), w.ValType.f64()
    log = w.Func(store, w.FuncType([i32, i64, f32, f64], []), lambda *a: logged.append(a))
    mem = w.Memory(store, w.MemoryType(w.Limits(1, 4)))
    g = w.Global(store, w.GlobalType(i32, True), 10)
    t = w.Table(store, w.TableType(w.ValType.funcref(), w.Limits(2, None)), None)
    module = w.Module(engine, WAT)
    out = {
        "imports": [(i.module, i.name) for i in module.imports],
        "exports": [e.name for e in module.exports],
    }
    inst = w.Instance(store, module, [log, mem, g, t])
    ex = inst.exports(store)
    out["run"] = ex["run"](store, 7)
    out["logged"] = logged
    out["mem"] = bytes(mem.read(store, 8, 12))
    out["size"] = (mem.size(store), mem.data_len(store))
    out["g"] = g.value(store)
    out["table"] = t.get(store, 1)(store)
    out["t0"] = t.get(store, 0)
    out["f32"] = ex["f32"](store, 0.1)
    try:
        ex["trap"](store)
    except w.Trap as trap:
        # wasmtime-py's message carries the backtrace too; pywinch's is the spec's words.
        out["trap"] = ("integer divide by zero" in trap.message, [f.func_index for f in trap.frames])
    try:
        ex["run"](store)
    except Exception as e:
        out["arity"] = isinstance(e, (TypeError, w.WasmtimeError))
    try:
        w.Linker(engine).instantiate(store, module)
    except w.WasmtimeError as e:
        out["unlinkable"] = "unknown import" in str(e)
    return out


def test_same_behaviour_as_wasmtime():
    assert scenario(pywinch) == scenario(wasmtime)
