"""WASI preview1 (``wasi_snapshot_preview1``) numbers and record layouts.

Values come from the preview1 witx definitions; the layouts (offsets in the
guest's little-endian memory) are those wasi-libc's ``<wasi/api.h>`` asserts.
Plain ints rather than enums: they are compared on every call.
"""

from __future__ import annotations

import errno as _host

MODULE = "wasi_snapshot_preview1"

# --- errno -------------------------------------------------------------------
ERRNO_NAMES = (
    "SUCCESS", "2BIG", "ACCES", "ADDRINUSE", "ADDRNOTAVAIL", "AFNOSUPPORT", "AGAIN",
    "ALREADY", "BADF", "BADMSG", "BUSY", "CANCELED", "CHILD", "CONNABORTED",
    "CONNREFUSED", "CONNRESET", "DEADLK", "DESTADDRREQ", "DOM", "DQUOT", "EXIST",
    "FAULT", "FBIG", "HOSTUNREACH", "IDRM", "ILSEQ", "INPROGRESS", "INTR", "INVAL",
    "IO", "ISCONN", "ISDIR", "LOOP", "MFILE", "MLINK", "MSGSIZE", "MULTIHOP",
    "NAMETOOLONG", "NETDOWN", "NETRESET", "NETUNREACH", "NFILE", "NOBUFS", "NODEV",
    "NOENT", "NOEXEC", "NOLCK", "NOLINK", "NOMEM", "NOMSG", "NOPROTOOPT", "NOSPC",
    "NOSYS", "NOTCONN", "NOTDIR", "NOTEMPTY", "NOTRECOVERABLE", "NOTSOCK", "NOTSUP",
    "NOTTY", "NXIO", "OVERFLOW", "OWNERDEAD", "PERM", "PIPE", "PROTO",
    "PROTONOSUPPORT", "PROTOTYPE", "RANGE", "ROFS", "SPIPE", "SRCH", "STALE",
    "TIMEDOUT", "TXTBSY", "XDEV", "NOTCAPABLE",
)
# The errnos the implementation returns by name (the value is the index above).
ESUCCESS = 0; E2BIG = 1; EACCES = 2; EAGAIN = 6; EBADF = 8; EBUSY = 10; EEXIST = 20
EFAULT = 21; EFBIG = 22; EILSEQ = 25; EINTR = 27; EINVAL = 28; EIO = 29; EISDIR = 31
ELOOP = 32; EMFILE = 33; ENAMETOOLONG = 37; ENOENT = 44; ENOMEM = 48; ENOSPC = 51
ENOSYS = 52; ENOTDIR = 54; ENOTEMPTY = 55; ENOTSOCK = 57; ENOTSUP = 58; EOVERFLOW = 61
EPERM = 63; EPIPE = 64; ESPIPE = 70; EXDEV = 75; ENOTCAPABLE = 76


def _host_errno_table() -> dict[int, int]:
    """Host errno value -> WASI errno, for every name both sides know."""
    table = {}
    for wasi_value, name in enumerate(ERRNO_NAMES):
        host_value = getattr(_host, "E" + name, None)
        if host_value is not None:
            table.setdefault(host_value, wasi_value)
    # Aliases: same meaning, different host names.
    for alias, wasi_value in (("EWOULDBLOCK", EAGAIN), ("EOPNOTSUPP", ENOTSUP),
                              ("ECANCELLED", ERRNO_NAMES.index("CANCELED")),
                              ("EDEADLOCK", ERRNO_NAMES.index("DEADLK"))):
        host_value = getattr(_host, alias, None)
        if host_value is not None:
            table.setdefault(host_value, wasi_value)
    return table


HOST_TO_WASI_ERRNO = _host_errno_table()


def errno_from_host(host_errno: int | None) -> int:
    """The WASI errno for a host errno; EIO when the host's has no WASI peer."""
    if host_errno is None:
        return EIO
    return HOST_TO_WASI_ERRNO.get(host_errno, EIO)


def errno_name(value: int) -> str:
    return "E" + ERRNO_NAMES[value] if 0 <= value < len(ERRNO_NAMES) else f"errno {value}"


