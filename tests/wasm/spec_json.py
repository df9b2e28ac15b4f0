"""Spec-suite scripts as modules, through `wasm-tools json-from-wast`.

Shared by the spec-suite test and the figures in docs/status.md: for one .wast,
the list of (kind, wasm bytes, expected text, line) where kind is "valid",
"invalid" or "malformed" (binary modules only; text modules wasm-tools cannot
encode are not the decoder's business).
"""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess


def wasm_tools() -> str | None:
    return shutil.which("wasm-tools")


def convert(wast: pathlib.Path, out_dir: pathlib.Path) -> list[tuple[str, bytes, str, int]]:
    out_dir.mkdir(parents=True, exist_ok=True)
    js = out_dir / (wast.stem + ".json")
    if not js.exists():
        subprocess.run([wasm_tools(), "json-from-wast", str(wast), "-o", str(js), "--wasm-dir", str(out_dir)],
                       check=True, capture_output=True)
    cases = []
    for cmd in json.loads(js.read_text())["commands"]:
        t = cmd["type"]
        if cmd.get("module_type") != "binary":
            continue
        if t in ("module", "assert_uninstantiable", "assert_unlinkable"):
            kind = "valid"
        elif t == "assert_invalid":
            kind = "invalid"
        elif t == "assert_malformed":
            kind = "malformed"
        else:
            continue
        data = (out_dir / cmd["filename"]).read_bytes()
        cases.append((kind, data, cmd.get("text", ""), cmd["line"]))
    return cases
