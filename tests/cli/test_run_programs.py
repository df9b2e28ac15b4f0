"""``pywinch run`` on the C test programs (tests/programs), against Wasmtime's run of the same .wasm.

Each case is run twice from the same starting files: by Wasmtime (wasmtime-py,
tests/wasi/engines.py) and by ``pywinch run`` as a subprocess with the same
argv (``--argv0``), environment (``--env``), directories (``--dir HOST::GUEST``)
and stdin.  Exit code, stdout, stderr and the files left in the directories
must be equal.
"""

from __future__ import annotations

import os
import pathlib
import random
import shutil

import pytest

from .conftest import PROGRAMS, load_wasi_engines

engines = load_wasi_engines()

TEXT_A = "the quick brown fox\njumps over\n\nthe lazy dog\nThe End\n"
TEXT_B = "zeta 10\nalpha 2\nFox 33\nbeta 1\n  spaced   words here \nalpha 2\n"


def _texts(root: pathlib.Path) -> None:
    (root / "a.txt").write_text(TEXT_A)
    (root / "b.txt").write_text(TEXT_B)


def _tree(root: pathlib.Path) -> None:
    (root / "alpha.txt").write_text("a" * 10)
    (root / "beta.bin").write_bytes(bytes(range(256)) * 3)
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "sub" / "inner.txt").write_text("inner\n")
    (root / "link").symlink_to("alpha.txt")


def _copy_src(root: pathlib.Path) -> None:
    (root / "dir" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"alpha\n")
    (root / "big.bin").write_bytes(bytes((i * 7 + 3) % 256 for i in range(200_000)))
    (root / "dir" / "x.txt").write_bytes(b"x" * 5000)


def _sandbox(root: pathlib.Path) -> None:
    (root / "outside.txt").write_text("secret\n")
    box = root / "box"
    (box / "sub").mkdir(parents=True)
    (box / "inside.txt").write_text("inside\n")
    (box / "link_out").symlink_to("../outside.txt")
    (box / "link_abs").symlink_to(root / "outside.txt")
    (box / "link_dir").symlink_to("..")
    (box / "link_in").symlink_to("inside.txt")
    (box / "link_loop").symlink_to("link_loop")


_rng = random.Random(11)
SORT_INPUT = "".join(f"{_rng.randrange(10**6):06d}-{'xyz'[_rng.randrange(3)] * _rng.randrange(1, 9)}\n"
                     for _ in range(800)).encode()

# name: (program, args, env, {guest: host dir relative to the case root}, setup(root), stdin)
CASES = {
    "hello": ("hello", [], {}, {}, None, b""),
    "args_env": ("args_env", ["first", "with space", "ünïcode", "", "-x", "--flag"],
                 {"HOME": "/nowhere", "PYWINCH_SELECTED": "chosen=value", "EMPTY": ""}, {}, None, b""),
    "exit_0": ("exit_code", ["0"], {}, {}, None, b""),
    "exit_7": ("exit_code", ["7"], {}, {}, None, b""),
    "exit_125": ("exit_code", ["125"], {}, {}, None, b""),
    "files": ("files", [], {}, {"/data": "."}, None, b""),
    "listdir": ("listdir", ["/data", "-r"], {}, {"/data": "."}, _tree, b""),
    "listdir_missing": ("listdir", ["/data/nope"], {}, {"/data": "."}, None, b""),
    "wc_files": ("wc", ["/data/a.txt", "/data/b.txt"], {}, {"/data": "."}, _texts, b""),
    "wc_stdin": ("wc", [], {}, {}, None, TEXT_B.encode() * 40),
    "sort_reverse": ("sort", ["-r", "/data/a.txt", "/data/b.txt"], {}, {"/data": "."}, _texts, b""),
    "sort_stdin": ("sort", [], {}, {}, None, SORT_INPUT),
    "grep_n": ("grep", ["-n", "the", "/data/a.txt", "/data/b.txt"], {}, {"/data": "."}, _texts, b""),
    "grep_nomatch": ("grep", ["nomatch", "/data/b.txt"], {}, {"/data": "."}, _texts, b""),
    "grep_missing": ("grep", ["x", "/data/none.txt"], {}, {"/data": "."}, _texts, b""),
    "grep_stdin": ("grep", ["fox"], {}, {}, None, TEXT_A.encode()),
    "random": ("random", [], {}, {}, None, b""),
    "poll": ("poll", [], {}, {}, None, b"ping from stdin\n"),
    "sandbox_escape": ("sandbox_escape", [], {}, {"/data": "box"}, _sandbox, b""),
    "copytree": ("copytree", ["/src", "/dst"], {}, {"/src": "src", "/dst": "dst"},
                 lambda r: (_copy_src(r / "src"), (r / "dst").mkdir()), b""),
}


def _snapshot(root: pathlib.Path) -> dict:
    out = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink():
            out[rel] = ("link", os.readlink(p).replace(str(root), "<root>"))
        elif p.is_dir():
            out[rel] = ("dir",)
        else:
            out[rel] = ("file", p.read_bytes())
    return out


def _prepare(root: pathlib.Path, case) -> dict:
    program, args, env, dirs, setup, stdin = case
    root.mkdir()
    if setup:
        setup(root)
    hosts = {}
    for guest, rel in dirs.items():
        host = root / rel
        host.mkdir(parents=True, exist_ok=True)
        hosts[guest] = str(host)
    return hosts


