"""Hostile input: mutated and truncated modules through decode, validate, compile,
instantiate and call.  pywinch may refuse them (its own exceptions only), must
never crash or hang, and should make the same accept/reject decision as Wasmtime.

Mutant ``(seed, i)`` is fully determined: a base module (a smith module, or one of
the corpus files) and a list of edits drawn from ``random.Random(seed, i)``; about
one in seven is a smith module printed as WAT with text-level edits instead.
Calls run under an epoch deadline (a background thread ticks the epoch), so a
mutant that loops forever is interrupted, which also exercises interruption.
"""

from __future__ import annotations

import pathlib
import random
import subprocess
import threading
import time
import traceback

from fuzz import difffuzz, engines

ROOT = pathlib.Path(__file__).resolve().parents[2]
TICK = 0.02          # seconds between epoch ticks
DEADLINE_TICKS = 10  # so each call runs at most ~0.2 s


def corpus_files() -> list[str]:
    files = sorted(str(p) for p in (ROOT / "tests" / "programs").glob("*.wasm"))
    files += sorted(str(p) for p in (ROOT / "tests" / "fuzz" / "regressions").glob("*.wasm"))
    return files


def _leb_positions(data: bytes) -> list[int]:
    return [i for i, b in enumerate(data) if b & 0x80]


def mutate(data: bytes, rng: random.Random) -> bytes:
    b = bytearray(data)
    for _ in range(rng.choice([1, 1, 1, 2, 3, 8])):
        if not b:
            break
        op = rng.randrange(9)
        i = rng.randrange(len(b))
        if op == 0:
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            b[i] = rng.choice([0x00, 0x7F, 0x80, 0xFF, 0x40, 0x41, 0x0B, 0x01, 0x10, 0x11, 0xFC, 0xFD])
        elif op == 2:
            del b[i:i + rng.randrange(1, 8)]
        elif op == 3:
            b[i:i] = bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 8)))
        elif op == 4:
            del b[rng.randrange(8, len(b) + 1) if len(b) > 8 else i:]   # truncate
        elif op == 5:   # overlong or runaway LEB128
            b[i:i + 1] = rng.choice([b"\xff\xff\xff\xff\x0f", b"\x80\x80\x80\x80\x80\x00", b"\xff" * 12])
        elif op == 6:
            j = rng.randrange(len(b))
            n = rng.randrange(1, 32)
            b[i:i] = b[j:j + n]                                             # duplicate a chunk
        elif op == 7:
            leb = _leb_positions(b)
            if leb:
                k = rng.choice(leb)
                b[k] = rng.choice([0x80, 0xFF, 0xBF])
        else:
            b[i] = (b[i] + rng.choice([-1, 1])) & 0xFF                     # off-by-one count/index
    return bytes(b)


TEXT_TOKENS = ["(", ")", "((", "))", "(module", "(func", "i32.const", "i64.const 0x", "f32.const nan:0x",
               "f64.const -inf", '"', '"\\', "\\u{110000}", ";;", "(;", ";)", "$", "$x", "offset=", "align=3",
               "9" * 40, "0x" + "f" * 30, "-0", "(param", "(result", "(type 99)", "(@custom", "end", "block",
               "\u00e9", "\x00", "\t", "+", "_", "1_", "(ref null", "(export \"\")"]


def mutate_text(text: str, rng: random.Random) -> str:
    """Edits that keep a text mostly WAT-shaped: tokens in, spans out or doubled."""
    t = text
    for _ in range(rng.choice([1, 1, 2, 4])):
        if not t:
            break
        i = rng.randrange(len(t))
        op = rng.randrange(5)
        if op == 0:
            t = t[:i] + rng.choice(TEXT_TOKENS) + t[i:]
        elif op == 1:
            t = t[:i] + t[i + rng.randrange(1, 12):]
        elif op == 2:
            j = rng.randrange(len(t))
            t = t[:i] + t[j:j + rng.randrange(1, 80)] + t[i:]
        elif op == 3:
            t = t[:i]                                              # truncated
        else:
            t = t[:i] + " " + rng.choice(TEXT_TOKENS) + " " + t[i + 1:]
    return t


def mutant(req: dict) -> bytes | str:
    """Mutated module bytes or, for about one case in six, mutated WAT text."""
    rng = random.Random(f"pywinch-hostile:{req['seed']}:{req['index']}")
    corpus = req.get("corpus") or []
    if rng.random() < 0.15:
        plan = difffuzz.case_plan(req["seed"] + 104729, req["index"])
        base = difffuzz.smith(req["exe"], plan)
        if base:
            printed = subprocess.run([req["exe"], "print", "-"], input=base, capture_output=True)
            if printed.returncode == 0:
                return mutate_text(printed.stdout.decode(), rng)
    if corpus and rng.random() < 0.3:
        base = pathlib.Path(rng.choice(corpus)).read_bytes()
    else:
        plan = difffuzz.case_plan(req["seed"] + 7919, req["index"])
        base = difffuzz.smith(req["exe"], plan) or b"\0asm\1\0\0\0"
    return mutate(base, rng)


