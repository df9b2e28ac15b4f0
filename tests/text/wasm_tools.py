"""Run ``wasm-tools parse`` on module texts (one process for many modules)."""

from __future__ import annotations

import json
import pathlib
import shutil
import subprocess
import tempfile

HAVE_WASM_TOOLS = shutil.which("wasm-tools") is not None


def parse_many(texts: list[str]) -> list[bytes | None]:
    """wasm-tools' binary for each module text (None where it rejects the text).

    The texts go into one .wast script as ``(module quote ...)``-free plain
    modules, so a single ``json-from-wast`` encodes them all.
    """
    out: list[bytes | None] = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, text in enumerate(texts):
            src = pathlib.Path(tmp) / f"m{k}.wat"
            src.write_text(text, encoding="utf-8")
        # one wast with every module, in order
        wast = pathlib.Path(tmp) / "all.wast"
        wast.write_text("\n".join(texts), encoding="utf-8")
        r = subprocess.run(["wasm-tools", "json-from-wast", str(wast), "-o", f"{tmp}/all.json",
                            "--wasm-dir", tmp], capture_output=True, text=True)
        if r.returncode == 0:
            cmds = json.loads(pathlib.Path(f"{tmp}/all.json").read_text())["commands"]
            if len(cmds) == len(texts):
                return [(pathlib.Path(tmp) / c["filename"]).read_bytes() for c in cmds]
        for k in range(len(texts)):   # some text is rejected: one process each
            src = pathlib.Path(tmp) / f"m{k}.wat"
            r = subprocess.run(["wasm-tools", "parse", str(src), "-o", str(src.with_suffix(".wasm"))],
                               capture_output=True)
            out.append(src.with_suffix(".wasm").read_bytes() if r.returncode == 0 else None)
    return out
