"""``pywinch compile``, ``.cwasm`` files and the compile cache of ``pywinch run``."""

from __future__ import annotations

import io
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

import pywinch
from pywinch import cache, cli as cli_mod

from .conftest import PROGRAMS, assert_one_line_error

HELLO = PROGRAMS / "hello.wasm"


def _entries(d: pathlib.Path) -> list[str]:
    return sorted(p.name for p in d.glob("*.cwasm")) if d.exists() else []


def test_compile_writes_a_cwasm_that_runs(cli, tmp_path):
    out = tmp_path / "hello.cwasm"
    r = cli("compile", HELLO, "-o", out)
    assert (r.returncode, r.stderr) == (0, b"")
    data = out.read_bytes()
    header, at = cache.read_header(data)
    assert header["pywinch"] == pywinch.__version__
    assert header["sha256"] == __import__("hashlib").sha256(HELLO.read_bytes()).hexdigest()
    assert data[at:at + 6] == b"PYWMOD"               # Module.serialize() inside
    assert_one_line_error(cli("run", out), contains="running precompiled code needs --allow-precompiled")
    r = cli("run", "--allow-precompiled", out)
    assert (r.returncode, r.stdout, r.stderr) == (0, b"Hello, world!\n", b"hello on stderr\n")


def test_compile_default_output_name(cli, tmp_path):
    src = tmp_path / "prog.wasm"
    src.write_bytes(HELLO.read_bytes())
    assert cli("compile", src).returncode == 0
    assert (tmp_path / "prog.cwasm").exists()
    assert oct((tmp_path / "prog.cwasm").stat().st_mode & 0o777) != "0o600"   # follows the umask


def test_compile_refuses_a_cwasm(cli, tmp_path):
    out = tmp_path / "a.cwasm"
    cli("compile", HELLO, "-o", out)
    assert_one_line_error(cli("compile", out), contains="already compiled")


def test_run_uses_the_cache_on_the_second_run(cli):
    env = {"PYWINCH_LOG": "cache"}
    first = cli("run", HELLO, env=env)
    second = cli("run", HELLO, env=env)
    for r in (first, second):
        assert r.returncode == 0 and r.stdout == b"Hello, world!\n"
    assert b"pywinch: cache: miss: " in first.stderr
    assert b"pywinch: cache: hit: " in second.stderr
    assert len(_entries(cli.cache_dir)) == 1


def test_compile_fills_the_cache_for_run(cli, tmp_path):
    cli("compile", HELLO, "-o", tmp_path / "h.cwasm")
    r = cli("run", HELLO, env={"PYWINCH_LOG": "cache"})
    assert b"pywinch: cache: hit: " in r.stderr


def test_no_cache_neither_reads_nor_writes(cli):
    r = cli("run", "--no-cache", HELLO, env={"PYWINCH_LOG": "cache"})
    assert r.returncode == 0 and b"cache" not in r.stderr
    assert _entries(cli.cache_dir) == []


def test_key_changes_with_input_and_cpu_features(cli, tmp_path):
    other = tmp_path / "hello2.wasm"
    other.write_bytes(HELLO.read_bytes() + b"\x00\x04\x03abc")     # one more custom section
    cli("run", HELLO)
    r = cli("run", other, env={"PYWINCH_LOG": "cache"})
    assert b"cache: miss" in r.stderr
    r = cli("run", HELLO, env={"PYWINCH_LOG": "cache", "PYWINCH_CPU_FEATURES": "-popcnt"})
    assert b"cache: miss" in r.stderr
    assert len(_entries(cli.cache_dir)) == 3


def test_corrupt_cache_entry_is_replaced(cli):
    cli("run", HELLO)
    (entry,) = cli.cache_dir.glob("*.cwasm")
    data = bytearray(entry.read_bytes())
    data[-100] ^= 0xFF                                    # flips code bytes: the checksum no longer holds
    entry.write_bytes(bytes(data))
    r = cli("run", HELLO, env={"PYWINCH_LOG": "cache"})
    assert (r.returncode, r.stdout) == (0, b"Hello, world!\n")
    assert b"cache: stale" in r.stderr
    r = cli("run", HELLO, env={"PYWINCH_LOG": "cache"})
    assert b"cache: hit" in r.stderr


def test_unwritable_cache_is_skipped(cli, tmp_path):
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    r = cli("run", HELLO, env={"PYWINCH_CACHE_DIR": str(blocked / "sub"), "PYWINCH_LOG": "cache"})
    assert (r.returncode, r.stdout) == (0, b"Hello, world!\n")
    assert b"cache: off" in r.stderr


