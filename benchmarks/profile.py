"""Where a benchmark spends its time in generated code: pywinch's and Winch's, side by side.

    python benchmarks/profile.py nbody [--args 2000000] [--engine pywinch|winch|both] [--lines 60]

Runs the program under ``perf record -e cpu-clock`` (a software clock: no
hardware counters are needed, so it works in containers and VMs), maps every
sample that landed in generated code to its function and instruction, and
prints the functions by share of samples and the hottest function's hottest
stretch of machine code with the samples per instruction.

pywinch's code is found from the loaded module's function addresses. Winch's
from Wasmtime's perf map (``Config.profiler = "perfmap"``) and the bytes of
the same code in the serialized module (an ELF object with one symbol per
function), so both listings are the code that really ran.
"""

from __future__ import annotations

import argparse
import bisect
import collections
import json
import os
import pathlib
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))


# ------------------------------------------------------------------ child side

def _run_start(api, engine, module, name, argv, workdir):
    config = api.WasiConfig()
    config.argv = [name, *argv]
    config.stdout_file = os.path.join(workdir, "stdout")
    store = api.Store(engine)
    store.set_wasi(config)
    linker = api.Linker(engine)
    linker.define_wasi()
    start = linker.instantiate(store, module).exports(store)["_start"]
    try:
        start(store)
    except api.ExitTrap:
        pass


def child_pywinch(wasm: str, argv, dump: str) -> None:
    import pywinch
    engine = pywinch.Engine()
    module = pywinch.Module(engine, pathlib.Path(wasm).read_bytes())
    plan, compiled = module._plan, module._compiled
    base = plan.keepalive.base
    names = dict(module._module.names.functions)
    names.update(compiled.names)
    nimp = compiled.num_imported_funcs
    funcs = [(off, end, names.get(nimp + i, f"func[{nimp + i}]"))
             for i, (off, end) in enumerate(zip(compiled.func_offsets, compiled.func_ends))]
    pathlib.Path(dump + ".code").write_bytes(compiled.code)
    pathlib.Path(dump + ".json").write_text(json.dumps({"base": base, "funcs": funcs}))
    with tempfile.TemporaryDirectory() as d:
        _run_start(pywinch, engine, module, pathlib.Path(wasm).stem, argv, d)


def child_winch(wasm: str, argv, dump: str) -> None:
    import wasmtime
    cfg = wasmtime.Config()
    cfg.profiler = "perfmap"
    wasmtime._ffi.wasmtime_config_strategy_set(cfg.ptr(), 2)
    engine = wasmtime.Engine(cfg)
    module = wasmtime.Module(engine, pathlib.Path(wasm).read_bytes())
    text, symbols = _elf_text_and_symbols(bytes(module.serialize()))
    perfmap = pathlib.Path(f"/tmp/perf-{os.getpid()}.map")
    loaded = {}
    for line in perfmap.read_text().splitlines():
        addr, size, name = line.split(" ", 2)
        loaded.setdefault(name, int(addr, 16))
    # The text section is loaded as one block: any function's address minus its
    # symbol's offset is the section's base.
    base = None
    for off, end, sym in symbols:
        short = sym.split("::", 2)[-1]
        if short in loaded:
            base = loaded[short] - off
            break
    funcs = [(off, end, sym.split("::", 2)[-1]) for off, end, sym in symbols]
    pathlib.Path(dump + ".code").write_bytes(text)
    pathlib.Path(dump + ".json").write_text(json.dumps({"base": base, "funcs": funcs}))
    with tempfile.TemporaryDirectory() as d:
        _run_start(wasmtime, engine, module, pathlib.Path(wasm).stem, argv, d)
    perfmap.unlink(missing_ok=True)


def _elf_text_and_symbols(elf: bytes):
    """(.text bytes, [(offset, end, name)] of its FUNC symbols) of an ELF64 LE object."""
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize) for i in range(shnum)]
    shstr = sections[shstrndx]

    def name_at(table, off):
        start = table[4] + off
        return elf[start:elf.index(b"\0", start)].decode()

    by_name = {name_at(shstr, s[0]): (i, s) for i, s in enumerate(sections)}
    text_index, text = by_name[".text"]
    _, symtab = by_name[".symtab"]
    strtab = sections[symtab[6]]
    symbols = []
    for p in range(symtab[4], symtab[4] + symtab[5], 24):
        st_name, st_info, _, st_shndx, st_value, st_size = struct.unpack_from("<IBBHQQ", elf, p)
        if st_info & 0xF == 2 and st_shndx == text_index:   # STT_FUNC in .text
            symbols.append((st_value, st_value + st_size, name_at(strtab, st_name)))
    symbols.sort()
    return elf[text[4]:text[4] + text[5]], symbols


