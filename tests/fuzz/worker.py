"""Fuzz worker process: one JSON request per stdin line, one JSON reply per stdout line.

Before each risky step it reports a ``{"stage": ...}`` line, so when the process
dies the parent knows whether decoding, compiling or running was under way.

Requests:
  {"kind": "diff", "exe": wasm-tools, "seed": S, "index": i}   a differential case
  {"kind": "file", "path": p, "canon": bool, "arg_seed": n}    a saved module, both engines
  {"kind": "hostile", "seed": S, "index": i, "corpus": [paths]} a mutated module, pywinch only
  {"kind": "selftest", "action": "segfault" | "sleep" | "ok"}   exercises the pool's detection
"""

from __future__ import annotations

import json
import pathlib
import sys
import traceback

from fuzz import difffuzz, engines, hostile


def say(msg: dict) -> None:
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()


def summary(pw: dict, wt: dict, canon: bool) -> dict:
    v, detail = difffuzz.verdict(pw, wt, canon)
    calls = len(pw["calls"])
    traps = sum(1 for c in pw["calls"] if c[2] and c[2][0] == "trap")
    return {"verdict": v, "detail": detail, "calls": calls, "traps": traps}


class Engines:
    def __init__(self):
        self.pw = engines.Pywinch()
        self.wt = engines.Wasmtime()
        self.fueled = None

    def both(self, wasm: bytes, arg_seed: int, canon: bool, fuel: int | None = None) -> dict:
        pw_eng, wt_eng = self.pw, self.wt
        if fuel is not None:
            if self.fueled is None:
                self.fueled = engines.Pywinch(fuel=True), engines.Wasmtime(fuel=True)
            pw_eng, wt_eng = self.fueled
        say({"stage": "wasmtime"})
        wt = engines.run(wt_eng, wasm, arg_seed, fuel=fuel)
        say({"stage": "pywinch"})
        pw = engines.run(pw_eng, wasm, arg_seed, fuel=fuel)
        out = summary(pw, wt, canon)
        return out


FULL_TANK = 10 ** 9


def fuel_twin(eng: Engines, wasm: bytes, plan: dict, reply: dict) -> dict:
    """A small fuel budget ran out at different points in the two engines (their fuel
    accounting differs: BUGS.md): if the same case with a full tank agrees, the
    difference is the exhaustion point, not the semantics."""
    second = eng.both(wasm, plan["arg_seed"], plan["canon"], FULL_TANK)
    if second["verdict"] in ("agree", "fuel_count"):
        return {**reply, "verdict": "fuel_point"}
    return reply


def nan_twin(eng: Engines, req: dict, plan: dict, reply: dict) -> dict:
    """Without NaN canonicalization a NaN's payload may legally differ between engines
    (f64.max of two NaNs may return either) and flow into integers and memory through
    reinterpret and stores.  The same smith input with canonicalization on is the
    same program with each NaN result made canonical: if the engines agree on that
    twin, the difference is put down to NaN payloads, else it stays a mismatch."""
    twin = dict(plan, flags=[f if f != "false" or plan["flags"][i - 1] != "--canonicalize-nans" else "true"
                             for i, f in enumerate(plan["flags"])])
    say({"stage": "smith"})
    wasm = difffuzz.smith(req["exe"], twin)
    if wasm is None:
        return reply
    second = eng.both(wasm, plan["arg_seed"], True, plan.get("fuel"))
    if second["verdict"] == "agree":
        return {**reply, "verdict": "nan_payload"}
    return reply


def main() -> None:
    eng = None
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["kind"] == "selftest":          # the pool's crash and hang detection, tested
                say({"stage": req["action"]})
                if req["action"] == "segfault":
                    import ctypes
                    ctypes.string_at(0)
                elif req["action"] == "sleep":
                    import time
                    time.sleep(3600)
                say({"verdict": "agree", "detail": ""})
                continue
            if req["kind"] == "hostile":
                say({"stage": "hostile"})
                say(hostile.run_case(req))
                continue
            if eng is None:
                eng = Engines()
            if req["kind"] == "diff":
                plan = difffuzz.case_plan(req["seed"], req["index"])
                say({"stage": "smith"})
                wasm = difffuzz.smith(req["exe"], plan)
                if wasm is None:
                    say({"verdict": "no_module", "detail": ""})
                    continue
                reply = eng.both(wasm, plan["arg_seed"], plan["canon"], plan.get("fuel"))
                if reply["verdict"] == "mismatch" and plan.get("fuel") not in (None, FULL_TANK):
                    reply = fuel_twin(eng, wasm, plan, reply)
                if reply["verdict"] == "mismatch" and not plan["canon"]:
                    reply = nan_twin(eng, req, plan, reply)
                say(reply)
            elif req["kind"] == "file":
                path = pathlib.Path(req["path"])
                data = path.read_bytes() if path.suffix == ".wasm" else path.read_text()
                if isinstance(data, str):
                    import wasmtime
                    data = wasmtime.wat2wasm(data)
                say(eng.both(bytes(data), req.get("arg_seed", 1), req.get("canon", True)))
            else:
                say({"verdict": "error", "detail": f"unknown request {req['kind']!r}"})
        except BaseException as e:   # the harness itself failed: report, keep serving
            say({"verdict": "error", "detail": "harness: " + "".join(traceback.format_exception(e))[-1500:]})


if __name__ == "__main__":
    main()
