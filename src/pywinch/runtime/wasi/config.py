"""``WasiConfig``: what a WASI guest is given, with wasmtime-py's names.

A config only records choices; :class:`~pywinch.runtime.wasi.WasiCtx` opens
the files and directories when it is created from it, so one config can
serve several stores. Paths that must exist are checked when they are given,
so a mistake is reported where it is made, in one clear line.
"""

from __future__ import annotations

import os
import sys
from typing import Callable, Iterable

from ...errors import WasmError


class WasiConfig:
    """argv, environment, stdio and preopened directories of a WASI guest.

    As in wasmtime-py, ``argv``, ``env``, ``stdin_file``, ``stdout_file``,
    ``stderr_file``, ``stdout_custom`` and ``stderr_custom`` are set as
    attributes; ``inherit_*()`` take them from this process; ``preopen_dir``
    grants a host directory under a guest path. Defaults: no arguments, no
    environment, stdin empty, stdout and stderr discarded.
    """

    def __init__(self) -> None:
        self._argv: list[str] = []
        self._env: list[tuple[str, str]] = []
        # Each stream: ("null",) | ("inherit",) | ("file", path) | ("custom", callable)
        self._stdin: tuple = ("null",)
        self._stdout: tuple = ("null",)
        self._stderr: tuple = ("null",)
        self._preopens: list[tuple[str, str, bool]] = []

    # --- argv and environment ------------------------------------------------
    @property
    def argv(self):
        raise AttributeError("WasiConfig.argv can only be set (as in wasmtime-py)")

    @argv.setter
    def argv(self, values: Iterable[str]) -> None:
        values = list(values)
        for v in values:
            if not isinstance(v, str):
                raise TypeError(f"WASI argv entries must be str, not {type(v).__name__}")
        self._argv = values

    def inherit_argv(self) -> None:
        self._argv = list(sys.argv)

    @property
    def env(self):
        raise AttributeError("WasiConfig.env can only be set (as in wasmtime-py)")

    @env.setter
    def env(self, pairs) -> None:
        items = list(pairs.items()) if isinstance(pairs, dict) else list(pairs)
        env = []
        for item in items:
            try:
                key, value = item
            except (TypeError, ValueError):
                raise TypeError("WASI env must be (name, value) pairs or a dict") from None
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError("WASI environment names and values must be str")
            if "=" in key:
                raise ValueError(f"WASI environment name {key!r} contains '='")
            env.append((key, value))
        self._env = env

    def inherit_env(self) -> None:
        self._env = list(os.environ.items())

    # --- stdio ---------------------------------------------------------------
    def inherit_stdin(self) -> None:
        self._stdin = ("inherit",)

    def inherit_stdout(self) -> None:
        self._stdout = ("inherit",)

    def inherit_stderr(self) -> None:
        self._stderr = ("inherit",)

    @property
    def stdin_file(self):
        raise AttributeError("WasiConfig.stdin_file can only be set (as in wasmtime-py)")

    @stdin_file.setter
    def stdin_file(self, path) -> None:
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise WasmError(f"WASI stdin file {path!r} does not exist or is not a file")
        self._stdin = ("file", path)

    @property
    def stdout_file(self):
        raise AttributeError("WasiConfig.stdout_file can only be set (as in wasmtime-py)")

    @stdout_file.setter
    def stdout_file(self, path) -> None:
        self._stdout = ("file", self._writable(path, "stdout"))

    @property
    def stderr_file(self):
        raise AttributeError("WasiConfig.stderr_file can only be set (as in wasmtime-py)")

    @stderr_file.setter
    def stderr_file(self, path) -> None:
        self._stderr = ("file", self._writable(path, "stderr"))

    @staticmethod
    def _writable(path, stream: str) -> str:
        path = os.fspath(path)
        parent = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(parent) or os.path.isdir(path):
            raise WasmError(f"WASI {stream} file {path!r} cannot be created")
        return path

    @property
    def stdout_custom(self):
        raise AttributeError("WasiConfig.stdout_custom can only be set (as in wasmtime-py)")

    @stdout_custom.setter
    def stdout_custom(self, callback: Callable[[bytes], object]) -> None:
        if not callable(callback):
            raise TypeError("stdout_custom must be callable with the bytes written")
        self._stdout = ("custom", callback)

    @property
    def stderr_custom(self):
        raise AttributeError("WasiConfig.stderr_custom can only be set (as in wasmtime-py)")

    @stderr_custom.setter
    def stderr_custom(self, callback: Callable[[bytes], object]) -> None:
        if not callable(callback):
            raise TypeError("stderr_custom must be callable with the bytes written")
        self._stderr = ("custom", callback)

    # --- filesystem ----------------------------------------------------------
    def preopen_dir(self, path, guest_path: str, fs_mutable: bool = True) -> None:
        """Grants the host directory ``path`` to the guest as ``guest_path``;
        with ``fs_mutable=False`` the guest may only read under it."""
        path = os.fspath(path)
        if not os.path.isdir(path):
            raise WasmError(f"cannot preopen {path!r}: not a directory")
        if not isinstance(guest_path, str) or not guest_path:
            raise WasmError("a preopen's guest path must be a non-empty string")
        self._preopens.append((path, guest_path, bool(fs_mutable)))
