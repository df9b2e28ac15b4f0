"""``pywinch run --invoke``, the exit statuses and the one-line errors."""

from __future__ import annotations

import pytest

from .conftest import PROGRAMS, assert_one_line_error

LIB = """
(module
  (func (export "add") (param i32 i32) (result i32) local.get 0 local.get 1 i32.add)
  (func (export "wide") (param i64) (result i64) local.get 0 i64.const 1 i64.add)
  (func (export "floats") (param f32 f64) (result f32 f64) local.get 0 local.get 1)
  (func (export "multi") (result i32 i64 f32) i32.const -1 i64.const 1099511627776 f32.const 0.5)
  (func (export "nothing"))
  (func $divide (export "div") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func $deep (param i32) (result i32) local.get 0 i32.const 0 call $divide)
  (func (export "nested") (param i32) (result i32) local.get 0 call $deep)
  (func (export "null") (result funcref) ref.null func)
  (func (export "lanes") (param v128) (result v128 i32)
    local.get 0 local.get 0 i32x4.extract_lane 3)
  (memory (export "memory") 1))
"""


@pytest.fixture
def lib(tmp_path):
    p = tmp_path / "lib.wat"
    p.write_text(LIB)
    return p


@pytest.mark.parametrize("name,args,out", [
    ("add", ["2", "40"], "42\n"),
    ("add", ["-5", "3"], "-2\n"),
    ("add", ["0xffffffff", "1"], "0\n"),                     # wraps, printed signed
    ("add", ["2147483647", "1"], "-2147483648\n"),
    ("wide", ["9223372036854775806"], "9223372036854775807\n"),
    ("floats", ["0.1", "1e20"], "0.1\n100000000000000000000\n"),   # shortest f32 digits, no exponent
    ("floats", ["-0", "1.5"], "-0\n1.5\n"),
    ("floats", ["inf", "nan"], "inf\nNaN\n"),
    ("floats", ["3", "1e-7"], "3\n0.0000001\n"),
    ("multi", [], "-1\n1099511627776\n0.5\n"),
    ("nothing", [], ""),
    ("null", [], "<null ref>\n"),
    ("lanes", ["0x0000000700000000000000000000002a"], f"{(7 << 96) | 42}\n7\n"),
    ("lanes", ["-1"], f"{(1 << 128) - 1}\n-1\n"),
])
def test_invoke_prints_results_like_wasmtime(cli, lib, name, args, out):
    r = cli("run", "--invoke", name, lib, *args)
    assert (r.returncode, r.stderr) == (0, b"")
    assert r.stdout.decode() == out


def test_invoke_on_a_wasi_program_runs_initialize_not_start(cli, tmp_path):
    wat = tmp_path / "reactor.wat"
    wat.write_text("""
    (module
      (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
      (memory (export "memory") 1)
      (global $ready (mut i32) (i32.const 0))
      (data (i32.const 16) "ready\\n")
      (func (export "_initialize") (global.set $ready (i32.const 1)))
      (func (export "_start") unreachable)
      (func (export "get") (result i32)
        (i32.store (i32.const 0) (i32.const 16)) (i32.store (i32.const 4) (i32.const 6))
        (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
        global.get $ready))""")
    r = cli("run", "--invoke", "get", wat)
    assert (r.returncode, r.stdout) == (0, b"ready\n1\n"), r.stderr


def test_trap_prints_message_and_backtrace_exit_134(cli, lib):
    r = cli("run", "--invoke", "nested", lib, "7")
    err = r.stderr.decode()
    assert r.returncode == 134              # 128 + SIGABRT, as `wasmtime run`
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines[0] == "pywinch: error: wasm trap: integer divide by zero"
    assert lines[1] == "wasm backtrace:"
    names = [l.rsplit("!", 1)[-1] for l in lines[2:]]
    assert names[:2] == ["divide", "deep"]
    assert len(names) == 3