# --- file types, flags -------------------------------------------------------
FILETYPE_UNKNOWN = 0
FILETYPE_BLOCK_DEVICE = 1
FILETYPE_CHARACTER_DEVICE = 2
FILETYPE_DIRECTORY = 3
FILETYPE_REGULAR_FILE = 4
FILETYPE_SOCKET_DGRAM = 5
FILETYPE_SOCKET_STREAM = 6
FILETYPE_SYMBOLIC_LINK = 7

FDFLAGS_APPEND = 1
FDFLAGS_DSYNC = 2
FDFLAGS_NONBLOCK = 4
FDFLAGS_RSYNC = 8
FDFLAGS_SYNC = 16
FDFLAGS_ALL = 31

OFLAGS_CREAT = 1
OFLAGS_DIRECTORY = 2
OFLAGS_EXCL = 4
OFLAGS_TRUNC = 8

LOOKUPFLAGS_SYMLINK_FOLLOW = 1

FSTFLAGS_ATIM = 1
FSTFLAGS_ATIM_NOW = 2
FSTFLAGS_MTIM = 4
FSTFLAGS_MTIM_NOW = 8

WHENCE_SET = 0
WHENCE_CUR = 1
WHENCE_END = 2

ADVICE_MAX = 5          # normal, sequential, random, willneed, dontneed, noreuse

CLOCK_REALTIME = 0
CLOCK_MONOTONIC = 1
CLOCK_PROCESS_CPUTIME = 2
CLOCK_THREAD_CPUTIME = 3

EVENTTYPE_CLOCK = 0
EVENTTYPE_FD_READ = 1
EVENTTYPE_FD_WRITE = 2
SUBCLOCKFLAGS_ABSTIME = 1
EVENTRWFLAGS_HANGUP = 1

PREOPENTYPE_DIR = 0

# --- rights ------------------------------------------------------------------
RIGHT_FD_DATASYNC = 1 << 0
RIGHT_FD_READ = 1 << 1
RIGHT_FD_SEEK = 1 << 2
RIGHT_FD_FDSTAT_SET_FLAGS = 1 << 3
RIGHT_FD_SYNC = 1 << 4
RIGHT_FD_TELL = 1 << 5
RIGHT_FD_WRITE = 1 << 6
RIGHT_FD_ADVISE = 1 << 7
RIGHT_FD_ALLOCATE = 1 << 8
RIGHT_PATH_CREATE_DIRECTORY = 1 << 9
RIGHT_PATH_CREATE_FILE = 1 << 10
RIGHT_PATH_LINK_SOURCE = 1 << 11
RIGHT_PATH_LINK_TARGET = 1 << 12
RIGHT_PATH_OPEN = 1 << 13
RIGHT_FD_READDIR = 1 << 14
RIGHT_PATH_READLINK = 1 << 15
RIGHT_PATH_RENAME_SOURCE = 1 << 16
RIGHT_PATH_RENAME_TARGET = 1 << 17
RIGHT_PATH_FILESTAT_GET = 1 << 18
RIGHT_PATH_FILESTAT_SET_SIZE = 1 << 19
RIGHT_PATH_FILESTAT_SET_TIMES = 1 << 20
RIGHT_FD_FILESTAT_GET = 1 << 21
RIGHT_FD_FILESTAT_SET_SIZE = 1 << 22
RIGHT_FD_FILESTAT_SET_TIMES = 1 << 23
RIGHT_PATH_SYMLINK = 1 << 24
RIGHT_PATH_REMOVE_DIRECTORY = 1 << 25
RIGHT_PATH_UNLINK_FILE = 1 << 26
RIGHT_POLL_FD_READWRITE = 1 << 27
RIGHT_SOCK_SHUTDOWN = 1 << 28
RIGHT_SOCK_ACCEPT = 1 << 29
RIGHTS_ALL = (1 << 30) - 1

# What applies to each kind of descriptor; path_open intersects with these so
# an fd never claims a right that cannot apply to it.
RIGHTS_REGULAR_FILE = (
    RIGHT_FD_DATASYNC | RIGHT_FD_READ | RIGHT_FD_SEEK | RIGHT_FD_FDSTAT_SET_FLAGS
    | RIGHT_FD_SYNC | RIGHT_FD_TELL | RIGHT_FD_WRITE | RIGHT_FD_ADVISE | RIGHT_FD_ALLOCATE
    | RIGHT_FD_FILESTAT_GET | RIGHT_FD_FILESTAT_SET_SIZE | RIGHT_FD_FILESTAT_SET_TIMES
    | RIGHT_POLL_FD_READWRITE)