@pytest.fixture(scope="module")
def wasmtime_engine():
    return engines.WasmtimeEngine()


@pytest.mark.parametrize("name", sorted(CASES))
def test_program_matches_wasmtime(cli, wasmtime_engine, tmp_path, name):
    case = CASES[name]
    program, args, env, dirs, setup, stdin = case
    ref_hosts = _prepare(tmp_path / "wasmtime", case)
    expected = wasmtime_engine.run(engines.Run(program, list(args), dict(env), ref_hosts, stdin))

    hosts = _prepare(tmp_path / "pywinch", case)
    argv = ["run", "--argv0", program]
    for k, v in env.items():
        argv += ["--env", f"{k}={v}"]
    for guest, host in hosts.items():
        argv += ["--dir", f"{host}::{guest}"]
    argv += [PROGRAMS / f"{program}.wasm", *args]
    r = cli(*argv, input=stdin)

    assert r.returncode == expected.exit_code, r.stderr
    assert r.stdout == expected.stdout
    assert r.stderr == expected.stderr
    assert _snapshot(tmp_path / "pywinch") == _snapshot(tmp_path / "wasmtime")


def test_clocks_runs(cli):
    # Wasmtime 50 lacks the CPU-time clocks (tests/wasi/test_programs.py): only pywinch's own answer.
    r = cli("run", PROGRAMS / "clocks.wasm")
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "slept at least 20ms: yes" in out and "cpu time advanced: yes" in out
    assert "BAD" not in out


def test_errno_probe_matches_expectations(cli, tmp_path):
    r = cli("run", "--argv0", "errno_probe", "--dir", f"{tmp_path}::/data", PROGRAMS / "errno_probe.wasm")
    expected = (PROGRAMS.parent / "wasi" / "expected" / "errno_probe.pywinch.txt").read_text()
    assert r.stdout.decode() + f"EXIT {r.returncode}\n" + r.stderr.decode() == expected
    assert os.listdir(tmp_path) == []


def test_invalid_exit_status_is_an_error_not_a_trap(cli):
    # Wasmtime refuses proc_exit(126 and up); its CLI reports a plain error, status 1.
    r = cli("run", PROGRAMS / "exit_code.wasm", "200")
    assert r.returncode == 1
    assert r.stderr.decode().splitlines()[-1] == \
        "pywinch: error: exit with invalid exit status outside of [0..126)"


def test_wild_pointer_is_efault(cli, tmp_path):
    r = cli("run", "--dir", f"{tmp_path}::/data", PROGRAMS / "wild_pointer.wasm", "iovec", input=b"data")
    assert (r.returncode, r.stdout) == (0, b"iovec: errno 21\n")


def test_dir_without_guest_path_keeps_the_host_path(cli, tmp_path):
    _tree(tmp_path)
    r = cli("run", "--dir", tmp_path, PROGRAMS / "listdir.wasm", tmp_path)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.decode().splitlines()
    assert lines[0] == f"{tmp_path}: 4 entries"
    assert lines[1:] == ["f alpha.txt 10", "f beta.bin 768", "l link", "d sub"]


def test_relative_dir_and_dot(cli, tmp_path):
    _texts(tmp_path)
    r = cli("run", "--dir", ".", PROGRAMS / "wc.wasm", "a.txt", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().split() == ["5", "11", str(len(TEXT_A)), "a.txt"]


def test_env_forms(cli):
    r = cli("run", "--env", "PYWINCH_SELECTED", "--env", "A=1", "--env", "A=2",
            PROGRAMS / "args_env.wasm", env={"PYWINCH_SELECTED": "from host", "OTHER": "x"})
    out = r.stdout.decode()
    assert r.returncode == 0, r.stderr
    assert "env[0]=PYWINCH_SELECTED=from host\nenv[1]=A=2\nenvc=2\n" in out
    assert "argv[0]=args_env.wasm\n" in out
    # --env NAME of an unset variable passes nothing; --inherit-env passes everything.
    r = cli("run", "--env", "NOT_SET_ANYWHERE", PROGRAMS / "args_env.wasm")
    assert "envc=0\n" in r.stdout.decode()
    r = cli("run", "--inherit-env", PROGRAMS / "args_env.wasm", env={"PYWINCH_SELECTED": "inherited"})
    assert "PYWINCH_SELECTED=inherited\n" in r.stdout.decode()


def test_double_dash_separates_guest_arguments(cli):
    r = cli("run", PROGRAMS / "args_env.wasm", "--", "--dir", "x")
    assert r.returncode == 0, r.stderr
    assert "argc=3\nargv[0]=args_env.wasm\nargv[1]=--dir\nargv[2]=x\n" in r.stdout.decode()


def test_stdout_to_a_closed_pipe_does_not_crash(cli, tmp_path):
    import subprocess
    import sys
    proc = subprocess.Popen([sys.executable, "-m", "pywinch", "run", PROGRAMS / "sort.wasm"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=cli.env())
    proc.stdout.close()
    _, err = proc.communicate(SORT_INPUT * 20, timeout=60)
    assert b"Traceback" not in err
