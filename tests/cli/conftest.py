"""Helpers for the command-line tests: ``pywinch`` runs as a subprocess, as a user runs it."""

from __future__ import annotations

import importlib.util
import os
import pathlib
import subprocess
import sys

import pytest

TESTS = pathlib.Path(__file__).resolve().parent.parent
PROGRAMS = TESTS / "programs"


def load_wasi_engines():
    """tests/wasi/engines.py (Wasmtime's run of a WASI program), under a name of its own."""
    spec = importlib.util.spec_from_file_location("cli_wasi_engines", TESTS / "wasi" / "engines.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("cli_wasi_engines", mod)
    spec.loader.exec_module(mod)
    return mod


class Cli:
    """``cli(*args, input=b"", env={...}) -> CompletedProcess`` with a private compile cache."""

    def __init__(self, cache_dir: pathlib.Path, pyc_dir: pathlib.Path):
        self.cache_dir = cache_dir
        self.pyc_dir = pyc_dir

    def env(self, extra=None) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYWINCH_")}
        env["PYWINCH_CACHE_DIR"] = str(self.cache_dir)
        # Each subprocess would otherwise compile pywinch's sources anew (~80 ms) when the
        # environment forbids bytecode files: keep them in the session's temporary directory.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(self.pyc_dir)
        env.update(extra or {})
        return env

    def __call__(self, *args, input: bytes = b"", env=None, cwd=None, timeout=120):
        return subprocess.run([sys.executable, "-m", "pywinch", *map(str, args)], input=input,
                              capture_output=True, env=self.env(env), cwd=cwd, timeout=timeout)


@pytest.fixture
def cli(tmp_path_factory):
    return Cli(tmp_path_factory.mktemp("cache"), tmp_path_factory.getbasetemp() / "pyc")


def assert_one_line_error(r, status: int = 1, contains: str = ""):
    err = r.stderr.decode()
    assert r.returncode == status, (r.returncode, err)
    assert "Traceback" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("pywinch: error: "), err
    assert contains in lines[0], err
    return lines[0]
