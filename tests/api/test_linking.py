"""Module types, Linker features, Caller, WASI glue, store limits."""

import pathlib

import pytest

import pywinch as wasm

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def test_module_imports_and_exports(compiled, engine):
    m = compiled(engine, """(module
      (import "a" "f" (func (param i32) (result i64)))
      (import "a" "t" (table 1 5 funcref))
      (import "a" "m" (memory 2))
      (import "a" "g" (global (mut f32)))
      (func (export "h") (param f64))
      (export "mem" (memory 0))
      (global $c i64 (i64.const 1)) (export "c" (global $c))
      (table $tab 0 externref) (export "tab" (table $tab)))""")
    imps = m.imports
    assert [(i.module, i.name) for i in imps] == [("a", "f"), ("a", "t"), ("a", "m"), ("a", "g")]
    assert imps[0].type == wasm.FuncType([wasm.ValType.i32()], [wasm.ValType.i64()])
    assert imps[1].type == wasm.TableType(wasm.ValType.funcref(), wasm.Limits(1, 5))
    assert imps[2].type == wasm.MemoryType(wasm.Limits(2, None))
    assert imps[3].type == wasm.GlobalType(wasm.ValType.f32(), True)
    exps = {e.name: e.type for e in m.exports}
    assert exps["h"] == wasm.FuncType([wasm.ValType.f64()], [])
    assert exps["mem"] == wasm.MemoryType(wasm.Limits(2, None))
    assert exps["c"] == wasm.GlobalType(wasm.ValType.i64(), False)
    assert exps["tab"].element == wasm.ValType.externref()


def test_module_inputs(engine, tmp_path):
    wasm.Module.validate(engine, b"\0asm\x01\0\0\0")
    with pytest.raises(wasm.MalformedError):
        wasm.Module.validate(engine, b"\0asm\x02\0\0\0")
    with pytest.raises(wasm.WasmError):
        wasm.Module(engine, b"\0asm\x01\0\0\0\x01")
    with pytest.raises(wasm.WatError):
        wasm.Module(engine, "(module (func (export)))")
    with pytest.raises(wasm.InvalidError):
        wasm.Module(engine, "(module (func (result i32)))")
    p = tmp_path / "m.wat"
    p.write_text('(module (func (export "f") (result i32) i32.const 9))')
    store = wasm.Store(engine)
    assert wasm.Instance(store, wasm.Module.from_file(engine, p), []).exports(store)["f"](store) == 9


def test_instance_exports_mapping(compiled, engine, store):
    m = compiled(engine, '(module (func (export "a")) (memory (export "b") 1) (global (export "c") i32 (i32.const 3)))')
    ex = wasm.Instance(store, m, []).exports(store)
    assert list(ex) == ["a", "b", "c"] and len(ex) == 3
    assert isinstance(ex[0], wasm.Func) and isinstance(ex["b"], wasm.Memory)
    assert ex.by_index[2].value(store) == 3
    assert ex.get("zzz") is None


def test_define_instance_module_and_shared_state(compiled, engine, store):
    lib = compiled(engine, """(module (memory (export "mem") 1) (global $n (export "n") (mut i32) (i32.const 0))
      (table (export "tab") 2 funcref) (elem (i32.const 0) $inc)
      (func $inc (export "inc") (result i32) (global.set $n (i32.add (global.get $n) (i32.const 1))) (global.get $n)))""")
    user = compiled(engine, """(module (import "lib" "inc" (func $inc (result i32)))
      (import "lib" "mem" (memory 1)) (import "lib" "tab" (table 2 funcref))
      (type $t (func (result i32)))
      (func (export "twice") (result i32) (drop (call $inc)) (call_indirect (type $t) (i32.const 0)))
      (func (export "poke") (i32.store8 (i32.const 5) (i32.const 77))))""")
    linker = wasm.Linker(engine)
    lib_inst = wasm.Instance(store, lib, [])
    linker.define_instance(store, "lib", lib_inst)
    ex = linker.instantiate(store, user).exports(store)
    assert ex["twice"](store) == 2
    ex["poke"](store)
    assert lib_inst.exports(store)["mem"].read(store, 5, 6)[0] == 77
    assert lib_inst.exports(store)["n"].value(store) == 2
    # A table element set from Python is callable from Wasm through call_indirect.
    tab = lib_inst.exports(store)["tab"]
    tab.set(store, 0, wasm.Func(store, wasm.FuncType([], [wasm.ValType.i32()]), lambda: 40))
    assert ex["twice"](store) == 40
    linker2 = wasm.Linker(engine)
    linker2.define_module(store, "lib", lib)
    assert linker2.instantiate(store, user).exports(store)["twice"](store) == 2


