"""Sandboxed path resolution: a guest path, relative to one of its directory
descriptors, never leads outside that directory.

The walk is done component by component with ``*at`` system calls on
directory descriptors, as cap-std does for Wasmtime, rather than by joining
strings: every intermediate directory is opened with ``O_NOFOLLOW``, every
symlink met is read and its target spliced into the remaining path, so ``..``
is counted against the real depth below the base and a symlink swapped in by
another process cannot redirect a half-done walk. Refusals use Wasmtime's
errno: ``EPERM`` for an absolute path, a ``..`` above the base, or a symlink
whose target is absolute; ``ELOOP`` after 40 symlinks.
"""

from __future__ import annotations

import os
import stat as _stat

from . import constants as C
from .guest import WasiErrno

# O_PATH (Linux) opens a directory for *at calls even without read permission.
_WALK_FLAGS = (getattr(os, "O_PATH", os.O_RDONLY) | getattr(os, "O_DIRECTORY", 0)
               | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))


class Resolved:
    """``(dir_fd, name)`` naming the target for an ``*at`` call; ``name`` is
    ``"."`` when the path names the directory itself. Use as a context
    manager: it closes the directories opened on the way."""

    __slots__ = ("dir_fd", "name", "trailing_slash", "_owned")

    def __init__(self, dir_fd: int, name: str, trailing_slash: bool, owned: list[int]):
        self.dir_fd = dir_fd
        self.name = name
        self.trailing_slash = trailing_slash
        self._owned = owned

    def close(self) -> None:
        owned, self._owned = self._owned, []
        for fd in owned:
            os.close(fd)

    def __enter__(self) -> "Resolved":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def resolve(base_fd: int, path: str, follow: bool) -> Resolved:
    """Resolves ``path`` under ``base_fd``. With ``follow`` a symlink in the
    last component is followed too (a trailing slash implies it). A missing
    last component is fine (it may be about to be created); a missing
    intermediate one raises ENOENT."""
    if not path:
        raise WasiErrno(C.ENOENT)
    if path[0] == "/":
        raise WasiErrno(C.EPERM)
    # A trailing "/" (or "/.") says the target must be a directory, which
    # means following a symlink there.
    trailing = path[-1] == "/" or path == "." or path.endswith("/.")
    follow = follow or trailing
    pending = path.split("/")
    pending.reverse()             # a stack: pending[-1] is the next component
    # How many components still to walk are real names (not "" or "."): the
    # current one is the last exactly when none is left, known in O(1).
    names_left = _count_names(pending)
    stack = [base_fd]             # directories walked; stack[0] is not ours to close
    links = 0
    name = "."
    try:
        while pending:
            comp = pending.pop()
            if comp == "" or comp == ".":
                continue
            names_left -= 1
            if comp == "..":
                if len(stack) == 1:
                    raise WasiErrno(C.EPERM)
                os.close(stack.pop())
                continue
            last = names_left == 0
            if last and not follow:
                name = comp
                break
            try:
                st = os.stat(comp, dir_fd=stack[-1], follow_symlinks=False)
            except FileNotFoundError:
                if last:
                    name = comp
                    break
                raise
            if _stat.S_ISLNK(st.st_mode):
                links += 1
                if links > C.SYMLINK_MAX_FOLLOW:
                    raise WasiErrno(C.ELOOP)
                target = os.readlink(comp, dir_fd=stack[-1])
                if not target:
                    raise WasiErrno(C.ENOENT)
                if target[0] == "/":
                    raise WasiErrno(C.EPERM)
                parts = target.split("/")
                parts.reverse()
                pending.extend(parts)
                names_left += _count_names(parts)
                continue
            if last:
                name = comp
                break
            if not _stat.S_ISDIR(st.st_mode):
                raise WasiErrno(C.ENOTDIR)
            stack.append(os.open(comp, _WALK_FLAGS, dir_fd=stack[-1]))
    except BaseException:
        for fd in stack[1:]:
            os.close(fd)
        raise
    owned = stack[1:]
    return Resolved(stack[-1], name, trailing, owned)


def _count_names(parts: list[str]) -> int:
    return len(parts) - parts.count("") - parts.count(".")