RIGHTS_DIRECTORY = (
    RIGHT_FD_FDSTAT_SET_FLAGS | RIGHT_FD_SYNC | RIGHT_FD_ADVISE | RIGHT_PATH_CREATE_DIRECTORY
    | RIGHT_PATH_CREATE_FILE | RIGHT_PATH_LINK_SOURCE | RIGHT_PATH_LINK_TARGET
    | RIGHT_PATH_OPEN | RIGHT_FD_READDIR | RIGHT_PATH_READLINK | RIGHT_PATH_RENAME_SOURCE
    | RIGHT_PATH_RENAME_TARGET | RIGHT_PATH_FILESTAT_GET | RIGHT_PATH_FILESTAT_SET_SIZE
    | RIGHT_PATH_FILESTAT_SET_TIMES | RIGHT_FD_FILESTAT_GET | RIGHT_FD_FILESTAT_SET_TIMES
    | RIGHT_PATH_SYMLINK | RIGHT_PATH_REMOVE_DIRECTORY | RIGHT_PATH_UNLINK_FILE
    | RIGHT_POLL_FD_READWRITE)
RIGHTS_TTY = (RIGHT_FD_READ | RIGHT_FD_FDSTAT_SET_FLAGS | RIGHT_FD_WRITE
              | RIGHT_FD_FILESTAT_GET | RIGHT_POLL_FD_READWRITE)
# A preopen's children may be anything: directories pass everything down.
RIGHTS_DIRECTORY_INHERITING = RIGHTS_DIRECTORY | RIGHTS_REGULAR_FILE
# Rights a read-only preopen (fs_mutable=False) withholds.
RIGHTS_MUTATING = (
    RIGHT_FD_DATASYNC | RIGHT_FD_WRITE | RIGHT_FD_ALLOCATE | RIGHT_PATH_CREATE_DIRECTORY
    | RIGHT_PATH_CREATE_FILE | RIGHT_PATH_LINK_SOURCE | RIGHT_PATH_LINK_TARGET
    | RIGHT_PATH_RENAME_SOURCE | RIGHT_PATH_RENAME_TARGET | RIGHT_PATH_FILESTAT_SET_SIZE
    | RIGHT_PATH_FILESTAT_SET_TIMES | RIGHT_FD_FILESTAT_SET_SIZE | RIGHT_FD_FILESTAT_SET_TIMES
    | RIGHT_PATH_SYMLINK | RIGHT_PATH_REMOVE_DIRECTORY | RIGHT_PATH_UNLINK_FILE)
# path_open opens the host file for reading / writing when any of these is asked.
RIGHTS_READING = RIGHT_FD_READ | RIGHT_FD_READDIR
RIGHTS_WRITING = RIGHT_FD_DATASYNC | RIGHT_FD_WRITE | RIGHT_FD_ALLOCATE | RIGHT_FD_FILESTAT_SET_SIZE

# --- record sizes (bytes in guest memory) ------------------------------------
SIZE_IOVEC = 8            # buf u32, len u32
SIZE_FDSTAT = 24          # filetype u8 @0, flags u16 @2, rights_base u64 @8, inheriting u64 @16
SIZE_FILESTAT = 64        # dev, ino, filetype u8 @16, nlink @24, size @32, atim @40, mtim @48, ctim @56
SIZE_DIRENT = 24          # d_next u64, d_ino u64, d_namlen u32 @16, d_type u8 @20
SIZE_PRESTAT = 8          # tag u8 @0, name_len u32 @4
SIZE_SUBSCRIPTION = 48    # userdata u64, tag u8 @8, union @16
SIZE_EVENT = 32           # userdata u64, error u16 @8, type u8 @10, nbytes u64 @16, flags u16 @24

SYMLINK_MAX_FOLLOW = 40   # as Linux's MAXSYMLINKS
