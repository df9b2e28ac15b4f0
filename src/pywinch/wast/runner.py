"""Execute WAST commands against a backend and count what passed.

Every command is one check: a module that does not instantiate, an action
that traps, an assertion that does not hold, each is one failure, reported
as one line ``file:line: what: expected ..., got ...``. Nothing stops a file
but a watchdog timeout (Python code that does not return); a script that
does not parse is one failure against its file.
"""

from __future__ import annotations

import os
import signal
import threading
import time

from .backend import Outcome, crash
from .commands import Command
from .values import format_patterns, format_values, match

__all__ = ["FileResult", "Runner", "WatchdogTimeout"]


class WatchdogTimeout(BaseException):
    """Raised from SIGALRM when a command runs past the watchdog limit.

    A BaseException so that no ``except Exception`` inside the backend swallows
    it; the runner abandons the rest of that file, whose state is unknown.
    """


class FileResult:
    __slots__ = ("path", "name", "passed", "failed", "failures", "error", "seconds", "kinds", "unsupported")

    def __init__(self, path: str):
        self.path = path
        self.name = os.path.basename(path)
        self.passed = 0
        self.failed = 0
        self.failures: list[str] = []
        self.error: str | None = None     # why the file stopped early, if it did
        self.seconds = 0.0
        self.kinds: dict[str, list[int]] = {}   # command kind -> [passed, failed]
        self.unsupported = 0    # failures due to a feature the backend does not support yet

    @property
    def group(self) -> str:
        return "simd" if self.name.startswith("simd_") else "core"

    @property
    def total(self) -> int:
        return self.passed + self.failed

    def __repr__(self):
        return f"<{self.name}: {self.passed} passed, {self.failed} failed>"


class _Failed:
    """Stands for a module whose definition failed, so later actions on it fail clearly."""

    __slots__ = ("line", "outcome")

    def __init__(self, line: int, outcome: Outcome):
        self.line = line
        self.outcome = outcome


class _Fail(Exception):
    """One check failed: ``text`` follows ``file:line: ``; ``outcome`` is the cause, if any."""

    def __init__(self, text: str, outcome: Outcome | None = None):
        super().__init__(text)
        self.text = text
        self.outcome = outcome


def _trap_matches(expected: str, outcome: Outcome) -> bool:
    # The reference interpreter accepts an actual message that starts with the
    # expected one; engines word some traps longer, so a substring suffices.
    # The interpreter also names the table slot ("uninitialized element 2"),
    # a detail no compiled engine carries: the message without it must match.
    messages = outcome.messages()
    if any(expected in m for m in messages):
        return True
    head, _, tail = expected.rpartition(" ")
    return bool(head) and tail.isdigit() and any(head in m for m in messages)


