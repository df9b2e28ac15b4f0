"""The ``fd_*`` functions of WASI preview1 (mixed into ``WasiCtx``).

Each method takes the guest memory then the raw Wasm arguments and returns a
WASI errno; helpers raise ``WasiErrno``/``Fault``/``OSError``, which the call
wrapper in ``ctx.py`` turns into errnos.
"""

from __future__ import annotations

import os
import select
import struct
import sys
import time

from . import constants as C
from .fdtable import FileDesc, filetype_of_mode
from .guest import U32, U64, WasiErrno, check, iovecs, u32_set, u64_set, write_bytes

_fdstat = struct.Struct("<BxHxxxxQQ")
_filestat = struct.Struct("<QQBxxxxxxxQQQQQ")
_dirent = struct.Struct("<QQIBxxx")
_prestat = struct.Struct("<BxxxI")


def pack_filestat(mem, ptr: int, st: os.stat_result) -> None:
    ptr = check(mem, ptr, C.SIZE_FILESTAT)
    _filestat.pack_into(mem, ptr, st.st_dev & U64, st.st_ino & U64, filetype_of_mode(st.st_mode),
                        st.st_nlink, st.st_size, st.st_atime_ns & U64, st.st_mtime_ns & U64,
                        st.st_ctime_ns & U64)


_POLLIN = getattr(select, "POLLIN", 1)
_POLLOUT = getattr(select, "POLLOUT", 4)


def _would_block(host_fd: int, event: int) -> None:
    """EAGAIN unless ``host_fd`` is ready now: nonblocking I/O on a descriptor
    whose host flags are not ours to change."""
    poller = select.poll()
    poller.register(host_fd, event)
    if not poller.poll(0):
        raise WasiErrno(C.EAGAIN)


def _signed64(v: int) -> int:
    v &= U64
    return v - (1 << 64) if v >> 63 else v


def utime_ns(current: os.stat_result, atim: int, mtim: int, fstflags: int):
    """The (atime, mtime) pair for os.utime from WASI fstflags; EINVAL for
    contradictory or unknown flags. Unset fields keep the current value."""
    if fstflags & ~15 or (fstflags & C.FSTFLAGS_ATIM and fstflags & C.FSTFLAGS_ATIM_NOW) \
            or (fstflags & C.FSTFLAGS_MTIM and fstflags & C.FSTFLAGS_MTIM_NOW):
        raise WasiErrno(C.EINVAL)
    now = time.time_ns()
    a = (atim & U64 if fstflags & C.FSTFLAGS_ATIM else
         now if fstflags & C.FSTFLAGS_ATIM_NOW else current.st_atime_ns)
    m = (mtim & U64 if fstflags & C.FSTFLAGS_MTIM else
         now if fstflags & C.FSTFLAGS_MTIM_NOW else current.st_mtime_ns)
    return a, m


