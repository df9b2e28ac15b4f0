"""Implementation limits: pywinch takes Wasmtime's (wasmparser's), so both
accept and refuse the same modules; each case checks the limit and one past it,
and, where wasm-tools is installed, that it decides the same."""

from __future__ import annotations

import subprocess

import pytest

from pywinch.errors import MalformedError
from pywinch.wasm import decode_module, validate_bytes
from pywinch.wasm.types import I32

from .smith_compare import wasm_tools_exe
from .wasmbuild import body, functype, module, name, one_func, section, u, vec

T = section(1, vec([functype()]))

CASES = {
    "params": (lambda n: module(section(1, vec([functype([I32] * n)]))), 1000, "function params size"),
    "results": (lambda n: module(section(1, vec([functype((), [I32] * n)]))), 1000, "function returns size"),
    "locals with params": (lambda n: one_func(b"\x0b", params=[I32] * 1000, locals_=[(n - 1000, I32)]), 50000,
                           "too many locals"),
    "export name": (lambda n: module(T, section(3, vec([u(0)])), section(7, vec([name("a" * n) + b"\x00\x00"])),
                                     section(10, vec([body(b"\x0b")]))), 100000, "string size out of bounds"),
    "custom section name": (lambda n: module(section(0, name("c" * n))), 100000, "string size out of bounds"),
    "element segments": (lambda n: module(section(9, vec([b"\x01\x00\x00"] * n))), 100000,
                         "element segments count exceeds limit"),
    "data segments": (lambda n: module(section(11, vec([b"\x01\x00"] * n))), 100000,
                      "data segments count exceeds limit"),
    "functions": (lambda n: module(T, section(3, vec([u(0)] * n))), 1000000, "functions count exceeds limit"),
    "function size": (lambda n: one_func(b"\x01" * (n - 2) + b"\x0b"), 7654321, "function body size exceeds"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_limit(case, tmp_path):
    make, limit, message = CASES[case]
    at, past = make(limit), make(limit + 1)
    with pytest.raises(MalformedError, match=message):
        decode_module(past)
    if case == "functions":
        # Without a code section the limit module is malformed for another
        # reason: the limit itself is what must not be reported.
        with pytest.raises(MalformedError, match="inconsistent lengths"):
            decode_module(at)
    elif case == "function size":
        decode_module(at)
    else:
        validate_bytes(at)
    exe = wasm_tools_exe()
    if exe is not None and case not in ("functions", "function size"):
        for data, ok in ((at, True), (past, False)):
            f = tmp_path / "m.wasm"
            f.write_bytes(data)
            p = subprocess.run([exe, "validate", "--features", "wasm2", str(f)], capture_output=True)
            assert (p.returncode == 0) == ok, p.stderr