class Runner:
    """Runs commands on ``backend``; ``report`` receives each failure line as it happens."""

    def __init__(self, backend, report=None, wat2wasm=None, watchdog: float | None = None,
                 strict_messages: bool = False):
        """``strict_messages``: module assertions (invalid, malformed, unlinkable) also compare the
        error message, as the reference interpreter does; by default only the kind of error."""
        self.backend = backend
        self.strict_messages = strict_messages
        self.report = report
        self._wat2wasm = wat2wasm
        self.watchdog = watchdog if watchdog is not None else max(30.0, backend.timeout * 3)

    # -- text ----------------------------------------------------------------------------------
    def wat2wasm(self, text: str) -> bytes:
        if self._wat2wasm is None:
            from pywinch.wasm.text import wat2wasm
            self._wat2wasm = wat2wasm
        return self._wat2wasm(text)

    def binary(self, source) -> bytes:
        """The module's bytes; a text error is an Outcome('malformed')."""
        kind = source.kind
        if kind == "binary":
            return source.data
        try:
            if kind == "quote":
                return self.wat2wasm(source.data)
            return source.data()
        except Exception as exc:
            from pywinch.errors import MalformedError
            if isinstance(exc, MalformedError):
                raise Outcome("malformed", str(exc), exc) from None
            raise crash(exc) from None

    # -- files ---------------------------------------------------------------------------------
    def run_commands(self, commands, path: str, result: FileResult | None = None) -> FileResult:
        result = result or FileResult(path)
        start = time.perf_counter()
        session = None
        watchdog = _Watchdog(self.watchdog)
        try:
            session = self.backend.session()
            state = _State(session)
            handlers = self._handlers
            kinds = result.kinds
            for cmd in commands:
                counts = kinds.get(cmd.kind)
                if counts is None:
                    counts = kinds[cmd.kind] = [0, 0]
                watchdog.arm()
                try:
                    handlers[cmd.kind](self, state, cmd)
                    result.passed += 1
                    counts[0] += 1
                except _Fail as f:
                    self._fail(result, cmd.line, f.text, f.outcome)
                    counts[1] += 1
                except Outcome as o:
                    # an operation the command needed, outside what it checks, went wrong
                    self._fail(result, cmd.line, f"{cmd.kind}: {o}", o)
                    counts[1] += 1
                except WatchdogTimeout:
                    raise
                except Exception as exc:   # a defect of the runner or backend: report, go on
                    self._fail(result, cmd.line, f"{cmd.kind}: {crash(exc)}")
                    counts[1] += 1
                finally:
                    watchdog.disarm()
        except WatchdogTimeout:
            result.error = f"no progress for {self.watchdog:.0f}s at line {cmd.line}: rest of file abandoned"
            self._fail(result, cmd.line, result.error)
        except Exception as exc:
            o = self.backend.classify(exc, "session")
            result.error = f"could not start a session: {o}"
            self._fail(result, 0, result.error, o)
        finally:
            watchdog.close()
            if session is not None:
                try:
                    session.close()
                except Exception:
                    pass
                # Stores free their memories on the last reference (no cycles), so no
                # gc.collect() here: with a whole suite in memory it would cost seconds per script.
                session = state = None
        result.seconds += time.perf_counter() - start
        return result

    def run_file(self, path: str, parse) -> FileResult:
        """Parse ``path`` with ``parse(text, filename) -> commands`` and run it."""
        result = FileResult(path)
        start = time.perf_counter()
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
            commands = parse(text, path)
        except Exception as exc:
            result.error = f"script does not parse: {exc}"
            self._fail(result, getattr(exc, "line", None) or 0, result.error)
            result.seconds = time.perf_counter() - start
            return result
        result.seconds = time.perf_counter() - start
        return self.run_commands(commands, path, result)

    def _fail(self, result: FileResult, line: int, text: str, outcome: Outcome | None = None):
        result.failed += 1
        if outcome is not None and outcome.kind == "unsupported":
            result.unsupported += 1
        if "\n" in text:     # one line per failure, whatever an engine's message looks like
            text = " | ".join(part.strip() for part in text.splitlines() if part.strip())
        msg = f"{result.path}:{line}: {text}"
        result.failures.append(msg)
        if self.report is not None:
            self.report(msg)

    # -- commands ------------------------------------------------------------------------------
    def _module(self, state, cmd: Command):
        try:
            instance = state.session.instantiate(state.session.compile(self.binary(cmd.source)))
        except Outcome as o:
            state.define(cmd.name, _Failed(cmd.line, o))
            raise _Fail(f"module: {o}", o) from None
        state.define(cmd.name, instance)

    def _register(self, state, cmd: Command):
        instance = state.instance(cmd.name)
        state.session.register(cmd.as_name, instance)

    def _perform(self, state, action) -> list:
        instance = state.instance(action.module)
        ext = state.session.export(instance, action.field)
        if ext is None:
            raise _Fail(f"{action.describe()}: no such export")
        if action.kind == "invoke":
            return state.session.invoke(ext, action.args)
        return [state.session.get(ext)]

    def _action(self, state, cmd: Command):
        try:
            self._perform(state, cmd.action)
        except Outcome as o:
            raise _Fail(f"{cmd.action.describe()}: expected success, got {o}", o) from None

    def _assert_return(self, state, cmd: Command):
        try:
            results = self._perform(state, cmd.action)
        except Outcome as o:
            raise _Fail(f"{cmd.action.describe()}: expected {format_patterns(cmd.expected)}, got {o}", o) from None
        expected = cmd.expected
        if len(results) != len(expected) or not all(map(match, expected, results)):
            raise _Fail(f"{cmd.action.describe()}: expected {format_patterns(expected)}, "
                        f"got {format_values(results)}")

    def _assert_trap(self, state, cmd: Command):
        try:
            results = self._perform(state, cmd.action)
        except Outcome as o:
            if o.kind == "trap" and _trap_matches(cmd.message, o):
                return
            raise _Fail(f"{cmd.action.describe()}: expected trap {cmd.message!r}, got {o}", o) from None
        raise _Fail(f"{cmd.action.describe()}: expected trap {cmd.message!r}, "
                    f"got {format_values(results)}")

    def _assert_trap_module(self, state, cmd: Command):
        what = "uninstantiable" if cmd.kind == "assert_uninstantiable" else "trap at instantiation"
        try:
            module = state.session.compile(self.binary(cmd.source))
        except Outcome as o:
            raise _Fail(f"{cmd.kind}: expected {what} {cmd.message!r}, module rejected: {o}", o) from None
        try:
            instance = state.session.instantiate(module)
        except Outcome as o:
            if o.kind in ("trap", "uninstantiable") and _trap_matches(cmd.message, o):
                return
            raise _Fail(f"{cmd.kind}: expected {what} {cmd.message!r}, got {o}", o) from None
        del instance
        raise _Fail(f"{cmd.kind}: expected {what} {cmd.message!r}, module instantiated")

    def _check_message(self, cmd: Command, o: Outcome):
        if self.strict_messages and not _trap_matches(cmd.message, o):
            raise _Fail(f"{cmd.kind}: expected the message {cmd.message!r}, got {o}", o)

    def _assert_unlinkable(self, state, cmd: Command):
        try:
            module = state.session.compile(self.binary(cmd.source))
        except Outcome as o:
            raise _Fail(f"assert_unlinkable: expected a link error ({cmd.message!r}), module rejected: {o}", o) from None
        try:
            state.session.instantiate(module)
        except Outcome as o:
            if o.kind == "unlinkable":
                return self._check_message(cmd, o)
            raise _Fail(f"assert_unlinkable: expected a link error ({cmd.message!r}), got {o}", o) from None
        raise _Fail(f"assert_unlinkable: expected a link error ({cmd.message!r}), module instantiated")

    def _assert_invalid(self, state, cmd: Command):
        try:
            state.session.compile(self.binary(cmd.source))
        except Outcome as o:
            if o.kind in ("invalid", "module"):
                return self._check_message(cmd, o)
            raise _Fail(f"assert_invalid: expected invalid ({cmd.message!r}), got {o}", o) from None
        raise _Fail(f"assert_invalid: expected invalid ({cmd.message!r}), module compiled")

    def _assert_malformed(self, state, cmd: Command):
        try:
            state.session.compile(self.binary(cmd.source))
        except Outcome as o:
            if o.kind in ("malformed", "module"):
                return self._check_message(cmd, o)
            raise _Fail(f"assert_malformed: expected malformed ({cmd.message!r}), got {o}", o) from None
        raise _Fail(f"assert_malformed: expected malformed ({cmd.message!r}), module compiled")

    _handlers = {
        "module": _module,
        "register": _register,
        "action": _action,
        "assert_return": _assert_return,
        "assert_trap": _assert_trap,
        "assert_exhaustion": _assert_trap,
        "assert_trap_module": _assert_trap_module,
        "assert_uninstantiable": _assert_trap_module,
        "assert_unlinkable": _assert_unlinkable,
        "assert_invalid": _assert_invalid,
        "assert_malformed": _assert_malformed,
    }


