"""Random 2.0 modules (``wasm-tools smith``), printed flat and folded, encode as wasm-tools encodes them."""

import random
import subprocess

import pytest

from pywinch.wasm.text import wat2wasm

from wasm_tools import HAVE_WASM_TOOLS

# WebAssembly 2.0: SIMD, reference types, bulk memory, multi-value, no later proposals.
SMITH_FLAGS = [
    "--exceptions-enabled", "false", "--gc-enabled", "false", "--compact-imports-enabled", "false",
    "--custom-descriptors-enabled", "false", "--custom-page-sizes-enabled", "false",
    "--memory64-enabled", "false", "--relaxed-simd-enabled", "false",
    "--shared-everything-threads-enabled", "false", "--tail-call-enabled", "false",
    "--threads-enabled", "false", "--wide-arithmetic-enabled", "false", "--extended-const-enabled", "false",
    "--simd-enabled", "true", "--max-memories", "1", "--max-tables", "3",
]


@pytest.mark.skipif(not HAVE_WASM_TOOLS, reason="wasm-tools is not installed")
def test_smith_modules_roundtrip(tmp_path):
    rnd = random.Random(2024)
    checked = 0
    for k in range(12):
        seed = rnd.randbytes(rnd.randint(200, 4000))
        wasm = tmp_path / f"s{k}.wasm"
        subprocess.run(["wasm-tools", "smith", *SMITH_FLAGS, "-o", str(wasm)], input=seed, check=True,
                       capture_output=True)
        for fold in ([], ["--fold-instructions"]):
            text = subprocess.run(["wasm-tools", "print", *fold, str(wasm)], check=True, capture_output=True,
                                  text=True).stdout
            wat = tmp_path / f"s{k}{len(fold)}.wat"
            wat.write_text(text)
            subprocess.run(["wasm-tools", "parse", str(wat), "-o", str(wat.with_suffix(".wasm"))], check=True)
            assert wat2wasm(text) == wat.with_suffix(".wasm").read_bytes(), f"seed {k} fold={bool(fold)}"
            checked += 1
    assert checked == 24