# ------------------------------------------------------------------ parent side

def profile(engine: str, wasm: pathlib.Path, argv, workdir: pathlib.Path, freq: int):
    dump = str(workdir / engine)
    data = str(workdir / f"{engine}.perf")
    cmd = ["perf", "record", "-q", "-e", "cpu-clock", "-F", str(freq), "-o", data, "--",
           sys.executable, str(pathlib.Path(__file__).resolve()), "--child", engine,
           str(wasm), json.dumps(argv), dump]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    script = subprocess.run(["perf", "script", "-i", data, "-F", "ip"], capture_output=True, text=True,
                            check=True).stdout
    ips = [int(x, 16) for x in script.split()]
    info = json.loads(pathlib.Path(dump + ".json").read_text())
    code = pathlib.Path(dump + ".code").read_bytes()
    return ips, info, code


def analyse(label, ips, info, code, lines: int, top: int = 15) -> str:
    from pywinch.isa.x64.disasm import disassemble
    base, funcs = info["base"], info["funcs"]
    starts = [f[0] for f in funcs]
    per_func = collections.Counter()
    per_pc = collections.Counter()
    for ip in ips:
        off = ip - base
        if not 0 <= off < len(code):
            continue
        i = bisect.bisect_right(starts, off) - 1
        if i >= 0 and off < funcs[i][1]:
            per_func[i] += 1
            per_pc[off] += 1
    total = len(ips)
    in_code = sum(per_func.values())
    out = [f"== {label}: {total} samples, {in_code} ({100 * in_code / max(total, 1):.0f}%) in generated code"]
    for i, n in per_func.most_common(6):
        off, end, name = funcs[i]
        out.append(f"   {100 * n / max(total, 1):5.1f}%  {name}  ({end - off} bytes of code)")
    if not per_func:
        return "\n".join(out)
    hot = per_func.most_common(1)[0][0]
    off, end, name = funcs[hot]
    insns = disassemble(code[off:end], off)
    # The hottest window of `lines` instructions: where the loop is.
    counts = [per_pc.get(pc, 0) for pc, _, _ in insns]
    best, best_i, window = -1, 0, 0
    for i in range(len(insns)):
        window += counts[i]
        if i >= lines:
            window -= counts[i - lines]
        if window > best:
            best, best_i = window, max(0, i - lines + 1)
    out.append(f"-- hottest {lines} instructions of {name} ({100 * best / max(in_code, 1):.0f}% of its samples"
               f" in generated code); samples per instruction (a sample is charged to the"
               f" instruction after the one that took the time):")
    for (pc, raw, text), n in list(zip(insns, counts))[best_i:best_i + lines]:
        out.append(f"   {n:5d}  {pc - off:6x}:  {text}")
    by_pc = {pc: text for pc, _, text in insns}
    out.append(f"-- the {top} costliest instructions of {name}:")
    for pc, n in sorted(((pc, n) for pc, n in per_pc.items() if off <= pc < end), key=lambda x: -x[1])[:top]:
        out.append(f"   {n:5d}  {pc - off:6x}:  {by_pc.get(pc, '?')}")
    return "\n".join(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("program", nargs="?")
    ap.add_argument("--args", help="program arguments (default: the manifest's small args x ~100)")
    ap.add_argument("--engine", choices=("pywinch", "winch", "both"), default="both")
    ap.add_argument("--lines", type=int, default=50)
    ap.add_argument("--top", type=int, default=15, help="list the N costliest instructions")
    ap.add_argument("--freq", type=int, default=4000)
    ap.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    opts = ap.parse_args(argv)
    if opts.child:
        engine, wasm, args, dump = opts.child
        (child_pywinch if engine == "pywinch" else child_winch)(wasm, json.loads(args), dump)
        return 0
    if not opts.program:
        ap.error("which program?")
    if shutil.which("perf") is None:
        print("perf is not installed", file=sys.stderr)
        return 1
    manifest = json.loads((HERE / "wasm" / "manifest.json").read_text())
    entry = manifest[opts.program]
    args = opts.args.split() if opts.args else entry["args"]
    wasm = HERE / "wasm" / entry["wasm"]
    engines = ("pywinch", "winch") if opts.engine == "both" else (opts.engine,)
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as d:
        for engine in engines:
            ips, info, code = profile(engine, wasm, args, pathlib.Path(d), opts.freq)
            print(analyse(f"{engine} {opts.program} {' '.join(args)}", ips, info, code, opts.lines, opts.top))
            print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
