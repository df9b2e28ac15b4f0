"""Many instantiations with flat memory use; modules in worker processes."""

import concurrent.futures
import os
import pickle

import pytest

import pywinch as wasm

MOD = """(module (memory (export "mem") 1) (table 4 funcref) (global (mut i32) (i32.const 1))
  (func $f (export "f") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (elem (i32.const 0) $f) (data (i32.const 0) "hello"))"""


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_instantiations_keep_memory_flat(compiled, engine):
    module = compiled(engine, MOD)
    n = int(os.environ.get("PYWINCH_INSTANTIATIONS", "100000"))

    def batch(k):
        for _ in range(k):
            store = wasm.Store(engine)
            inst = wasm.Instance(store, module, [])
            assert inst.exports(store)["f"](store, 1) == 2

    batch(min(2000, n))
    import gc
    gc.collect()
    before = rss_kib()
    batch(n)
    gc.collect()
    after = rss_kib()
    print(f"{n} instantiations: RSS {before} KiB -> {after} KiB")
    assert after - before < 64 * 1024, (before, after)


def _run_in_worker(data: bytes, x: int) -> int:
    module = pickle.loads(data)
    store = wasm.Store(module.engine)
    return wasm.Instance(store, module, []).exports(store)["f"](store, x)


def test_serialized_module_runs_in_process_pool(compiled, engine):
    module = compiled(engine, MOD)
    blob = pickle.dumps(module)
    # spawn: fresh interpreters that never saw the module, as on any platform.
    import multiprocessing
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=2, mp_context=ctx) as pool:
        results = list(pool.map(_run_in_worker, [blob] * 4, range(4)))
    assert results == [1, 2, 3, 4]


def test_serialize_roundtrip_and_corruption(compiled, engine):
    module = compiled(engine, MOD)
    data = module.serialize()
    again = wasm.Module.deserialize(engine, data)
    store = wasm.Store(engine)
    inst = wasm.Instance(store, again, [])
    assert inst.exports(store)["mem"].read(store, 0, 5) == bytearray(b"hello")
    for bad in (b"", b"garbage", bytes(data[:40]), bytes(data[:-3])):
        with pytest.raises(wasm.WasmError):
            wasm.Module.deserialize(engine, bad)
    flipped = bytearray(data)
    flipped[-1] ^= 0xFF
    with pytest.raises(wasm.WasmError):
        wasm.Module.deserialize(engine, bytes(flipped))


def test_serialized_fuel_setting_must_match(compiled):
    cfg = wasm.Config()
    cfg.consume_fuel = True
    fuel_engine = wasm.Engine(cfg)
    module = compiled(fuel_engine, MOD)
    with pytest.raises(wasm.WasmError, match="consume_fuel"):
        wasm.Module.deserialize(wasm.Engine(), module.serialize())
    clone = pickle.loads(pickle.dumps(module))
    assert clone.engine.config.consume_fuel
    store = wasm.Store(clone.engine)
    store.set_fuel(1000)
    assert wasm.Instance(store, clone, []).exports(store)["f"](store, 1) == 2
    with pytest.raises(wasm.WasmError):
        wasm.Instance(wasm.Store(wasm.Engine()), module, [])


def test_stores_with_host_functions_are_freed(compiled, engine):
    module = compiled(engine, '(module (import "env" "f" (func $f (param i32) (result i32))) (memory 1)'
                              ' (func (export "g") (result i32) (call $f (i32.const 2))))')
    linker = wasm.Linker(engine)
    linker.define_func("env", "f", wasm.FuncType([wasm.ValType.i32()], [wasm.ValType.i32()]), lambda x: x + 1)

    def batch(k):
        for _ in range(k):
            store = wasm.Store(engine)
            assert linker.instantiate(store, module).exports(store)["g"](store) == 3

    import gc
    batch(2000)
    gc.collect()
    before = rss_kib()
    batch(20000)
    after = rss_kib()
    assert after - before < 16 * 1024, (before, after)


def test_interrupt_only_code_is_refused_where_epochs_are_on():
    """Code compiled for Ctrl-C only never compares the epoch with the deadline,
    so an engine with epoch_interruption must not load it; the reverse is fine."""
    wat = '(module (func (export "f") (loop (br 0))))'
    plain = wasm.Module(wasm.Engine(), wat).serialize()
    cfg = wasm.Config()
    cfg.epoch_interruption = True
    with pytest.raises(wasm.WasmError, match="epoch"):
        wasm.Module.deserialize(wasm.Engine(cfg), plain)
    with_epochs = wasm.Module(wasm.Engine(cfg), wat).serialize()
    wasm.Module.deserialize(wasm.Engine(), with_epochs)
