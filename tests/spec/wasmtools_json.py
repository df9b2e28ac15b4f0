"""A second front end for the runner: wasm-tools' JSON form of a WAST script.

Dev-only (wasm-tools is a dev tool). It lets the tests tell a defect of
pywinch's text parser from one of the runner: the same script, parsed by
wasm-tools, must give the same results on the same backend.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

from pywinch.wast.commands import Action, Command, ModuleSource
from pywinch.wast.values import v128_from_lanes, HostRef


def available() -> bool:
    return shutil.which("wasm-tools") is not None


_MASK = {"i32": 0xFFFFFFFF, "f32": 0xFFFFFFFF, "i64": (1 << 64) - 1, "f64": (1 << 64) - 1}


def _num(s: str, t: str | None = None):
    # wasm-tools writes some integers signed; the runner compares bit patterns
    if s.startswith("nan:"):
        return s
    return int(s) & _MASK[t] if t else int(s)


def _value(v: dict) -> tuple:
    t = v["type"]
    if t == "v128":
        lanes = [int(x) for x in v["value"]]
        return ("v128", v128_from_lanes(v["lane_type"], lanes))
    if t in ("funcref", "externref"):
        if v["value"] == "null":
            return (t, None)
        return (t, HostRef(int(v["value"])))
    return (t, _num(v["value"], t))


def _pattern(v: dict) -> tuple:
    t = v["type"]
    if t == "either":
        return ("either", [_pattern(x) for x in v["values"]])
    if t == "v128":
        return ("v128", v["lane_type"], [_num(x) for x in v["value"]])
    if t in ("funcref", "externref"):
        value = v.get("value")
        if value == "null":
            return ("ref.null", t[:-3])
        if t == "funcref":
            return ("ref.func", None)
        return ("ref.extern", None if value is None else int(value))
    if t in ("i32", "i64", "f32", "f64"):
        return (t, _num(v["value"], t))
    raise ValueError(f"unsupported expected value {v}")


def parse(path: str) -> list[Command]:
    with tempfile.TemporaryDirectory(prefix="wast-json-") as tmp:
        out = os.path.join(tmp, "script.json")
        proc = subprocess.run(["wasm-tools", "json-from-wast", path, "-o", out, "--wasm-dir", tmp],
                              capture_output=True, text=True)
        if proc.returncode:
            raise ValueError(proc.stderr.strip())
        with open(out) as f:
            data = json.load(f)
        files = {}
        for name in os.listdir(tmp):
            if name.endswith((".wasm", ".wat")):
                with open(os.path.join(tmp, name), "rb") as f:
                    files[name] = f.read()
    commands = []
    for c in data["commands"]:
        t, line = c["type"], c["line"]
        source = None
        if "filename" in c:
            blob = files[c["filename"]]
            source = (ModuleSource("quote", blob.decode("utf-8")) if c["module_type"] == "text"
                      else ModuleSource("binary", blob))
        action = None
        if "action" in c:
            a = c["action"]
            action = Action(a["type"], a.get("module"), a["field"], [_value(x) for x in a.get("args", [])])
        if t == "module":
            commands.append(Command("module", line, name=c.get("name"), source=source))
        elif t == "register":
            commands.append(Command("register", line, name=c.get("name"), as_name=c["as"]))
        elif t == "action":
            commands.append(Command("action", line, action=action))
        elif t == "assert_return":
            commands.append(Command("assert_return", line, action=action,
                                    expected=[_pattern(x) for x in c["expected"]]))
        elif t in ("assert_trap", "assert_exhaustion") and action is not None:
            commands.append(Command(t, line, action=action, message=c["text"]))
        elif t == "assert_trap":
            commands.append(Command("assert_trap_module", line, source=source, message=c["text"]))
        elif t in ("assert_uninstantiable", "assert_unlinkable", "assert_invalid", "assert_malformed"):
            commands.append(Command(t, line, source=source, message=c["text"]))
        else:
            raise ValueError(f"line {line}: unsupported command {t}")
    return commands
