"""The ``path_*`` functions of WASI preview1 (mixed into ``WasiCtx``).

Every path is resolved by ``paths.resolve`` under the directory descriptor
the guest names, then acted on with an ``*at`` call relative to the directory
the walk ended in, never following a symlink the walk did not vet.
"""

from __future__ import annotations

import os

from . import constants as C
from .fd_ops import pack_filestat, utime_ns
from .fdtable import FileDesc, filetype_of_mode, rights_for
from .guest import U32, U64, WasiErrno, check, read_path, u32_set, write_bytes
from .paths import resolve

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def _mutable(entry: FileDesc) -> FileDesc:
    if not entry.mutable:
        raise WasiErrno(C.EPERM)
    return entry


class PathOps:
    def path_open(self, mem, fd, dirflags, path, path_len, oflags, rights_base,
                  rights_inheriting, fdflags, fd_ptr):
        parent = self.fds.get_dir(fd, C.RIGHT_PATH_OPEN)
        name = read_path(mem, path, path_len)
        check(mem, fd_ptr, 4)
        oflags &= 0xFFFF
        fdflags &= 0xFFFF
        rights_base &= U64
        rights_inheriting &= U64
        if oflags & ~15 or fdflags & ~C.FDFLAGS_ALL:
            raise WasiErrno(C.EINVAL)
        if oflags & C.OFLAGS_CREAT and parent.denied & C.RIGHT_PATH_CREATE_FILE:
            raise WasiErrno(C.ENOTCAPABLE)
        wants_read = bool(rights_base & C.RIGHTS_READING)
        wants_write = bool(rights_base & C.RIGHTS_WRITING) or bool(fdflags & C.FDFLAGS_APPEND)
        if oflags & C.OFLAGS_TRUNC:
            wants_write = True
        if not parent.mutable and (wants_write or oflags & (C.OFLAGS_CREAT | C.OFLAGS_TRUNC)):
            raise WasiErrno(C.EPERM)

        flags = _CLOEXEC | os.O_NOFOLLOW
        refusal = 0       # reported after the path resolved, as Wasmtime orders its checks
        if oflags & C.OFLAGS_DIRECTORY:
            if oflags & (C.OFLAGS_CREAT | C.OFLAGS_TRUNC):
                refusal = C.EINVAL          # cannot create or truncate a directory
            elif wants_write:
                refusal = C.EISDIR
            flags |= os.O_RDONLY | os.O_DIRECTORY
        elif wants_write:
            flags |= os.O_RDWR if wants_read else os.O_WRONLY
        else:
            flags |= os.O_RDONLY
        if oflags & C.OFLAGS_CREAT:
            flags |= os.O_CREAT
        if oflags & C.OFLAGS_EXCL:
            flags |= os.O_EXCL
        if oflags & C.OFLAGS_TRUNC:
            flags |= os.O_TRUNC
        if fdflags & C.FDFLAGS_APPEND:
            flags |= os.O_APPEND
        if fdflags & C.FDFLAGS_NONBLOCK:
            flags |= os.O_NONBLOCK
        if fdflags & C.FDFLAGS_DSYNC:
            flags |= getattr(os, "O_DSYNC", os.O_SYNC)
        if fdflags & (C.FDFLAGS_SYNC | C.FDFLAGS_RSYNC):
            flags |= os.O_SYNC

        follow = bool(dirflags & C.LOOKUPFLAGS_SYMLINK_FOLLOW)
        with resolve(parent.host_fd, name, follow) as where:
            if refusal:
                raise WasiErrno(refusal)
            if where.trailing_slash:
                flags |= os.O_DIRECTORY
            try:
                host_fd = os.open(where.name, flags, 0o666, dir_fd=where.dir_fd)
            except IsADirectoryError:
                raise WasiErrno(C.EISDIR) from None
        try:
            st = os.fstat(host_fd)
            filetype = filetype_of_mode(st.st_mode)
            if filetype == C.FILETYPE_DIRECTORY and flags & (os.O_WRONLY | os.O_RDWR):
                raise WasiErrno(C.EISDIR)
            entry = FileDesc(
                host_fd, filetype,
                rights_base & parent.rights_inheriting & rights_for(filetype),
                rights_inheriting & parent.rights_inheriting,
                fdflags=fdflags & (C.FDFLAGS_APPEND | C.FDFLAGS_NONBLOCK | C.FDFLAGS_DSYNC
                                   | C.FDFLAGS_RSYNC | C.FDFLAGS_SYNC),
                mutable=parent.mutable)
            if not parent.mutable:
                entry.rights_base &= ~C.RIGHTS_MUTATING
                entry.rights_inheriting &= ~C.RIGHTS_MUTATING
            new_fd = self.fds.insert(entry)
        except BaseException:
            os.close(host_fd)
            raise
        u32_set(mem, fd_ptr, new_fd)
        return 0

    def path_create_directory(self, mem, fd, path, path_len):
        parent = _mutable(self.fds.get_dir(fd, C.RIGHT_PATH_CREATE_DIRECTORY))
        name = read_path(mem, path, path_len)
        with resolve(parent.host_fd, name, False) as where:
            os.mkdir(where.name, 0o777, dir_fd=where.dir_fd)
        return 0

    def path_remove_directory(self, mem, fd, path, path_len):
        parent = _mutable(self.fds.get_dir(fd, C.RIGHT_PATH_REMOVE_DIRECTORY))
        name = read_path(mem, path, path_len)
        with resolve(parent.host_fd, name, False) as where:
            # "d/", "d/." and "." name the directory through itself; POSIX
            # rmdir refuses the last two and Wasmtime all three (EINVAL).
            if where.name == "." or where.trailing_slash:
                os.stat(where.name, dir_fd=where.dir_fd)     # a missing one is ENOENT first
                raise WasiErrno(C.EINVAL)
            os.rmdir(where.name, dir_fd=where.dir_fd)
        return 0

    def path_unlink_file(self, mem, fd, path, path_len):
        parent = _mutable(self.fds.get_dir(fd, C.RIGHT_PATH_UNLINK_FILE))
        name = read_path(mem, path, path_len)
        with resolve(parent.host_fd, name, False) as where:
            if where.trailing_slash:
                # "file/" names a directory that a file cannot be.
                st = os.stat(where.name, dir_fd=where.dir_fd, follow_symlinks=False)
                raise WasiErrno(C.EISDIR if filetype_of_mode(st.st_mode) == C.FILETYPE_DIRECTORY
                                else C.ENOTDIR)
            if where.name == ".":
                raise WasiErrno(C.EISDIR)
            os.unlink(where.name, dir_fd=where.dir_fd)
        return 0

    def path_rename(self, mem, fd, old_path, old_len, new_fd, new_path, new_len):
        src_dir = _mutable(self.fds.get_dir(fd, C.RIGHT_PATH_RENAME_SOURCE))
        dst_dir = _mutable(self.fds.get_dir(new_fd, C.RIGHT_PATH_RENAME_TARGET))
        old_name = read_path(mem, old_path, old_len)
        new_name = read_path(mem, new_path, new_len)
        with resolve(src_dir.host_fd, old_name, False) as src, \
                resolve(dst_dir.host_fd, new_name, False) as dst:
            if src.name == "." or dst.name == ".":
                raise WasiErrno(C.EBUSY)
            os.rename(src.name, dst.name, src_dir_fd=src.dir_fd, dst_dir_fd=dst.dir_fd)
        return 0

    def path_link(self, mem, old_fd, old_flags, old_path, old_len, new_fd, new_path, new_len):
        src_dir = _mutable(self.fds.get_dir(old_fd, C.RIGHT_PATH_LINK_SOURCE))
        dst_dir = _mutable(self.fds.get_dir(new_fd, C.RIGHT_PATH_LINK_TARGET))
        old_name = read_path(mem, old_path, old_len)
        new_name = read_path(mem, new_path, new_len)
        follow = bool(old_flags & C.LOOKUPFLAGS_SYMLINK_FOLLOW)
        with resolve(src_dir.host_fd, old_name, follow) as src, \
                resolve(dst_dir.host_fd, new_name, False) as dst:
            if dst.trailing_slash:
                raise WasiErrno(C.ENOENT)
            # The source was fully resolved in the sandbox: link the object
            # itself, never through a symlink the kernel would follow.
            os.link(src.name, dst.name, src_dir_fd=src.dir_fd, dst_dir_fd=dst.dir_fd,
                    follow_symlinks=False)
        return 0

    def path_symlink(self, mem, old_path, old_len, fd, new_path, new_len):
        parent = _mutable(self.fds.get_dir(fd, C.RIGHT_PATH_SYMLINK))
        target = read_path(mem, old_path, old_len)
        new_name = read_path(mem, new_path, new_len)
        if target.startswith("/"):
            # An absolute target could only ever point outside the sandbox.
            raise WasiErrno(C.EPERM)
        with resolve(parent.host_fd, new_name, False) as where:
            if where.trailing_slash:
                raise WasiErrno(C.ENOENT)
            os.symlink(target, where.name, dir_fd=where.dir_fd)
        return 0

    def path_readlink(self, mem, fd, path, path_len, buf, buf_len, used_ptr):
        parent = self.fds.get_dir(fd, C.RIGHT_PATH_READLINK)
        name = read_path(mem, path, path_len)
        buf_len &= U32
        check(mem, buf, buf_len)
        check(mem, used_ptr, 4)
        with resolve(parent.host_fd, name, False) as where:
            target = os.fsencode(os.readlink(where.name, dir_fd=where.dir_fd))
        target = target[:buf_len]        # POSIX readlink: cut to the buffer
        write_bytes(mem, buf, target)
        u32_set(mem, used_ptr, len(target))
        return 0

    def path_filestat_get(self, mem, fd, flags, path, path_len, stat_ptr):
        parent = self.fds.get_dir(fd, C.RIGHT_PATH_FILESTAT_GET)
        name = read_path(mem, path, path_len)
        check(mem, stat_ptr, C.SIZE_FILESTAT)
        with resolve(parent.host_fd, name, bool(flags & C.LOOKUPFLAGS_SYMLINK_FOLLOW)) as where:
            st = os.stat(where.name, dir_fd=where.dir_fd, follow_symlinks=False)
            if where.trailing_slash and filetype_of_mode(st.st_mode) != C.FILETYPE_DIRECTORY:
                raise WasiErrno(C.ENOTDIR)
        pack_filestat(mem, stat_ptr, st)
        return 0

    def path_filestat_set_times(self, mem, fd, flags, path, path_len, atim, mtim, fstflags):
        parent = _mutable(self.fds.get_dir(fd, C.RIGHT_PATH_FILESTAT_SET_TIMES))
        name = read_path(mem, path, path_len)
        with resolve(parent.host_fd, name, bool(flags & C.LOOKUPFLAGS_SYMLINK_FOLLOW)) as where:
            st = os.stat(where.name, dir_fd=where.dir_fd, follow_symlinks=False)
            times = utime_ns(st, atim, mtim, fstflags & 0xFFFF)
            os.utime(where.name, ns=times, dir_fd=where.dir_fd, follow_symlinks=False)
        return 0
