"""Compare pywinch's WAT/WAST parser with ``wasm-tools`` over the spec suite.

Used by ``test_spec_suite.py`` and runnable alone for a report::

    python tests/text/suite_compare.py [file.wast ...]

For each script, ``wasm-tools json-from-wast`` writes every module's binary;
pywinch's binaries are matched to them by (command, line).  Modules the
script expects to be valid are also checked with an independent validator
(wasmtime's, the same ``wasmparser`` that ``wasm-tools validate`` runs), and
every ``assert_malformed (module quote ...)`` must raise WatError in pywinch.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

from pywinch.errors import WatError
from pywinch.wasm.text import parse_wast, wat2wasm
from pywinch.wasm.text.wast import ModuleCommand

_VALID_KINDS = {"module", "assert_trap", "assert_unlinkable", "assert_uninstantiable", "assert_exhaustion"}


@dataclass
class FileReport:
    name: str
    compared: int = 0
    equal: int = 0
    differing: list = field(default_factory=list)
    invalid: list = field(default_factory=list)     # expected valid, rejected by the validator
    malformed_checked: int = 0
    validated: int = 0
    malformed_accepted: list = field(default_factory=list)
    missing: list = field(default_factory=list)     # commands present on one side only
    error: str | None = None


def _validator():
    try:
        import wasmtime
    except ImportError:   # pragma: no cover
        return None
    engine = wasmtime.Engine()

    def validate(binary: bytes) -> str | None:
        try:
            wasmtime.Module.validate(engine, binary)
            return None
        except Exception as e:   # wasmtime raises WasmtimeError
            return str(e).splitlines()[0]
    return validate


def _parse_with_wasm_tools(text: bytes) -> bytes | None:
    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp) / "m.wat"
        src.write_bytes(text)
        r = subprocess.run(["wasm-tools", "parse", str(src), "-o", str(src.with_suffix(".wasm"))],
                           capture_output=True)
        return src.with_suffix(".wasm").read_bytes() if r.returncode == 0 else None


def compare_file(path: pathlib.Path, validate=None) -> FileReport:
    rep = FileReport(path.name)
    try:
        script = parse_wast(path.read_text(encoding="utf-8"), str(path))
    except WatError as e:
        rep.error = f"pywinch: {e}"
        return rep
    with tempfile.TemporaryDirectory() as tmp:
        out = pathlib.Path(tmp) / "out.json"
        r = subprocess.run(["wasm-tools", "json-from-wast", str(path), "-o", str(out), "--wasm-dir", tmp],
                           capture_output=True, text=True)
        if r.returncode != 0:
            rep.error = f"wasm-tools: {r.stderr.strip()[:300]}"
            return rep
        ref = json.loads(out.read_text())
        theirs = {}
        for c in ref["commands"]:
            if "filename" in c:
                data = (pathlib.Path(tmp) / c["filename"]).read_bytes()
                theirs[(c["line"], c["type"])] = (c.get("module_type"), data)
    for cmd, mod in script.modules():
        # json-from-wast dates a module by its `module` keyword, pywinch by its `(`.
        kw_at = script.source.find("module", mod.span[0])
        kw_line = script.source.count("\n", 0, kw_at) + 1
        other = theirs.pop((mod.line, cmd.kind), None) or theirs.pop((kw_line, cmd.kind), None)
        if other is None and cmd.kind == "assert_trap":
            # json-from-wast files a trapping instantiation under assert_uninstantiable
            other = theirs.pop((mod.line, "assert_uninstantiable"), None)
        if mod.kind_of_source == "quote":
            if cmd.kind == "assert_malformed":
                rep.malformed_checked += 1
                try:
                    wat2wasm(mod.text)
                    rep.malformed_accepted.append(cmd.line)
                except WatError:
                    pass
                continue
            try:
                binary = wat2wasm(mod.text)
            except WatError as e:
                rep.differing.append((cmd.line, f"quote module rejected: {e}"))
                continue
        else:
            binary = mod.binary
        if cmd.kind == "assert_malformed":
            continue   # binary malformed modules are compared by the binary decoder's tests
        if other is None:
            rep.missing.append((cmd.line, cmd.kind))
            continue
        if other[0] == "text":   # a quote module: wasm-tools leaves its text as is
            other = (other[0], _parse_with_wasm_tools(other[1]))
        rep.compared += 1
        if binary == other[1]:
            rep.equal += 1
        else:
            rep.differing.append((cmd.line, "bytes differ"))
        if validate is not None and cmd.kind in _VALID_KINDS and binary is not None:
            rep.validated += 1
            problem = validate(binary)
            if problem:
                rep.invalid.append((cmd.line, problem))
    for (line, kind), (mtype, _) in theirs.items():
        if kind != "assert_malformed":
            rep.missing.append((line, kind))
    return rep


def suite_files(root: pathlib.Path) -> list[pathlib.Path]:
    return sorted(root.glob("*.wast"))


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
    from conftest import testsuite_dir
    files = [pathlib.Path(a) for a in argv] or suite_files(testsuite_dir())
    validate = _validator()
    tot = FileReport("total")
    bad_files = 0
    for f in files:
        rep = compare_file(f, validate)
        tot.compared += rep.compared
        tot.equal += rep.equal
        tot.malformed_checked += rep.malformed_checked
        tot.validated += rep.validated
        problems = rep.error or rep.differing or rep.invalid or rep.malformed_accepted or rep.missing
        if problems:
            bad_files += 1
            print(f"{rep.name}: error={rep.error} differing={rep.differing[:5]} invalid={rep.invalid[:3]} "
                  f"malformed_accepted={rep.malformed_accepted[:8]} missing={rep.missing[:5]}")
        tot.differing += rep.differing
        tot.invalid += rep.invalid
        tot.malformed_accepted += rep.malformed_accepted
    print(f"files: {len(files)}, with problems: {bad_files}")
    print(f"modules compared: {tot.compared}, byte-equal: {tot.equal}, differing: {len(tot.differing)}, "
          f"expected valid and validated: {tot.validated}, rejected by validator: {len(tot.invalid)}")
    print(f"assert_malformed quote modules: {tot.malformed_checked}, "
          f"rejected by pywinch: {tot.malformed_checked - len(tot.malformed_accepted)}")
    return 0 if not bad_files else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