def test_caller_reaches_the_calling_instance(compiled, engine, store):
    seen = {}

    def host(caller, ptr, n):
        mem = caller["memory"]
        seen["text"] = bytes(mem.read(caller, ptr, ptr + n))
        seen["missing"] = caller.get("nothing")
        return caller["base"](caller) + n

    f = wasm.Func(store, wasm.FuncType([wasm.ValType.i32()] * 2, [wasm.ValType.i32()]), host, access_caller=True)
    m = compiled(engine, """(module (import "" "h" (func $h (param i32 i32) (result i32)))
      (memory (export "memory") 1) (data (i32.const 8) "caller!")
      (func (export "base") (result i32) i32.const 100)
      (func (export "run") (result i32) (call $h (i32.const 8) (i32.const 7))))""")
    ex = wasm.Instance(store, m, [f]).exports(store)
    assert ex["run"](store) == 107
    assert seen == {"text": b"caller!", "missing": None}


def test_get_default_and_unknown_imports_as_traps(compiled, engine, store):
    m = compiled(engine, '(module (import "x" "y" (func $y)) (func (export "") call $y))')
    linker = wasm.Linker(engine)
    linker.define_unknown_imports_as_traps(m)
    inst = linker.instantiate(store, m)
    with pytest.raises(wasm.Trap):
        inst.exports(store)[""](store)
    assert isinstance(linker.get_default(store, "nothing"), wasm.Func)


def test_wasi_program(engine, tmp_path):
    module = wasm.Module.from_file(engine, EXAMPLES / "hello_wasi.wasm")
    store = wasm.Store(engine)
    cfg = wasm.WasiConfig()
    cfg.argv = ["prog", "x"]
    cfg.env = [("WHO", "pywinch")]
    stdin = tmp_path / "in.txt"
    stdin.write_bytes(b"from stdin\n")
    cfg.stdin_file = str(stdin)
    out = []
    cfg.stdout_custom = out.append
    store.set_wasi(cfg)
    linker = wasm.Linker(engine)
    linker.define_wasi()
    inst = linker.instantiate(store, module)
    with pytest.raises(wasm.ExitTrap) as e:
        inst.exports(store)["_start"](store)
    assert e.value.code == 2
    assert b"".join(out).decode() == "arg 0: prog\narg 1: x\nhello, pywinch\nread: from stdin\n"


def test_store_limits(compiled, engine):
    store = wasm.Store(engine)
    store.set_limits(memory_size=2 * 65536, instances=2)
    grow = compiled(engine, '(module (memory (export "m") 1) (func (export "g") (param i32) (result i32) (memory.grow (local.get 0))))')
    ex = wasm.Instance(store, grow, []).exports(store)
    assert ex["g"](store, 1) == 1
    assert ex["g"](store, 1) == -1
    big = compiled(engine, "(module (memory 3))")
    with pytest.raises(wasm.WasmError):
        wasm.Instance(store, big, [])
    wasm.Instance(store, compiled(engine, "(module)"), [])
    with pytest.raises(wasm.WasmError):
        wasm.Instance(store, compiled(engine, "(module)"), [])


def test_instance_pre(compiled, engine):
    m = compiled(engine, '(module (import "env" "f" (func $f (result i32))) (func (export "g") (result i32) call $f))')
    linker = wasm.Linker(engine)
    with pytest.raises(wasm.LinkError, match="unknown import"):
        linker.instantiate_pre(m)
    linker.define_func("env", "f", wasm.FuncType([], [wasm.ValType.i32()]), lambda: 11)
    pre = linker.instantiate_pre(m)
    for _ in range(2):
        store = wasm.Store(engine)
        assert pre.instantiate(store).exports(store)["g"](store) == 11


def test_run_command(tmp_path):
    import subprocess
    import sys
    code = ("import sys; from pywinch.api.wasi import run_command; "
            "sys.exit(run_command(sys.argv[1], ['p', 'a'], {'WHO': 'test'}))")
    r = subprocess.run([sys.executable, "-c", code, str(EXAMPLES / "hello_wasi.wasm")], input=b"line\n",
                       capture_output=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stdout == b"arg 0: p\narg 1: a\nhello, test\nread: line\n"
