"""The guest's file descriptor table.

A guest fd names a :class:`FileDesc`: a host OS descriptor (files,
directories, inherited stdio) or, for stdio, a Python sink (``*_custom``
callbacks, and the null streams a config starts with). Directory descriptors
are the sandbox's capabilities: every path the guest names is resolved under
one of them (see ``paths.py``).
"""

from __future__ import annotations

import os
import stat as _stat

from . import constants as C
from .guest import WasiErrno


class FileDesc:
    """One open descriptor.

    Rights follow Wasmtime's model: they are reported (fd_fdstat_get) and
    the host's open mode enforces reading and writing, but an operation is
    refused for want of a right only when the guest itself gave that right
    up with ``fd_fdstat_set_rights`` (``denied``). Programs that ask for
    narrow rights and then use others (common, and accepted by Wasmtime)
    keep working; a guest that drops a right cannot use it again.
    """

    __slots__ = ("host_fd", "filetype", "rights_base", "rights_inheriting", "fdflags",
                 "preopen", "owned", "sink", "mutable", "dir_cache", "host_path", "stream",
                 "denied")

    def __init__(self, host_fd, filetype, rights_base, rights_inheriting, *, fdflags=0,
                 preopen=None, owned=True, sink=None, mutable=True, host_path=None,
                 stream=False):
        self.host_fd = host_fd            # int, or None for a Python-side stream
        self.filetype = filetype
        self.rights_base = rights_base
        self.rights_inheriting = rights_inheriting
        self.fdflags = fdflags            # WASI fdflags the guest asked for (append, ...)
        self.preopen = preopen            # guest path of a preopened directory, else None
        self.owned = owned                # close host_fd when the guest closes it
        self.sink = sink                  # callable(bytes) for a custom/null output stream
        self.mutable = mutable            # False under a read-only preopen
        self.dir_cache = None             # fd_readdir listing, reused while cookies advance
        self.host_path = host_path        # for messages only
        self.stream = stream              # stdio: never seekable, whatever the host fd is
        self.denied = 0                   # rights dropped by fd_fdstat_set_rights

    @property
    def is_dir(self) -> bool:
        return self.filetype == C.FILETYPE_DIRECTORY

    def close(self) -> None:
        fd, self.host_fd = self.host_fd, None
        if fd is not None and self.owned:
            os.close(fd)


def filetype_of_mode(mode: int) -> int:
    if _stat.S_ISREG(mode):
        return C.FILETYPE_REGULAR_FILE
    if _stat.S_ISDIR(mode):
        return C.FILETYPE_DIRECTORY
    if _stat.S_ISLNK(mode):
        return C.FILETYPE_SYMBOLIC_LINK
    if _stat.S_ISCHR(mode):
        return C.FILETYPE_CHARACTER_DEVICE
    if _stat.S_ISBLK(mode):
        return C.FILETYPE_BLOCK_DEVICE
    if _stat.S_ISSOCK(mode):
        return C.FILETYPE_SOCKET_STREAM
    return C.FILETYPE_UNKNOWN


def rights_for(filetype: int) -> int:
    if filetype == C.FILETYPE_DIRECTORY:
        return C.RIGHTS_DIRECTORY
    if filetype == C.FILETYPE_REGULAR_FILE:
        return C.RIGHTS_REGULAR_FILE
    return C.RIGHTS_TTY


class FdTable:
    """Guest fd number -> FileDesc; new numbers are the lowest free ones."""

    __slots__ = ("entries",)

    def __init__(self) -> None:
        self.entries: dict[int, FileDesc] = {}

    def get(self, fd: int, rights: int = 0) -> FileDesc:
        """The entry for ``fd`` (EBADF), unless the guest gave up one of
        ``rights`` (ENOTCAPABLE)."""
        entry = self.entries.get(fd & 0xFFFFFFFF)
        if entry is None:
            raise WasiErrno(C.EBADF)
        if rights & entry.denied:
            raise WasiErrno(C.ENOTCAPABLE)
        return entry

    def get_dir(self, fd: int, rights: int = 0) -> FileDesc:
        """A directory entry: paths are resolved under it (ENOTDIR otherwise)."""
        entry = self.get(fd, rights)
        if not entry.is_dir:
            raise WasiErrno(C.EBADF if entry.stream else C.ENOTDIR)
        return entry

    def get_file(self, fd: int, rights: int = 0) -> FileDesc:
        """An entry for an operation on file contents or metadata (sync,
        truncate, times...): stdio streams have none (EBADF, as Wasmtime)."""
        entry = self.get(fd, rights)
        if entry.stream:
            raise WasiErrno(C.EBADF)
        return entry

    def insert(self, entry: FileDesc) -> int:
        fd = 0
        entries = self.entries
        while fd in entries:
            fd += 1
        if fd > 0x7FFFFFFF:
            raise WasiErrno(C.EMFILE)
        entries[fd] = entry
        return fd

    def close_all(self) -> None:
        entries, self.entries = self.entries, {}
        for entry in entries.values():
            try:
                entry.close()
            except OSError:
                pass        # closing at teardown: nothing left to report it to