def _wasmtime_frames(wat):
    import wasmtime
    store = wasmtime.Store()
    inst = wasmtime.Instance(store, wasmtime.Module.from_file(store.engine, str(wat)), [])
    with pytest.raises(wasmtime.Trap) as info:
        inst.exports(store)["_start"](store)
    return [f"{f.module_offset:#x} - <unknown>!{f.func_name or f'<wasm function {f.func_index}>'}"
            for f in info.value.frames]


def _trap_lines(cli, tmp_path, source):
    wat = tmp_path / "t.wat"
    wat.write_text(source)
    r = cli("run", wat)
    assert r.returncode == 134
    return r.stderr.decode().splitlines(), _wasmtime_frames(wat)


def test_trap_in_a_wasi_command(cli, tmp_path):
    # Frames (module offsets, names) as Wasmtime reports them for the same module.
    for source in ('(module (func $boom unreachable) (func (export "_start") call $boom nop))',
                   # the first trap of a process once lost its caller frames (BUGS.md, fixed by H5)
                   '(module (func $boom unreachable) (func (export "_start") call $boom))'):
        lines, frames = _trap_lines(cli, tmp_path, source)
        assert lines == ["pywinch: error: wasm trap: unreachable", "wasm backtrace:",
                         *(f"  {i}: {f}" for i, f in enumerate(frames))]
        assert len(frames) == 2


def test_guest_exit_code_becomes_the_process_status(cli):
    for code in (0, 3, 125):
        r = cli("run", PROGRAMS / "exit_code.wasm", str(code))
        assert r.returncode == code
        assert r.stdout == f"exiting with {code}\n".encode()


# --- errors: one line, a non-zero status ----------------------------------------------------
def test_missing_file(cli, tmp_path):
    assert_one_line_error(cli("run", tmp_path / "nope.wasm"), contains="nope.wasm: no such file")
    assert_one_line_error(cli("compile", tmp_path / "nope.wasm"), contains="no such file")
    assert_one_line_error(cli("explore", tmp_path / "nope.wasm"), contains="no such file")


def test_directory_instead_of_a_module(cli, tmp_path):
    assert_one_line_error(cli("run", tmp_path), contains="is a directory")


@pytest.mark.parametrize("content,message", [
    (b"MZ\x90\x00 not wasm at all", "not a WebAssembly module"),
    (b"\0asm\x01\0\0\0\x01\x05", "(at offset"),                 # truncated section
    (b"\0asm\x02\0\0\0", "version"),
    (b"\0asm\x0d\0\x01\0", "a WebAssembly component, not a core module"),
    (b"(module (func (result i32) i64.const 0))", "type mismatch"),     # invalid
    (b"(module (func", "1:"),                                   # WAT syntax, with line:column
])
def test_malformed_and_invalid(cli, tmp_path, content, message):
    p = tmp_path / "bad.wasm" if content[:1] != b"(" else tmp_path / "bad.wat"
    p.write_bytes(content)
    line = assert_one_line_error(cli("run", p), contains=message)
    assert str(p.name) in line
    assert_one_line_error(cli("compile", p), contains=message)


def test_missing_import(cli, tmp_path):
    p = tmp_path / "imp.wat"
    p.write_text('(module (import "env" "log" (func (param i32))) (func (export "_start")))')
    assert_one_line_error(cli("run", p), contains="unknown import: `env::log` has not been defined")


def test_wasi_import_with_wrong_type(cli, tmp_path):
    p = tmp_path / "imp.wat"
    p.write_text('(module (import "wasi_snapshot_preview1" "fd_write" (func (param i64))) (func (export "_start")))')
    line = assert_one_line_error(cli("run", p))
    assert "fd_write" in line


def test_not_a_command(cli, lib):
    assert_one_line_error(cli("run", lib), contains="not a WASI command: it exports no `_start` function")