def test_xdg_cache_home_is_the_default_place(tmp_path, monkeypatch):
    monkeypatch.delenv(cache.ENV_CACHE_DIR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == str(tmp_path / "pywinch")
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache.cache_dir() == str(tmp_path / ".cache" / "pywinch")


def _edited_cwasm(tmp_path, **changes) -> pathlib.Path:
    engine = pywinch.Engine()
    wasm = HELLO.read_bytes()
    data = cache.dumps(engine, pywinch.Module(engine, wasm), wasm)
    header, at = cache.read_header(data)
    header.update(changes)
    h = json.dumps(header).encode()
    p = tmp_path / "edited.cwasm"
    p.write_bytes(cache.MAGIC + len(h).to_bytes(4, "little") + h + data[at:])
    return p


def test_cwasm_of_another_version_is_refused(cli, tmp_path):
    p = _edited_cwasm(tmp_path, pywinch="0.0.1")
    assert_one_line_error(cli("run", "--allow-precompiled", p),
                          contains=f"compiled by pywinch 0.0.1, this is pywinch {pywinch.__version__}")


def test_cwasm_for_missing_cpu_features_is_refused(cli, tmp_path):
    p = _edited_cwasm(tmp_path, cpu=cache.cpu_features() + ["avx1024"])
    assert_one_line_error(cli("run", "--allow-precompiled", p), contains="CPU features this machine lacks (avx1024)")


def test_cwasm_compiled_for_fewer_features_runs(cli, tmp_path):
    out = tmp_path / "base.cwasm"
    assert cli("compile", HELLO, "-o", out, env={"PYWINCH_CPU_FEATURES": "-all"}).returncode == 0
    assert cache.read_header(out.read_bytes())[0]["cpu"] == ["sse2"]
    r = cli("run", "--allow-precompiled", out)
    assert (r.returncode, r.stdout) == (0, b"Hello, world!\n")


# --- in process: a cache hit never reaches the compiler ---------------------------------
def _forbid_compiling(monkeypatch):
    import pywinch.api.compiler as api_compiler
    import pywinch.codegen as codegen

    def refuse(*a, **k):
        raise AssertionError("the compiler was called")
    monkeypatch.setattr(api_compiler, "compile_module", refuse)
    monkeypatch.setattr(codegen, "compile_module", refuse)


def test_cache_hit_and_cwasm_do_not_compile(tmp_path, monkeypatch, capfd):
    monkeypatch.setenv(cache.ENV_CACHE_DIR, str(tmp_path / "c"))
    assert cli_mod.main(["run", str(HELLO)]) == 0
    assert cli_mod.main(["compile", str(HELLO), "-o", str(tmp_path / "h.cwasm")]) == 0
    capfd.readouterr()
    _forbid_compiling(monkeypatch)
    assert cli_mod.main(["run", str(HELLO)]) == 0
    assert cli_mod.main(["run", "--allow-precompiled", str(tmp_path / "h.cwasm")]) == 0
    assert capfd.readouterr().out == "Hello, world!\n" * 2
    # The same run with an empty cache needs the compiler: the check above can fail.
    monkeypatch.setenv(cache.ENV_CACHE_DIR, str(tmp_path / "empty"))
    assert cli_mod.main(["run", str(HELLO)]) == 1
    assert "the compiler was called" in capfd.readouterr().err


def test_cache_hit_is_faster_than_compiling(tmp_path):
    wasm = (PROGRAMS / "copytree.wasm").read_bytes()
    engine = pywinch.Engine()
    c = cache.Cache(str(tmp_path))
    t0 = time.perf_counter()
    c.get_module(engine, wasm)
    miss = time.perf_counter() - t0
    assert c.last == "miss"
    hits = []
    for _ in range(3):
        t0 = time.perf_counter()
        m = c.get_module(engine, wasm)
        hits.append(time.perf_counter() - t0)
        assert c.last == "hit"
    assert min(hits) < miss / 2, (miss, hits)
    assert len(m.exports) >= 1


# --- progress on a terminal -----------------------------------------------------------
def test_progress_callback_reports_every_function():
    engine = pywinch.Engine()
    calls = []
    m = cache.compile_module(engine, HELLO.read_bytes(), lambda d, t: calls.append((d, t)))
    n = len(m.compiled.func_offsets)
    assert calls == [(i, n) for i in range(1, n + 1)]


def test_progress_line_shows_after_a_delay_and_is_cleared():
    out = io.StringIO()
    p = cli_mod._Progress("app.wasm", out)
    p(1, 10)                       # too early: nothing
    assert out.getvalue() == ""
    p.start -= 10
    p(5, 10)
    p(10, 10)
    p.finish()
    text = out.getvalue()
    assert "\rpywinch: compiling app.wasm: 5/10 functions (50%)" in text
    assert text.endswith("10/10 functions (100%)\r\x1b[K")


def _leb(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _big_module(n: int) -> bytes:
    """``n`` functions of 80 operators each and an empty ``_start``, encoded directly (fast)."""
    def section(sid, payload):
        return bytes([sid]) + _leb(len(payload)) + payload
    body = b"\x00" + b"".join(b"\x20\x00\x41" + bytes([i]) + b"\x6c\x21\x00" for i in range(20)) + b"\x20\x00\x0b"
    start = b"\x02\x00\x0b"
    return (b"\0asm\x01\0\0\0"
            + section(1, b"\x02\x60\x01\x7f\x01\x7f\x60\x00\x00")
            + section(3, _leb(n + 1) + b"\x00" * n + b"\x01")
            + section(7, b"\x01\x06_start\x00" + _leb(n))
            + section(10, _leb(n + 1) + (_leb(len(body)) + body) * n + start))


def test_progress_only_on_a_terminal(cli, tmp_path):
    import pty
    import select
    import threading
    big = tmp_path / "big.wasm"
    big.write_bytes(_big_module(16000))             # compiles in about a second, well over the 0.3 s delay
    r = cli("compile", big, "-o", tmp_path / "a.cwasm", "--no-cache")
    assert (r.returncode, r.stderr) == (0, b"")              # not a terminal: silent
    master, slave = pty.openpty()
    chunks = []

    def drain():
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            if not chunk:
                return
            chunks.append(chunk)
    reader = threading.Thread(target=drain, daemon=True)
    proc = subprocess.Popen([sys.executable, "-m", "pywinch", "compile", str(big), "-o", str(tmp_path / "b.cwasm"),
                             "--no-cache"], stderr=slave, stdout=subprocess.DEVNULL, env=cli.env())
    reader.start()
    try:
        assert proc.wait(timeout=120) == 0
        # The slave stays open until the output is read: a closed pty may drop unread bytes.
        deadline = time.monotonic() + 5
        while select.select([master], [], [], 0.2)[0] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        os.close(slave)
        reader.join(5)
        os.close(master)
    seen = b"".join(chunks)
    assert b"pywinch: compiling big.wasm: " in seen and b"16001/16001 functions (100%)" in seen
    assert seen.endswith(b"\r\x1b[K")


def test_cwasm_of_another_build_is_refused(cli, tmp_path):
    p = _edited_cwasm(tmp_path, build="0" * 64)
    assert_one_line_error(cli("run", "--allow-precompiled", p), contains="compiled by another build of pywinch")


def test_build_id_is_part_of_the_key(monkeypatch):
    engine = pywinch.Engine()
    wasm = HELLO.read_bytes()
    key = cache.cache_key(engine, wasm)
    assert key == cache.cache_key(engine, wasm)
    monkeypatch.setattr(cache, "build_id", lambda: "another")
    assert cache.cache_key(engine, wasm) != key


def test_build_id_follows_the_sources_content(tmp_path, monkeypatch):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "cache.py").write_text("x = 1\n")
    (pkg / "sub" / "mod.py").write_text("y = 2\n")
    monkeypatch.setattr(cache, "__file__", str(pkg / "cache.py"))

    def bid():
        cache.build_id.cache_clear()
        return cache.build_id()
    try:
        first = bid()
        os.utime(pkg / "sub" / "mod.py", (1, 1))            # touched, same content: same build
        assert bid() == first
        (pkg / "sub" / "mod.py").write_text("y = 3\n")     # changed: another build
        assert bid() != first
        (pkg / "sub" / "mod.py").write_text("y = 2\n")
        (pkg / "notes.txt").write_text("not source")         # only .py files count
        assert bid() == first
    finally:
        cache.build_id.cache_clear()


def test_cache_entries_of_another_user_are_not_trusted(tmp_path, monkeypatch):
    engine = pywinch.Engine()
    c = cache.Cache(str(tmp_path / "c"))
    c.get_module(engine, HELLO.read_bytes())
    assert (tmp_path / "c").stat().st_mode & 0o777 == 0o700
    c.get_module(engine, HELLO.read_bytes())
    assert c.last == "hit"
    monkeypatch.setattr(os, "getuid", lambda: os.stat(c.path).st_uid + 1)
    c.get_module(engine, HELLO.read_bytes())
    assert c.last in ("miss", "off")           # compiled again, the foreign entry never loaded


def test_compile_with_fuel_for_run_with_fuel(cli, tmp_path):
    plain, fueled = tmp_path / "plain.cwasm", tmp_path / "fuel.cwasm"
    assert cli("compile", HELLO, "-o", plain).returncode == 0
    assert cli("compile", "--fuel", HELLO, "-o", fueled).returncode == 0
    assert_one_line_error(cli("run", "--allow-precompiled", "--fuel", "1000000", plain),
                          contains="compile it again with fuel (pywinch compile --fuel)")
    assert_one_line_error(cli("run", "--allow-precompiled", fueled), contains="compiled with fuel checks")
    r = cli("run", "--allow-precompiled", "--fuel", "1000000", fueled)
    assert (r.returncode, r.stdout) == (0, b"Hello, world!\n")
    r = cli("run", "--allow-precompiled", "--fuel", "100", fueled)
    assert r.returncode == 134 and b"all fuel consumed" in r.stderr