class FdOps:
    # --- reading and writing -------------------------------------------------
    def fd_read(self, mem, fd, iovs, iovs_len, nread_ptr):
        entry = self.fds.get(fd, C.RIGHT_FD_READ)
        bufs = iovecs(mem, iovs, iovs_len)
        check(mem, nread_ptr, 4)
        if entry.is_dir:
            raise WasiErrno(C.EBADF)
        if entry.host_fd is None or not bufs:   # the null stdin is always at its end
            n = 0
        else:
            if entry.fdflags & C.FDFLAGS_NONBLOCK and not entry.owned:
                _would_block(entry.host_fd, _POLLIN)
            n = os.readv(entry.host_fd, bufs)
        u32_set(mem, nread_ptr, n)
        return 0

    def _positioned(self, mem, fd, right, iovs, iovs_len, offset, n_ptr):
        """The checks fd_pread and fd_pwrite share, in the order that decides
        which errno a bad call gets: ``(host_fd, buffers, offset)``."""
        entry = self.fds.get(fd, right | C.RIGHT_FD_SEEK)
        bufs = iovecs(mem, iovs, iovs_len)
        check(mem, n_ptr, 4)
        offset &= U64
        if offset >> 63:
            raise WasiErrno(C.EINVAL)
        if entry.is_dir:
            raise WasiErrno(C.EBADF)
        if entry.stream or entry.host_fd is None:
            raise WasiErrno(C.ESPIPE)
        return entry.host_fd, bufs, offset

    def fd_pread(self, mem, fd, iovs, iovs_len, offset, nread_ptr):
        host_fd, bufs, offset = self._positioned(mem, fd, C.RIGHT_FD_READ, iovs, iovs_len, offset, nread_ptr)
        n = os.preadv(host_fd, bufs, offset) if bufs else 0
        u32_set(mem, nread_ptr, n)
        return 0

    def fd_write(self, mem, fd, iovs, iovs_len, nwritten_ptr):
        entry = self.fds.get(fd, C.RIGHT_FD_WRITE)
        bufs = iovecs(mem, iovs, iovs_len)
        check(mem, nwritten_ptr, 4)
        if entry.is_dir:
            raise WasiErrno(C.EBADF)
        if entry.sink is not None:
            data = b"".join(bufs)
            entry.sink(data)
            n = len(data)
        elif not bufs:
            n = 0
        else:
            host_fd = entry.host_fd
            if not entry.owned and host_fd in (1, 2):
                # Inherited stdout/stderr: Python may hold text it printed
                # earlier; flush it so the two keep their order.
                stream = sys.stdout if host_fd == 1 else sys.stderr
                if stream is not None:
                    try:
                        stream.flush()
                    except (OSError, ValueError):
                        pass
            if entry.fdflags & C.FDFLAGS_NONBLOCK and not entry.owned:
                _would_block(host_fd, _POLLOUT)
            n = os.writev(host_fd, bufs)
        u32_set(mem, nwritten_ptr, n)
        return 0

    def fd_pwrite(self, mem, fd, iovs, iovs_len, offset, nwritten_ptr):
        host_fd, bufs, offset = self._positioned(mem, fd, C.RIGHT_FD_WRITE, iovs, iovs_len, offset, nwritten_ptr)
        # On an append-mode fd the host appends whatever the offset (Linux
        # pwrite with O_APPEND); Wasmtime accepts the call the same way.
        n = os.pwritev(host_fd, bufs, offset) if bufs else 0
        u32_set(mem, nwritten_ptr, n)
        return 0

    # --- position ------------------------------------------------------------
    def fd_seek(self, mem, fd, offset, whence, newoffset_ptr):
        offset = _signed64(offset)
        whence &= U32
        # Wasmtime (as POSIX): a seek that only asks the position needs fd_tell
        rights = C.RIGHT_FD_TELL if (offset == 0 and whence == C.WHENCE_CUR) else C.RIGHT_FD_SEEK
        entry = self.fds.get(fd, rights)
        check(mem, newoffset_ptr, 8)
        if whence > 2:
            raise WasiErrno(C.EINVAL)
        if entry.is_dir:
            raise WasiErrno(C.EBADF)
        if entry.stream or entry.host_fd is None:
            raise WasiErrno(C.ESPIPE)
        pos = os.lseek(entry.host_fd, offset, (os.SEEK_SET, os.SEEK_CUR, os.SEEK_END)[whence])
        u64_set(mem, newoffset_ptr, pos)
        return 0

    def fd_tell(self, mem, fd, offset_ptr):
        entry = self.fds.get(fd, C.RIGHT_FD_TELL)
        check(mem, offset_ptr, 8)
        if entry.is_dir:
            raise WasiErrno(C.EBADF)
        if entry.stream or entry.host_fd is None:
            raise WasiErrno(C.ESPIPE)
        u64_set(mem, offset_ptr, os.lseek(entry.host_fd, 0, os.SEEK_CUR))
        return 0

    # --- durability and space ------------------------------------------------
    def fd_sync(self, mem, fd):
        entry = self.fds.get_file(fd, C.RIGHT_FD_SYNC)
        os.fsync(entry.host_fd)
        return 0

    def fd_datasync(self, mem, fd):
        entry = self.fds.get_file(fd, C.RIGHT_FD_DATASYNC)
        (getattr(os, "fdatasync", None) or os.fsync)(entry.host_fd)
        return 0

    def fd_advise(self, mem, fd, offset, length, advice):
        entry = self.fds.get_file(fd, C.RIGHT_FD_ADVISE)
        offset, length, advice = offset & U64, length & U64, advice & U32
        if advice > C.ADVICE_MAX or offset >> 63 or length >> 63:
            raise WasiErrno(C.EINVAL)
        if entry.is_dir:
            raise WasiErrno(C.EBADF)
        fadvise = getattr(os, "posix_fadvise", None)
        if fadvise is not None and entry.host_fd is not None \
                and entry.filetype == C.FILETYPE_REGULAR_FILE:
            host_advice = (os.POSIX_FADV_NORMAL, os.POSIX_FADV_SEQUENTIAL, os.POSIX_FADV_RANDOM,
                           os.POSIX_FADV_WILLNEED, os.POSIX_FADV_DONTNEED, os.POSIX_FADV_NOREUSE)
            fadvise(entry.host_fd, offset, length, host_advice[advice])
        # Advice is a hint: where the host takes none, ignoring it is correct.
        return 0

    def fd_allocate(self, mem, fd, offset, length):
        entry = self.fds.get_file(fd, C.RIGHT_FD_ALLOCATE)
        offset, length = offset & U64, length & U64
        if entry.filetype != C.FILETYPE_REGULAR_FILE:
            raise WasiErrno(C.EBADF if entry.is_dir else C.ESPIPE)
        if offset + length >= 1 << 63:
            raise WasiErrno(C.EFBIG)
        if length == 0:
            raise WasiErrno(C.EINVAL)
        fallocate = getattr(os, "posix_fallocate", None)
        if fallocate is not None:
            try:
                fallocate(entry.host_fd, offset, length)
                return 0
            except OSError as e:
                if C.errno_from_host(e.errno) not in (C.ENOTSUP, C.EINVAL):
                    raise
        # File systems without fallocate: extending the size gives the same
        # guarantee WASI promises (subsequent writes in range do not fail for size).
        if os.fstat(entry.host_fd).st_size < offset + length:
            os.ftruncate(entry.host_fd, offset + length)
        return 0

    # --- descriptor state ----------------------------------------------------
    def fd_close(self, mem, fd):
        entry = self.fds.get(fd)
        del self.fds.entries[fd & U32]
        entry.close()
        return 0

    def fd_renumber(self, mem, fd, to):
        entries = self.fds.entries
        src = self.fds.get(fd)
        dst = self.fds.get(to)
        fd, to = fd & U32, to & U32
        if fd == to:
            return 0
        del entries[fd]
        entries[to] = src
        dst.close()
        return 0

    def fd_fdstat_get(self, mem, fd, stat_ptr):
        entry = self.fds.get(fd)
        ptr = check(mem, stat_ptr, C.SIZE_FDSTAT)
        # entry.fdflags is the truth: only the guest changes them, through us.
        _fdstat.pack_into(mem, ptr, entry.filetype, entry.fdflags, entry.rights_base,
                          entry.rights_inheriting)
        return 0

    def fd_fdstat_set_flags(self, mem, fd, flags):
        entry = self.fds.get(fd, C.RIGHT_FD_FDSTAT_SET_FLAGS)
        flags &= 0xFFFF
        if flags & ~C.FDFLAGS_ALL:
            raise WasiErrno(C.EINVAL)
        changing = flags ^ entry.fdflags
        # Only append and nonblock can change on an open description (as POSIX
        # F_SETFL); the sync flags are fixed at open, as in Wasmtime.
        if changing & (C.FDFLAGS_DSYNC | C.FDFLAGS_RSYNC | C.FDFLAGS_SYNC):
            raise WasiErrno(C.ENOTSUP)
        if entry.host_fd is not None and entry.owned:
            import fcntl
            host = fcntl.fcntl(entry.host_fd, fcntl.F_GETFL)
            host = (host | os.O_APPEND) if flags & C.FDFLAGS_APPEND else (host & ~os.O_APPEND)
            host = (host | os.O_NONBLOCK) if flags & C.FDFLAGS_NONBLOCK else (host & ~os.O_NONBLOCK)
            fcntl.fcntl(entry.host_fd, fcntl.F_SETFL, host)
        # An inherited descriptor (the host's own stdin/stdout/stderr) is
        # shared with this process: its host flags stay untouched and
        # nonblocking mode is emulated in fd_read/fd_write instead.
        entry.fdflags = flags
        return 0

    def fd_fdstat_set_rights(self, mem, fd, base, inheriting):
        entry = self.fds.get(fd)
        base, inheriting = base & U64, inheriting & U64
        # Rights only shrink: a guest cannot grant itself more. (Wasmtime 50
        # answers ENOTSUP to every call; preview1 defines the call, so pywinch
        # implements it, and what is dropped is then enforced.)
        if base & ~entry.rights_base or inheriting & ~entry.rights_inheriting:
            raise WasiErrno(C.ENOTCAPABLE)
        entry.denied |= entry.rights_base & ~base
        entry.rights_base, entry.rights_inheriting = base, inheriting
        return 0

    # --- metadata ------------------------------------------------------------
    def fd_filestat_get(self, mem, fd, stat_ptr):
        entry = self.fds.get(fd, C.RIGHT_FD_FILESTAT_GET)
        ptr = check(mem, stat_ptr, C.SIZE_FILESTAT)
        if entry.stream:
            # Stdio is a stream whatever the host redirected it to: only its
            # type is known (Wasmtime reports the same zeros).
            _filestat.pack_into(mem, ptr, 0, 0, entry.filetype, 0, 0, 0, 0, 0)
            return 0
        pack_filestat(mem, stat_ptr, os.fstat(entry.host_fd))
        return 0

    def fd_filestat_set_size(self, mem, fd, size):
        entry = self.fds.get_file(fd, C.RIGHT_FD_FILESTAT_SET_SIZE)
        size &= U64
        if size >> 63:
            raise WasiErrno(C.EFBIG)
        if entry.filetype != C.FILETYPE_REGULAR_FILE:
            raise WasiErrno(C.EISDIR if entry.is_dir else C.EINVAL)
        os.ftruncate(entry.host_fd, size)
        return 0

    def fd_filestat_set_times(self, mem, fd, atim, mtim, fstflags):
        entry = self.fds.get_file(fd, C.RIGHT_FD_FILESTAT_SET_TIMES)
        if not entry.mutable:
            raise WasiErrno(C.EPERM)
        times = utime_ns(os.fstat(entry.host_fd), atim, mtim, fstflags & 0xFFFF)
        os.utime(entry.host_fd, ns=times)
        return 0

    # --- directories ---------------------------------------------------------
    def fd_readdir(self, mem, fd, buf, buf_len, cookie, used_ptr):
        entry = self.fds.get(fd, C.RIGHT_FD_READDIR)
        buf_len &= U32
        buf = check(mem, buf, buf_len)
        check(mem, used_ptr, 4)
        if not entry.is_dir:
            raise WasiErrno(C.EBADF)
        cookie &= U64
        listing = entry.dir_cache
        if listing is None or cookie == 0:
            listing = entry.dir_cache = self._list_dir(entry)
        # Entries are written back to back; the last may be cut at buf_len,
        # which tells wasi-libc to ask again from that entry's cookie.
        used = 0
        for index in range(cookie, len(listing)):
            record = listing[index]
            take = min(len(record), buf_len - used)
            mem[buf + used:buf + used + take] = record[:take]
            used += take
            if used == buf_len:
                break
        u32_set(mem, used_ptr, used)
        return 0

    @staticmethod
    def _list_dir(entry: FileDesc) -> list[bytes]:
        """Each entry encoded once: a 24-byte dirent (whose d_next is the
        next entry's cookie, i.e. its index) then the name without NUL."""
        host_fd = entry.host_fd
        rows = []
        for name in (".", ".."):
            try:
                st = os.stat(name, dir_fd=host_fd, follow_symlinks=False)
                rows.append((name, st.st_ino, C.FILETYPE_DIRECTORY))
            except OSError:
                rows.append((name, 0, C.FILETYPE_DIRECTORY))
        with os.scandir(host_fd) as it:
            for e in it:
                try:
                    if e.is_symlink():
                        ft = C.FILETYPE_SYMBOLIC_LINK
                    elif e.is_dir(follow_symlinks=False):
                        ft = C.FILETYPE_DIRECTORY
                    elif e.is_file(follow_symlinks=False):
                        ft = C.FILETYPE_REGULAR_FILE
                    else:
                        ft = filetype_of_mode(e.stat(follow_symlinks=False).st_mode)
                except OSError:
                    ft = C.FILETYPE_UNKNOWN   # vanished meanwhile: still listed, as readdir would
                rows.append((e.name, e.inode(), ft))
        out = []
        for index, (name, ino, ft) in enumerate(rows):
            raw = os.fsencode(name)
            out.append(_dirent.pack(index + 1, ino & U64, len(raw), ft) + raw)
        return out

    def fd_prestat_get(self, mem, fd, prestat_ptr):
        entry = self.fds.get(fd)
        ptr = check(mem, prestat_ptr, C.SIZE_PRESTAT)
        if entry.preopen is None:
            raise WasiErrno(C.EBADF)
        _prestat.pack_into(mem, ptr, C.PREOPENTYPE_DIR, len(entry.preopen.encode("utf-8")))
        return 0

    def fd_prestat_dir_name(self, mem, fd, path, path_len):
        entry = self.fds.get(fd)
        if entry.preopen is None:
            raise WasiErrno(C.EBADF)
        name = entry.preopen.encode("utf-8")
        if (path_len & U32) < len(name):
            raise WasiErrno(C.ENAMETOOLONG)
        write_bytes(mem, path, name)
        return 0