_state: dict = {}


def _engines():
    if not _state:
        pw = engines.Pywinch(epoch=True)
        import wasmtime
        _state["pw"] = pw
        _state["wt"] = wasmtime.Engine(engines.wasmtime_config())

        def tick():
            while True:
                time.sleep(TICK)
                pw.engine.increment_epoch()

        threading.Thread(target=tick, daemon=True).start()
    return _state["pw"], _state["wt"]


def run_case(req: dict) -> dict:
    """Reply: verdict ok | error (a foreign exception) | disagree (validation differs)."""
    import pywinch
    import wasmtime
    pw, wt_engine = _engines()
    data = mutant(req)
    try:
        wasmtime.Module.validate(wt_engine, wasmtime.wat2wasm(data) if isinstance(data, str) else data)
        ref = "accept"
    except Exception as e:
        ref = "reject: " + str(e).splitlines()[0][:200]
    stage = "compile"
    got = "accept"
    detail = ""
    try:
        module = pywinch.Module(pw.engine, data)
        store = pywinch.Store(pw.engine)
        store.set_epoch_deadline(DEADLINE_TICKS)
        stage = "instantiate"
        inst = pywinch.Instance(store, module, [])
        stage = "call"
        rng = random.Random(req["index"])
        for name, ext in inst.exports(store).items():
            if isinstance(ext, pywinch.Func):
                params = [engines._ty(p) for p in ext.type(store).params]
                store.set_epoch_deadline(DEADLINE_TICKS)
                try:
                    ext(store, *engines.make_args(rng, params))
                except pywinch.Trap:
                    pass
    except pywinch.UnsupportedError as e:
        got = "unsupported"
        detail = str(e)
    except pywinch.WasmError as e:
        if stage == "compile":
            got = "reject: " + str(e)[:200]
    except RecursionError as e:
        return {"verdict": "error", "stage": stage, "detail": "RecursionError " + _tb(e)}
    except Exception as e:
        return {"verdict": "error", "stage": stage, "detail": f"{type(e).__name__} {_tb(e)}"}
    if got == "unsupported":
        return {"verdict": "unsupported", "detail": detail}
    if (got == "accept") != (ref == "accept"):
        # The text format has dialects (Wasmtime's parser takes annotations, folded forms
        # and escapes at its own edge): text disagreements are reported, not failures.
        # (Bytes without the binary magic are read as text by both engines.)
        as_text = isinstance(data, str) or data[:4] != b"\0asm"
        verdict = "text_disagree" if as_text else "disagree"
        return {"verdict": verdict, "detail": f"wasmtime {ref}; pywinch {got}"}
    return {"verdict": "ok", "detail": got}


def _tb(e: BaseException) -> str:
    return "".join(traceback.format_exception(e))[-1500:]


def hostile_fuzz(count: int, seed: int = 0, jobs: int = 1, out_dir: str | None = None,
                 timeout: float = difffuzz.TIMEOUT, progress=None) -> dict:
    exe = difffuzz.wasm_tools_exe()
    corpus = corpus_files()
    figures = {"cases": 0, "ok": 0, "accepted": 0, "unsupported": 0, "disagree": 0, "text_disagree": 0,
               "error": 0,
               "crash": 0, "hang": 0, "failures": []}
    reqs = ({"kind": "hostile", "exe": exe, "seed": seed, "index": i, "corpus": corpus} for i in range(count))
    t0 = time.monotonic()
    for req, reply in difffuzz.run_requests(reqs, jobs=jobs, timeout=timeout):
        v = reply["verdict"]
        figures["cases"] += 1
        figures[v] = figures.get(v, 0) + 1
        if v == "ok" and reply.get("detail") == "accept":
            figures["accepted"] += 1
        if v in ("error", "crash", "hang", "disagree", "text_disagree"):
            saved = None
            if out_dir:
                d = pathlib.Path(out_dir)
                d.mkdir(parents=True, exist_ok=True)
                data = mutant(req)
                p = d / f"hostile-{seed}-{req['index']}.{'wat' if isinstance(data, str) else 'wasm'}"
                if isinstance(data, str):
                    p.write_text(data)
                else:
                    p.write_bytes(data)
                p.with_suffix(".txt").write_text(f"verdict: {v}\nstage: {reply.get('stage')}\n\n"
                                                 f"{reply.get('detail', '')}\n")
                saved = str(p)
            figures["failures"].append({"index": req["index"], "verdict": v, "stage": reply.get("stage"),
                                        "detail": reply.get("detail", "")[:1500], "saved": saved})
        if progress:
            progress(figures, time.monotonic() - t0)
    figures["seconds"] = round(time.monotonic() - t0, 1)
    return figures