def test_invoke_errors(cli, lib):
    assert_one_line_error(cli("run", "--invoke", "nope", lib), contains="no exported function `nope`")
    assert_one_line_error(cli("run", "--invoke", "memory", lib), contains="no exported function `memory`")
    assert_one_line_error(cli("run", "--invoke", "add", lib, "1"),
                          contains="expected 2 argument(s) (i32, i32), got 1")
    assert_one_line_error(cli("run", "--invoke", "add", lib, "1", "2", "3"), contains="got 3")
    assert_one_line_error(cli("run", "--invoke", "add", lib, "one", "2"), contains="'one' is not a valid i32")
    assert_one_line_error(cli("run", "--invoke", "add", lib, "4294967296", "2"), contains="not a valid i32")
    assert_one_line_error(cli("run", "--invoke", "floats", lib, "x", "2"), contains="not a valid f32")


def test_bad_dir_and_env_options(cli, tmp_path):
    wasm = PROGRAMS / "hello.wasm"
    assert_one_line_error(cli("run", "--dir", tmp_path / "missing", wasm), contains="no such directory")
    assert_one_line_error(cli("run", "--dir", f"{tmp_path}::", wasm), contains="HOST_DIR[::GUEST_DIR]")
    assert_one_line_error(cli("run", "--env", "=x", wasm), contains="NAME=VALUE")


def test_foreign_cwasm_is_refused(cli, tmp_path):
    from pywinch import cache
    p = tmp_path / "x.cwasm"
    p.write_bytes(cache.MAGIC + b"\xff\xff\x00\x00{}")
    assert_one_line_error(cli("run", "--allow-precompiled", p), contains="truncated")
    p.write_bytes(cache.MAGIC + b"\x02\x00\x00\x00{}")
    assert_one_line_error(cli("run", "--allow-precompiled", p), contains="compiled by pywinch None")
    assert_one_line_error(cli("run", p), contains="needs --allow-precompiled")


def test_usage_errors_are_argparse_status_2(cli):
    r = cli("run")
    assert r.returncode == 2 and b"Traceback" not in r.stderr
    r = cli("frobnicate")
    assert r.returncode == 2 and b"Traceback" not in r.stderr


def test_version(cli):
    import pywinch
    for flag in ("--version", "-V"):
        r = cli(flag)
        assert (r.returncode, r.stdout.decode()) == (0, f"pywinch {pywinch.__version__}\n")


def test_wast_subcommand_still_works(cli, tmp_path):
    p = tmp_path / "t.wast"
    p.write_text('(module (func (export "f") (result i32) i32.const 7))\n(assert_return (invoke "f") (i32.const 7))\n')
    r = cli("wast", p)
    assert r.returncode == 0, r.stdout + r.stderr


def test_deep_backtrace_is_elided(cli, tmp_path):
    wat = tmp_path / "rec.wat"
    wat.write_text('(module (func (export "_start") (call $f)) (func $f (call $f)))')
    r = cli("run", wat)
    lines = r.stderr.decode().splitlines()
    assert r.returncode == 134
    assert lines[0] == "pywinch: error: wasm trap: call stack exhausted"
    assert len(lines) == 2 + 30 + 1 + 10
    assert lines[2 + 30].startswith("  ... ") and lines[2 + 30].endswith(" frames omitted ...")


def test_trap_in_the_start_function(cli, tmp_path):
    wat = tmp_path / "st.wat"
    wat.write_text('(module (func $s unreachable) (start $s) (func (export "_start")))')
    r = cli("run", wat)
    assert r.returncode == 134
    assert r.stderr.decode().splitlines()[0] == "pywinch: error: wasm trap: unreachable"


