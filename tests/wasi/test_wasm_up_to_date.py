"""The committed .wasm files are what their C sources compile to (when clang
for wasm32-wasi is installed; otherwise skipped: the tests use the committed
binaries and never need clang)."""

from __future__ import annotations

import pathlib
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
FLAGS = ["--target=wasm32-wasi", "--sysroot=/usr", "-O2", "-Wl,--strip-debug"]


def _clang_for_wasi() -> str:
    clang = shutil.which("clang")
    if clang is None or not pathlib.Path("/usr/lib/wasm32-wasi/libc.a").exists():
        pytest.skip("clang with wasi-libc for wasm32-wasi is not installed")
    return clang


@pytest.mark.parametrize("folder,out", [("tests/programs", "tests/programs"),
                                        ("benchmarks/c", "benchmarks/wasm")])
def test_committed_wasm_matches_sources(folder, out, tmp_path):
    clang = _clang_for_wasi()
    stale = []
    for src in sorted((ROOT / folder).glob("*.c")):
        built = tmp_path / f"{src.stem}.wasm"
        subprocess.run([clang, *FLAGS, "-w", "-o", str(built), str(src)], check=True)
        if built.read_bytes() != (ROOT / out / f"{src.stem}.wasm").read_bytes():
            stale.append(src.name)
    assert not stale, f"rebuild with the build script: {stale}"
