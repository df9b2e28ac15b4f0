"""The ``pywinch`` command line.

Subcommands: ``run`` (a WASI command, or ``--invoke`` an export), ``compile``
(native code saved as ``.cwasm``), ``explore`` (Wasm beside its machine code,
as an HTML page) and ``wast`` (WAST scripts).  Each registers the same way: a
function adding its arguments and one running them.

Exit statuses follow ``wasmtime run``: the guest's ``proc_exit`` status as
is; a trap 134 (128 + SIGABRT, what Wasmtime returns on Unix); any other
failure (unreadable or malformed module, missing import, a host function's
error) 1, with one line on stderr and no Python traceback
(``PYWINCH_BACKTRACE=1`` shows it for internal errors).  Ctrl-C: 130.

``run`` compiles through the compile cache (pywinch/cache.py): a second run
of the same module loads its machine code instead of compiling it;
``PYWINCH_LOG=cache`` reports on stderr what the cache did.  A ``.cwasm``
runs only with ``--allow-precompiled``, as in Wasmtime: its machine code is
executed as is.  Compiles show their progress when stderr is a terminal.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

EXIT_TRAP = 134          # 128 + SIGABRT, as `wasmtime run` on Unix
EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130   # 128 + SIGINT


class CliError(Exception):
    """A failure reported as one line, with an exit status (the command line's
    own: library failures are pywinch.errors classes, caught in _guarded)."""

    def __init__(self, message: str, status: int = EXIT_FAILURE):
        super().__init__(message)
        self.status = status


def _wast(args) -> int:
    from .wast import run_from_args
    return run_from_args(args)


def _error(message: str) -> None:
    if sys.stderr is None:          # started with fd 2 closed: the status says it all
        return
    sys.stderr.write(f"pywinch: error: {message}\n")
    sys.stderr.flush()


def _one_line(e: BaseException) -> str:
    text = str(e).strip() or type(e).__name__
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())


def _log(topic: str, message: str) -> None:
    topics = os.environ.get("PYWINCH_LOG", "")
    if topic in (t.strip() for t in topics.split(",")):
        sys.stderr.write(f"pywinch: {topic}: {message}\n")


BACKTRACE_HEAD = 30     # frames shown before and after an elision in deep backtraces
BACKTRACE_TAIL = 10


def _write_backtrace(frames) -> None:
    if not frames:
        return
    out = ["wasm backtrace:"]
    n = len(frames)
    for i, f in enumerate(frames):
        if BACKTRACE_HEAD <= i < n - BACKTRACE_TAIL:
            if i == BACKTRACE_HEAD:
                out.append(f"  ... {n - BACKTRACE_HEAD - BACKTRACE_TAIL} frames omitted ...")
            continue
        out.append(f"  {i}: {f}")
    sys.stderr.write("\n".join(out) + "\n")


def _guarded(handler):
    """Runs a subcommand; every failure becomes one line on stderr and an exit status."""
    def run(args) -> int:
        from .errors import ExitTrap, Trap, TrapCode, WasmError
        try:
            return handler(args)
        except CliError as e:
            _error(str(e))
            return e.status
        except ExitTrap as e:
            return e.code
        except Trap as e:
            if e.code == TrapCode.HOST_EXCEPTION:
                # A host function's failure (e.g. an invalid proc_exit status):
                # Wasmtime's CLI reports those as plain errors, not traps.
                _error(e.message)
                return EXIT_FAILURE
            _error(f"wasm trap: {e.message}")
            _write_backtrace(e.frames)
            return EXIT_TRAP
        except WasmError as e:
            _error(_one_line(e))
            return EXIT_FAILURE
        except KeyboardInterrupt:
            _error("interrupted")
            return EXIT_INTERRUPTED
        except OSError as e:
            where = f"{e.filename}: " if e.filename else ""
            _error(f"{where}{e.strerror or e}")
            return EXIT_FAILURE
        except Exception as e:       # a pywinch bug: still one line, the traceback on request
            if os.environ.get("PYWINCH_BACKTRACE"):
                raise
            _error(f"internal error: {type(e).__name__}: {_one_line(e)} "
                   "(PYWINCH_BACKTRACE=1 shows the Python traceback)")
            return EXIT_FAILURE
    return run


# --- loading a module --------------------------------------------------------------
def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        raise CliError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{path}: is a directory, not a module") from None
    except OSError as e:
        raise CliError(f"{path}: cannot read it ({e.strerror})") from None


class _Progress:
    """``progress(done, total)`` for the compiler: a status line on a terminal,
    shown only once a compile has taken a noticeable time."""

    DELAY = 0.3
    PERIOD = 0.05

    def __init__(self, label: str, stream=None):
        self.label = label
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.shown = False
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.start < self.DELAY or (now - self.last < self.PERIOD and done != total):
            return
        self.last = now
        self.shown = True
        pct = 100 * done // total if total else 100
        self.stream.write(f"\rpywinch: compiling {self.label}: {done}/{total} functions ({pct}%)")
        self.stream.flush()

    def finish(self) -> None:
        if self.shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def _progress_for(path: str):
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    return _Progress(os.path.basename(path)) if tty else None


def _compile(engine, data: bytes, path: str, cache):
    from . import cache as cache_mod
    progress = _progress_for(path)
    try:
        if cache is None:
            return cache_mod.compile_module(engine, data, progress)
        module = cache.get_module(engine, data, progress)
        _log("cache", f"{cache.last}: {cache.path}")
        return module
    finally:
        if progress is not None:
            progress.finish()


def _check_magic(data: bytes, path: str) -> None:
    """Binary junk is reported as such, not as a text-format syntax error."""
    if data[:4] == b"\0asm" and data[4:6] == b"\x0d\x00" and data[6:8] == b"\x01\x00":
        raise CliError(f"{path}: a WebAssembly component, not a core module: components are not supported yet")
    if data[:4] != b"\0asm" and (path.endswith(".wasm") or b"\0" in data[:4096]):
        raise CliError(f"{path}: not a WebAssembly module (no \\0asm magic number, and not text)")


def load_module(engine, path: str, use_cache: bool = True, allow_precompiled: bool = False):
    """A Module from a .wasm, .wat or .cwasm file (by content, not by name).

    Precompiled code is machine code run as is: like ``wasmtime run``, it is
    loaded only when the user says the file is trusted (``--allow-precompiled``)."""
    from . import cache as cache_mod
    from .api.module import Module
    from .errors import WasmError
    data = _read(path)
    if (cache_mod.is_cwasm(data) or data[:6] == b"PYWMOD") and not allow_precompiled:
        raise CliError(f"{path}: running precompiled code needs --allow-precompiled "
                       "(its machine code is not validated: use only files you trust)")
    if cache_mod.is_cwasm(data):
        try:
            return cache_mod.loads(engine, data)
        except WasmError as e:
            raise CliError(f"{path}: {_one_line(e)}") from None
    if data[:6] == b"PYWMOD":        # a bare Module.serialize() (the API's own format)
        try:
            return Module.deserialize(engine, data)
        except WasmError as e:
            raise CliError(f"{path}: {_one_line(e)}") from None
    _check_magic(data, path)
    try:
        return _compile(engine, data, path, cache_mod.Cache() if use_cache else None)
    except WasmError as e:
        raise CliError(f"{path}: {_one_line(e)}") from None


# --- run -----------------------------------------------------------------------------
def _parse_dir(spec: str) -> tuple[str, str]:
    host, sep, guest = spec.partition("::")
    if not sep:
        guest = host
    if not host or not guest:
        raise CliError(f"--dir {spec!r}: expected HOST_DIR[::GUEST_DIR]")
    if not os.path.isdir(host):
        raise CliError(f"--dir {spec}: {host}: no such directory")
    return host, guest


def _parse_env(spec: str):
    key, sep, value = spec.partition("=")
    if not key:
        raise CliError(f"--env {spec!r}: expected NAME=VALUE or NAME")
    if not sep:
        # `--env NAME` passes the host's value through, as wasmtime does.
        value = os.environ.get(key)
        if value is None:
            return None
    return key, value


def _parse_arg(text: str, ty, name: str):
    t = str(ty)
    try:
        if t in ("i32", "i64", "v128"):
            bits = {"i32": 32, "i64": 64, "v128": 128}[t]
            v = int(text, 16) if text[:2].lower() == "0x" else int(text, 10)
            if not -(1 << (bits - 1)) <= v < (1 << bits):
                raise ValueError("out of range")
            if t == "v128":
                return v & ((1 << 128) - 1)
            return v - (1 << bits) if v >= (1 << (bits - 1)) else v
        if t in ("f32", "f64"):
            return float(text)
    except ValueError:
        raise CliError(f"--invoke {name}: argument {text!r} is not a valid {t}") from None
    raise CliError(f"--invoke {name}: arguments of type {t} are not supported on the command line")


def _format_float(v: float, f32: bool) -> str:
    """Like Rust's ``Display`` for floats (what ``wasmtime run --invoke`` prints):
    the shortest digits that round-trip, never an exponent."""
    import decimal
    import struct
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "inf" if v > 0 else "-inf"
    if f32:
        for p in range(1, 10):
            s = f"{v:.{p}g}"
            if struct.unpack("<f", struct.pack("<f", float(s)))[0] == v:
                break
    else:
        s = repr(v)
    text = format(decimal.Decimal(s), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _format_result(v, ty) -> str:
    t = str(ty)
    if t in ("i32", "i64"):
        return str(v)
    if t in ("f32", "f64"):
        return _format_float(v, t == "f32")
    if t == "v128":
        return str(v & ((1 << 128) - 1))
    if v is None:
        return "<null ref>"
    return f"<{t}>"


def _utf8(text: str, what: str) -> str:
    # Undecodable bytes reach Python as lone surrogates; WASI strings are UTF-8.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise CliError(f"{what} is not valid UTF-8: {text.encode('utf-8', 'surrogateescape')!r}") from None
    return text


def _wasi_config(args, program: str, rest: list[str]):
    from . import WasiConfig
    for i, a in enumerate(rest, 1):
        _utf8(a, f"argument {i}")
    for spec in args.env:
        _utf8(spec, "--env")
    for spec in args.dir:
        _utf8(spec.partition("::")[2] or spec, "--dir guest path")
    cfg = WasiConfig()
    cfg.argv = [args.argv0 or os.path.basename(program), *rest]
    env = []
    if args.inherit_env:
        env.extend(os.environ.items())
    for spec in args.env:
        pair = _parse_env(spec)
        if pair is not None:
            env = [(k, v) for k, v in env if k != pair[0]]
            env.append(pair)
    cfg.env = env
    for spec in args.dir:
        host, guest = _parse_dir(spec)
        cfg.preopen_dir(host, guest)
    cfg.inherit_stdin()
    cfg.inherit_stdout()
    cfg.inherit_stderr()
    return cfg


def _engine(args):
    from .api import Config, Engine
    config = Config()
    if args.fuel is not None:
        config.consume_fuel = True
    if args.timeout is not None:
        config.epoch_interruption = True
    return Engine(config)


def _parse_size(text: str) -> int:
    units = {"": 1, "k": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mib": 1 << 20, "g": 1 << 30, "gib": 1 << 30}
    t = text.strip().lower()
    num = t.rstrip("kmgib")
    try:
        value = int(num) * units[t[len(num):]]
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 65536, 64k, 16m, 1g)") from None
    if value < 0:
        raise argparse.ArgumentTypeError("a size cannot be negative")
    return value


def _non_negative_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return v


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not v > 0:
        raise argparse.ArgumentTypeError("must be positive")
    return v


def _run(args) -> int:
    from .api import Engine, Linker, Store
    from .api.types import FuncType
    program = args.module
    rest = list(args.args)
    if rest and rest[0] == "--":
        rest = rest[1:]
    # Every command-line mistake is reported before any compiling.
    cfg = _wasi_config(args, program, [] if args.invoke else rest)
    engine = _engine(args)
    module = load_module(engine, program, use_cache=not args.no_cache, allow_precompiled=args.allow_precompiled)
    exports = {e.name: e.type for e in module.exports}
    entry = args.invoke or "_start"
    ty = exports.get(entry)
    if ty is None or not isinstance(ty, FuncType):
        if args.invoke:
            funcs = sorted(n for n, t in exports.items() if isinstance(t, FuncType))
            raise CliError(f"{program}: no exported function `{entry}`"
                           + (f" (its functions: {', '.join(funcs[:12])}{'...' if len(funcs) > 12 else ''})"
                              if funcs else " (it exports no functions)"))
        raise CliError(f"{program}: not a WASI command: it exports no `_start` function "
                       "(--invoke NAME calls one of its exports)")
    params, results = ty.params, ty.results
    values = []
    if args.invoke:
        if len(rest) != len(params):
            sig = ", ".join(str(p) for p in params) or "none"
            raise CliError(f"--invoke {entry}: expected {len(params)} argument(s) ({sig}), got {len(rest)}")
        values = [_parse_arg(text, p, entry) for text, p in zip(rest, params)]
    store = Store(engine)
    store.set_wasi(cfg)
    if args.fuel is not None:
        store.set_fuel(args.fuel)
    if args.max_memory is not None:
        store.set_limits(memory_size=args.max_memory)
    linker = Linker(engine)
    linker.define_wasi()
    from .errors import LinkError
    timer = None
    if args.timeout is not None:
        # The deadline is one epoch ahead; a timer thread ticks it (the checks are at
        # function entries and loop back-edges: a running guest stops within microseconds).
        # It covers the start function too, as Wasmtime's timeout does.
        import threading
        store.set_epoch_deadline(1)
        timer = threading.Timer(args.timeout, engine.increment_epoch)
        timer.daemon = True
        timer.start()
    try:
        try:
            instance = linker.instantiate(store, module)
        except LinkError as e:
            raise CliError(f"{program}: {_one_line(e)}") from None
        ex = instance.exports(store)
        if args.invoke and "_initialize" in exports and entry != "_initialize":
            # A WASI reactor sets itself up (constructors) before any other export is called.
            ex["_initialize"](store)
        out = ex[entry](store, *values)
    finally:
        if timer is not None:
            timer.cancel()
    if args.invoke and results:
        vals = out if len(results) > 1 else [out]
        if sys.stdout is None:
            raise CliError(f"--invoke {entry}: stdout is closed, the results cannot be printed")
        sys.stdout.write("".join(_format_result(v, t) + "\n" for v, t in zip(vals, results)))
        sys.stdout.flush()
    return 0


def _add_run(sub) -> None:
    p = sub.add_parser("run", help="run a WASI command (or --invoke an export)",
                       description="Run a WebAssembly module: its WASI `_start`, or the export named by "
                                   "--invoke with the arguments after the module.",
                       epilog="Exit status: the guest's proc_exit status; 134 when it traps; 130 on Ctrl-C; "
                              "1 for any other error. The compiled code is cached in $PYWINCH_CACHE_DIR "
                              "(default $XDG_CACHE_HOME/pywinch or ~/.cache/pywinch); PYWINCH_LOG=cache "
                              "reports its use.")
    p.add_argument("--dir", action="append", default=[], metavar="HOST[::GUEST]",
                   help="grant the guest a host directory, at GUEST (default: the same path)")
    p.add_argument("--env", action="append", default=[], metavar="NAME[=VALUE]",
                   help="set an environment variable for the guest (NAME alone: the host's value)")
    p.add_argument("--inherit-env", action="store_true", help="pass the whole host environment")
    p.add_argument("--invoke", metavar="NAME", help="call this export with the arguments after the module "
                   "and print its results, instead of running `_start`")
    p.add_argument("--argv0", metavar="NAME", help="the guest's argv[0] (default: the module's file name)")
    p.add_argument("--fuel", type=_non_negative_int, metavar="N",
                   help="stop the guest (a trap) after about N Wasm operators")
    p.add_argument("--timeout", type=_positive_float, metavar="SECONDS",
                   help="stop the guest (a trap: interrupt) after this wall-clock time")
    p.add_argument("--max-memory", type=_parse_size, metavar="SIZE",
                   help="the most linear memory the guest may have (bytes; k, m, g suffixes)")
    p.add_argument("--no-cache", action="store_true", help="neither read nor write the compile cache")
    p.add_argument("--allow-precompiled", action="store_true",
                   help="accept a .cwasm (from `pywinch compile`): its machine code runs unchecked")
    p.add_argument("module", help="a .wasm, .wat or .cwasm file")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the guest's arguments (or --invoke's)")
    p.set_defaults(handler=_guarded(_run))


# --- compile -------------------------------------------------------------------------
def _compile_cmd(args) -> int:
    from . import cache as cache_mod
    from .api import Engine
    from .errors import WasmError
    data = _read(args.module)
    if cache_mod.is_cwasm(data):
        raise CliError(f"{args.module}: already compiled (a .cwasm file)")
    _check_magic(data, args.module)
    out = args.output or os.path.splitext(args.module)[0] + ".cwasm"
    from .api import Config
    config = Config()
    config.consume_fuel = bool(args.fuel)
    engine = Engine(config)
    progress = _progress_for(args.module)
    t0 = time.perf_counter()
    try:
        module = cache_mod.compile_module(engine, data, progress)
    except WasmError as e:
        raise CliError(f"{args.module}: {_one_line(e)}") from None
    finally:
        if progress is not None:
            progress.finish()
    elapsed = time.perf_counter() - t0
    blob = cache_mod.dumps(engine, module, data)
    try:
        cache_mod.write_atomic(out, blob)
    except OSError as e:
        raise CliError(f"{out}: cannot write it ({e.strerror})") from None
    if not args.no_cache:
        # `run` of the same input then hits the cache.
        cache = cache_mod.Cache()
        if cache.put(engine, data, blob):
            _log("cache", f"stored: {cache.path}")
    _log("cache", f"compiled {len(module.compiled.func_offsets)} functions in {elapsed * 1000:.1f} ms")
    return 0


def _add_compile(sub) -> None:
    p = sub.add_parser("compile", help="compile a module to native code (.cwasm)",
                       description="Compile a module once; `pywinch run` loads the .cwasm without compiling.")
    p.add_argument("module", help="a .wasm or .wat file")
    p.add_argument("-o", "--output", metavar="FILE", help="where to write (default: the input with .cwasm)")
    p.add_argument("--fuel", action="store_true", help="with fuel checks, for `pywinch run --fuel N`")
    p.add_argument("--no-cache", action="store_true", help="do not also store the result in the compile cache")
    p.set_defaults(handler=_guarded(_compile_cmd))


# --- explore -------------------------------------------------------------------------
def _explore(args) -> int:
    from . import cache as cache_mod
    from .errors import WasmError
    from .explore import render_file
    data = _read(args.module)
    if cache_mod.is_cwasm(data) or data[:6] == b"PYWMOD":
        raise CliError(f"{args.module}: explore needs the .wasm or .wat (a .cwasm has no operator map)")
    _check_magic(data, args.module)
    out = args.output or os.path.splitext(args.module)[0] + ".html"
    progress = _progress_for(args.module)
    try:
        html = render_file(data, os.path.basename(args.module), functions=args.function or None,
                           hex_only=args.hex, progress=progress, limit=None if args.all else args.limit)
    except WasmError as e:
        raise CliError(f"{args.module}: {_one_line(e)}") from None
    finally:
        if progress is not None:
            progress.finish()
    try:
        cache_mod.write_atomic(out, html.encode("utf-8"))
    except OSError as e:
        raise CliError(f"{out}: cannot write it ({e.strerror})") from None
    return 0


def _add_explore(sub) -> None:
    p = sub.add_parser("explore", help="write an HTML page of each function's Wasm beside its machine code")
    p.add_argument("module", help="a .wasm or .wat file")
    p.add_argument("-o", "--output", metavar="FILE", help="the HTML file (default: the input with .html)")
    p.add_argument("-f", "--function", action="append", metavar="NAME|INDEX",
                   help="only this function (repeatable)")
    p.add_argument("--hex", action="store_true", help="show machine code as bytes, without disassembling")
    p.add_argument("--limit", type=_non_negative_int, default=200, metavar="N",
                   help="without -f, show at most N functions (default 200, and 256 KiB of their code) in detail; "
                        "the index lists all")
    p.add_argument("--all", action="store_true", help="show every function in detail (pages of large "
                   "programs get very large)")
    p.set_defaults(handler=_guarded(_explore))


# --- the parser ----------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    parser = argparse.ArgumentParser(prog="pywinch", description="A WebAssembly runtime with a single-pass compiler.")
    parser.add_argument("-V", "--version", action="version", version=f"pywinch {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    _add_run(sub)
    _add_compile(sub)
    _add_explore(sub)

    from .wast import add_arguments as wast_arguments
    p = sub.add_parser("wast", help="run WebAssembly spec test scripts (.wast)")
    wast_arguments(p)
    p.set_defaults(handler=_wast)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    status = args.handler(args)
    try:
        if sys.stdout is not None:      # None when the process was started with fd 1 closed
            sys.stdout.flush()
    except (BrokenPipeError, ValueError):
        pass
    return status


if __name__ == "__main__":
    sys.exit(main())