def test_ctrl_c_interrupts_a_running_guest(cli, tmp_path):
    import signal
    import subprocess
    import sys
    import time
    wat = tmp_path / "spin.wat"
    wat.write_text('(module (func (export "_start") (loop $l br $l)))')
    proc = subprocess.Popen([sys.executable, "-m", "pywinch", "run", str(wat)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=cli.env())
    time.sleep(1.5)                                 # compiled and spinning
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err == b"pywinch: error: interrupted\n"


def test_timeout_fuel_and_memory_limits(cli, tmp_path):
    spin = tmp_path / "spin.wat"
    spin.write_text('(module (func (export "_start") (loop $l br $l)))')
    r = cli("run", "--timeout", "0.3", spin)
    assert r.returncode == 134 and r.stderr.decode().startswith("pywinch: error: wasm trap: interrupt\n")
    start_spin = tmp_path / "start_spin.wat"
    start_spin.write_text('(module (func $s (loop $l br $l)) (start $s) (func (export "_start")))')
    r = cli("run", "--timeout", "0.3", start_spin)              # the start function is covered too
    assert r.returncode == 134 and b"wasm trap: interrupt" in r.stderr
    r = cli("run", "--fuel", "50000", spin)
    assert r.returncode == 134
    assert r.stderr.decode().startswith("pywinch: error: wasm trap: all fuel consumed by WebAssembly\n")
    r = cli("run", "--fuel", "10000000", PROGRAMS / "hello.wasm", env={"PYWINCH_LOG": "cache"})
    assert (r.returncode, r.stdout) == (0, b"Hello, world!\n")
    assert b"cache: miss" in r.stderr          # code with fuel checks is a cache entry of its own
    r = cli("run", "--fuel", "100", PROGRAMS / "hello.wasm")
    assert r.returncode == 134 and b"all fuel consumed" in r.stderr

    grow = tmp_path / "grow.wat"
    grow.write_text('(module (memory 1) (func (export "_start") (if (i32.eq (memory.grow (i32.const 10)) '
                    '(i32.const -1)) (then unreachable))))')
    assert cli("run", "--max-memory", "256k", grow).returncode == 134
    assert cli("run", "--max-memory", "1m", grow).returncode == 0
    r = cli("run", "--max-memory", "1x", grow)
    assert r.returncode == 2 and b"not a size: '1x'" in r.stderr and b"Traceback" not in r.stderr
    r = cli("run", "--timeout", "0", grow)
    assert r.returncode == 2 and b"must be positive" in r.stderr


def test_arguments_must_be_utf8(cli):
    import os
    import subprocess
    import sys
    wasm = str(PROGRAMS / "args_env.wasm")
    for extra, message in (([b"\xff"], "argument 1 is not valid UTF-8"),
                           ([b"--env", b"A=\xfe"], "--env is not valid UTF-8")):
        argv = [sys.executable.encode(), b"-m", b"pywinch", b"run"]
        argv += (extra + [wasm.encode()]) if extra[0] == b"--env" else ([wasm.encode()] + extra)
        r = subprocess.run(argv, capture_output=True, env=cli.env())
        assert_one_line_error(r, contains=message)


def test_closed_stdout(cli, tmp_path):
    import subprocess
    import sys
    lib = tmp_path / "lib.wat"
    lib.write_text('(module (func (export "one") (result i32) i32.const 1))')
    base = [sys.executable, "-m", "pywinch", "run"]
    r = subprocess.run(base + [str(PROGRAMS / "hello.wasm")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       env=cli.env(), pass_fds=(), close_fds=True, preexec_fn=lambda: __import__("os").close(1))
    assert r.returncode == 0 and r.stderr == b"hello on stderr\n"
    r = subprocess.run(base + ["--invoke", "one", str(lib)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       env=cli.env(), preexec_fn=lambda: __import__("os").close(1))
    assert_one_line_error(r, contains="stdout is closed")


def test_console_script(cli):
    import shutil
    import subprocess
    exe = shutil.which("pywinch")
    if exe is None:
        pytest.skip("the pywinch console script is not installed (pip install -e .)")
    r = subprocess.run([exe, "run", str(PROGRAMS / "exit_code.wasm"), "9"], capture_output=True, env=cli.env())
    assert (r.returncode, r.stdout) == (9, b"exiting with 9\n")