class _State:
    """Instances of one script: by name, and the most recent one."""

    __slots__ = ("session", "named", "current")

    def __init__(self, session):
        self.session = session
        self.named: dict = {}
        self.current = None

    def define(self, name, instance):
        self.current = instance
        if name is not None:
            self.named[name] = instance

    def instance(self, name):
        inst = self.current if name is None else self.named.get(name)
        if inst is None:
            raise _Fail(f"no module {name}" if name else "no module defined yet")
        if isinstance(inst, _Failed):
            which = f"module {name}" if name else "the module"
            raise _Fail(f"{which} (line {inst.line}) failed: {inst.outcome.kind}", inst.outcome)
        return inst


class _Watchdog:
    """SIGALRM after ``seconds`` raises WatchdogTimeout: ends Python code that hangs (a compiler
    loop). Wasm that runs away is the epoch deadline's job. Only on the main thread."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.active = (seconds > 0 and hasattr(signal, "setitimer")
                       and threading.current_thread() is threading.main_thread())
        if self.active:
            self._previous = signal.signal(signal.SIGALRM, self._fire)

    @staticmethod
    def _fire(signum, frame):
        raise WatchdogTimeout()

    def arm(self):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, self.seconds)

    def disarm(self):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def close(self):
        if self.active:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous)
            self.active = False
