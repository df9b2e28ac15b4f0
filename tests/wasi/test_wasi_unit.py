"""WASI functions called directly on a bytearray-backed memory: no engine,
so each rule is checked in isolation (errno mapping, fd table, iovecs,
readdir encoding, EFAULT for wild pointers, the path sandbox, poll clocks)."""

from __future__ import annotations

import errno
import os
import struct
import time

import pytest

from pywinch.errors import ExitTrap, Trap, WasmError
from pywinch.runtime.wasi import SIGNATURES, WasiConfig, WasiCtx, errno_from_host, errno_name
from pywinch.runtime.wasi import constants as C
from pywinch.runtime.wasi.guest import WasiErrno
from pywinch.runtime.wasi.paths import resolve

PAGE = 65536


class Guest:
    """A WASI context plus one page of memory and a bump allocator in it."""

    def __init__(self, config: WasiConfig | None = None, size: int = PAGE):
        self.ctx = WasiCtx(config or WasiConfig())
        self.fns = {name: fn for name, (_, _, fn) in self.ctx.functions().items()}
        self.mem = bytearray(size)
        self.top = 1024

    def __getattr__(self, name):
        fn = self.fns[name]
        return lambda *args: fn(self.mem, *args)

    def alloc(self, size: int, align: int = 8) -> int:
        self.top = (self.top + align - 1) & -align
        at = self.top
        self.top += size
        return at

    def put(self, data: bytes) -> tuple[int, int]:
        at = self.alloc(len(data), 1)
        self.mem[at:at + len(data)] = data
        return at, len(data)

    def u32(self, at: int) -> int:
        return struct.unpack_from("<I", self.mem, at)[0]

    def u64(self, at: int) -> int:
        return struct.unpack_from("<Q", self.mem, at)[0]

    def iovecs(self, *buffers: tuple[int, int]) -> tuple[int, int]:
        at = self.alloc(8 * len(buffers))
        for i, (p, n) in enumerate(buffers):
            struct.pack_into("<II", self.mem, at + 8 * i, p, n)
        return at, len(buffers)

    def open(self, dirfd: int, path: str, oflags=0, rights=C.RIGHTS_REGULAR_FILE, fdflags=0,
             follow=True) -> int:
        p, n = self.put(path.encode())
        out = self.alloc(4)
        e = self.path_open(dirfd, int(follow), p, n, oflags, rights, rights, fdflags, out)
        if e:
            raise WasiErrno(e)
        return self.u32(out)

    def write(self, fd: int, *chunks: bytes) -> int:
        iov, cnt = self.iovecs(*(self.put(c) for c in chunks))
        out = self.alloc(4)
        assert self.fd_write(fd, iov, cnt, out) == 0
        return self.u32(out)

    def read(self, fd: int, *sizes: int) -> bytes:
        bufs = [(self.alloc(s, 1), s) for s in sizes]
        iov, cnt = self.iovecs(*bufs)
        out = self.alloc(4)
        assert self.fd_read(fd, iov, cnt, out) == 0
        n = self.u32(out)
        data = b"".join(bytes(self.mem[p:p + s]) for p, s in bufs)
        return data[:n]


@pytest.fixture
def box(tmp_path):
    root = tmp_path / "box"
    root.mkdir()
    (tmp_path / "outside.txt").write_text("secret")
    return root


def preopened(path, guest="/data", mutable=True, size=PAGE, **streams) -> Guest:
    config = WasiConfig()
    config.preopen_dir(str(path), guest, mutable)
    for k, v in streams.items():
        setattr(config, k, v)
    return Guest(config, size)


# --- the import table ---------------------------------------------------------

def test_every_preview1_function_is_provided():
    assert len(SIGNATURES) == 46
    ctx = WasiCtx()
    fns = ctx.functions()
    assert set(fns) == set(SIGNATURES)
    for name, (params, results, fn) in fns.items():
        assert callable(fn)
        assert results == (() if name == "proc_exit" else (0x7F,))
        assert all(p in (0x7F, 0x7E) for p in params)
    assert fns["fd_seek"][0] == (0x7F, 0x7E, 0x7F, 0x7F)
    assert fns["path_open"][0] == (0x7F,) * 5 + (0x7E, 0x7E, 0x7F, 0x7F)


# --- errno mapping ------------------------------------------------------------

@pytest.mark.parametrize("host,wasi", [
    (errno.ENOENT, C.ENOENT), (errno.EEXIST, C.EEXIST), (errno.ENOTEMPTY, C.ENOTEMPTY),
    (errno.EACCES, C.EACCES), (errno.EPERM, C.EPERM), (errno.EISDIR, C.EISDIR),
    (errno.ENOTDIR, C.ENOTDIR), (errno.ELOOP, C.ELOOP), (errno.EBADF, C.EBADF),
    (errno.ESPIPE, C.ESPIPE), (errno.EAGAIN, C.EAGAIN), (errno.EXDEV, C.EXDEV),
    (errno.ENAMETOOLONG, C.ENAMETOOLONG), (errno.ENOSPC, C.ENOSPC), (errno.EROFS, 69),
])
def test_host_errno_maps_to_wasi(host, wasi):
    assert errno_from_host(host) == wasi


def test_unknown_host_errno_is_eio():
    assert errno_from_host(None) == C.EIO
    assert errno_from_host(100000) == C.EIO
    assert errno_name(C.ENOTCAPABLE) == "ENOTCAPABLE" and errno_name(0) == "ESUCCESS"


def test_oserror_in_a_call_becomes_its_errno(box):
    g = preopened(box)
    with pytest.raises(WasiErrno) as e:
        g.open(3, "missing.txt")
    assert e.value.errno == C.ENOENT
    g.open(3, "f", C.OFLAGS_CREAT)
    with pytest.raises(WasiErrno) as e:
        g.open(3, "f", C.OFLAGS_CREAT | C.OFLAGS_EXCL)
    assert e.value.errno == C.EEXIST


# --- args and environ -----------------------------------------------------------

def test_args_and_environ_layout():
    config = WasiConfig()
    config.argv = ["prog", "ä b", ""]
    config.env = {"A": "1", "EMPTY": ""}
    g = Guest(config)
    assert g.args_sizes_get(0, 4) == 0
    assert (g.u32(0), g.u32(4)) == (3, len("prog\0ä b\0\0".encode()))
    assert g.args_get(100, 200) == 0
    ptrs = [g.u32(100 + 4 * i) for i in range(3)]
    assert ptrs[0] == 200
    assert bytes(g.mem[200:200 + g.u32(4)]) == "prog\0ä b\0\0".encode()
    assert bytes(g.mem[ptrs[1]:ptrs[2]]) == "ä b\0".encode()
    assert g.environ_sizes_get(0, 4) == 0 and (g.u32(0), g.u32(4)) == (2, 11)
    assert g.environ_get(300, 400) == 0
    assert bytes(g.mem[400:411]) == b"A=1\0EMPTY=\0"
    assert (g.u32(300), g.u32(304)) == (400, 404)


def test_config_rejects_bad_values(tmp_path):
    config = WasiConfig()
    with pytest.raises(TypeError):
        config.argv = ["ok", 3]
    with pytest.raises(ValueError):
        config.env = [("A=B", "x")]
    with pytest.raises(WasmError, match="not a directory"):
        config.preopen_dir(str(tmp_path / "missing"), "/x")
    with pytest.raises(WasmError, match="does not exist"):
        config.stdin_file = str(tmp_path / "missing")
    with pytest.raises(WasmError, match="cannot be created"):
        config.stdout_file = str(tmp_path / "no" / "such" / "dir" / "out")
    config.argv = ["a\0b"]
    with pytest.raises(WasmError, match="NUL"):
        WasiCtx(config)


# --- fd table and iovecs --------------------------------------------------------

def test_fd_table_lowest_free_number_close_and_renumber(box):
    g = preopened(box)
    a = g.open(3, "a", C.OFLAGS_CREAT)
    b = g.open(3, "b", C.OFLAGS_CREAT)
    assert (a, b) == (4, 5)
    assert g.fd_close(a) == 0
    assert g.fd_close(a) == C.EBADF
    assert g.open(3, "c", C.OFLAGS_CREAT) == 4
    assert g.write(b, b"into b") == 6
    assert g.fd_renumber(b, 4) == 0          # 4 (c) is closed, b now answers as 4
    assert g.fd_write(5, *g.iovecs(g.put(b"x")), g.alloc(4)) == C.EBADF
    assert g.write(4, b"!") == 1
    assert (box / "b").read_bytes() == b"into b!"
    assert g.fd_renumber(4, 99) == C.EBADF
    assert g.fd_renumber(99, 4) == C.EBADF


def test_fd_write_gathers_iovecs_and_skips_empty_ones(box):
    got = []
    g = preopened(box, stdout_custom=got.append)
    assert g.write(1, b"ab", b"", b"cde") == 5
    assert got == [b"abcde"]
    f = g.open(3, "out", C.OFLAGS_CREAT)
    assert g.write(f, b"12", b"", b"345", b"6") == 6
    assert (box / "out").read_bytes() == b"123456"


def test_fd_read_scatters_into_iovecs(box):
    (box / "in").write_bytes(b"0123456789")
    g = preopened(box)
    f = g.open(3, "in")
    assert g.read(f, 3, 0, 4) == b"0123456"
    assert g.read(f, 100) == b"789"
    assert g.read(f, 100) == b""


def test_null_stdio_by_default():
    g = Guest()
    assert g.read(0, 10) == b""
    assert g.write(1, b"dropped") == 7
    assert g.write(2, b"dropped") == 7


def test_stdio_is_a_stream_not_seekable(tmp_path):
    config = WasiConfig()
    config.stdout_file = str(tmp_path / "out")
    g = Guest(config)
    assert g.fd_seek(1, 0, C.WHENCE_CUR, g.alloc(8)) == C.ESPIPE
    assert g.fd_tell(1, g.alloc(8)) == C.ESPIPE
    assert g.fd_sync(1) == C.EBADF and g.fd_filestat_set_size(1, 0) == C.EBADF
    assert g.path_create_directory(1, *g.put(b"d")) == C.EBADF
    st = g.alloc(64)
    assert g.fd_filestat_get(1, st) == 0 and g.mem[st + 16] == C.FILETYPE_UNKNOWN
    g.write(1, b"hi")
    g.ctx.close()
    assert (tmp_path / "out").read_bytes() == b"hi"


def test_seek_tell_pread_pwrite_and_signed_offsets(box):
    g = preopened(box)
    f = g.open(3, "s", C.OFLAGS_CREAT)
    g.write(f, b"abcdefgh")
    out = g.alloc(8)
    assert g.fd_seek(f, -3, C.WHENCE_END, out) == 0 and g.u64(out) == 5
    # the same offset as the unsigned i64 bit pattern a glue may pass
    assert g.fd_seek(f, (1 << 64) - 3, C.WHENCE_END, out) == 0 and g.u64(out) == 5
    assert g.fd_seek(f, -100, C.WHENCE_CUR, out) == C.EINVAL
    assert g.fd_seek(f, 0, 7, out) == C.EINVAL
    buf = g.alloc(4)
    assert g.fd_pread(f, *g.iovecs((buf, 4)), 2, out) == 0
    assert bytes(g.mem[buf:buf + 4]) == b"cdef"
    assert g.fd_tell(f, out) == 0 and g.u64(out) == 5
    assert g.fd_pwrite(f, *g.iovecs(g.put(b"XY")), 0, out) == 0
    assert (box / "s").read_bytes() == b"XYcdefgh"


# --- EFAULT ------------------------------------------------------------------------

WILD = PAGE - 2          # straddles the end of memory


@pytest.mark.parametrize("call", [
    lambda g: g.args_sizes_get(WILD, 0),
    lambda g: g.args_get(0, PAGE * 4),
    lambda g: g.environ_sizes_get(0, -1),            # signed i32 -1 = 0xFFFFFFFF
    lambda g: g.clock_time_get(1, 0, WILD),
    lambda g: g.clock_res_get(0, -8),
    lambda g: g.random_get(PAGE - 10, 11),
    lambda g: g.fd_write(1, WILD, 1, 0),
    lambda g: g.fd_write(1, *g.iovecs((PAGE - 4, 5)), 0),
    lambda g: g.fd_write(1, *g.iovecs((0, 1)), WILD),
    lambda g: g.fd_read(0, *g.iovecs((0xFFFFFFF0, 32)), 0),
    lambda g: g.fd_fdstat_get(1, WILD),
    lambda g: g.fd_filestat_get(3, WILD),
    lambda g: g.fd_prestat_get(3, WILD),
    lambda g: g.fd_prestat_dir_name(3, WILD, 10),
    lambda g: g.fd_readdir(3, WILD, 100, 0, 0),
    lambda g: g.path_open(3, 0, WILD, 10, 0, 0, 0, 0, 0),
    lambda g: g.path_open(3, 0, *g.put(b"x"), C.OFLAGS_CREAT, 0, 0, 0, WILD),
    lambda g: g.path_filestat_get(3, 0, *g.put(b"."), WILD),
    lambda g: g.path_readlink(3, *g.put(b"x"), WILD, 100, 0),
    lambda g: g.poll_oneoff(WILD, 0, 1, 0),
    lambda g: g.poll_oneoff(0, WILD, 1, 0),
])
def test_wild_pointers_are_efault(box, call):
    g = preopened(box)
    assert call(g) == C.EFAULT
    assert not (box / "x").exists()         # nothing half-done: no file created


def test_missing_memory_traps_clearly():
    fn = WasiCtx().functions()["fd_write"][2]
    with pytest.raises(Trap, match="export its memory"):
        fn(None, 1, 0, 0, 0)


# --- the sandbox ----------------------------------------------------------------------

def _make_links(box):
    (box / "sub").mkdir()
    (box / "sub" / "f").write_text("f")
    (box / "in").symlink_to("sub/f")
    (box / "out").symlink_to("../outside.txt")
    (box / "abs").symlink_to(str(box.parent / "outside.txt"))
    (box / "up").symlink_to("..")
    (box / "subup").symlink_to("sub/..")
    (box / "loop").symlink_to("loop")


@pytest.mark.parametrize("path,follow,expect", [
    ("sub/f", True, ("sub", "f")),
    ("sub/../sub/./f", True, ("sub", "f")),
    ("in", True, ("sub", "f")),
    ("in", False, ("", "in")),               # the link itself
    ("subup/sub/f", True, ("sub", "f")),      # a link whose target walks back inside
    ("sub/", False, ("", "sub")),
    (".", False, ("", ".")),
    ("sub/..", False, ("", ".")),
    ("missing", True, ("", "missing")),       # may be about to be created
    ("..", True, C.EPERM),
    ("../box/sub/f", True, C.EPERM),
    ("sub/../../x", True, C.EPERM),
    ("/etc/passwd", True, C.EPERM),
    ("out", True, C.EPERM),
    ("abs", True, C.EPERM),
    ("up/outside.txt", False, C.EPERM),       # intermediate links are always followed
    ("loop", True, C.ELOOP),
    ("", True, C.ENOENT),
    ("missing/x", True, C.ENOENT),
    ("sub/f/x", True, C.ENOTDIR),
])
def test_resolve(box, path, follow, expect):
    _make_links(box)
    base = os.open(box, os.O_RDONLY | os.O_DIRECTORY)
    try:
        if isinstance(expect, int):
            # refusals are WasiErrno; host errors pass as OSError (the call
            # wrapper maps both)
            with pytest.raises((WasiErrno, OSError)) as e:
                resolve(base, path, follow)
            got = e.value.errno if isinstance(e.value, WasiErrno) else errno_from_host(e.value.errno)
            assert got == expect
        else:
            with resolve(base, path, follow) as where:
                parent = os.readlink(f"/proc/self/fd/{where.dir_fd}") if os.path.exists("/proc/self/fd") else None
                if parent is not None:
                    assert os.path.relpath(parent, box).replace(".", "") == expect[0].replace(".", "")
                assert where.name == expect[1]
    finally:
        os.close(base)


def test_resolve_closes_what_it_opens(box):
    _make_links(box)
    (box / "sub" / "deeper").mkdir()
    base = os.open(box, os.O_RDONLY | os.O_DIRECTORY)
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        with resolve(base, "sub/deeper/x", True):
            pass
        with pytest.raises(WasiErrno):
            resolve(base, "sub/deeper/../../../x", True)
    assert len(os.listdir("/proc/self/fd")) == before
    os.close(base)


def test_symlink_with_absolute_target_is_refused(box):
    g = preopened(box)
    target = g.put(b"/etc/passwd")
    assert g.path_symlink(*target, 3, *g.put(b"l")) == C.EPERM
    assert g.path_symlink(*g.put(b"../x"), 3, *g.put(b"l")) == 0   # creating is fine, following is not
    with pytest.raises(WasiErrno) as e:
        g.open(3, "l", C.OFLAGS_CREAT)
    assert e.value.errno == C.EPERM
    assert not (box.parent / "x").exists()


def test_read_only_preopen(box):
    (box / "r").write_text("r")
    g = preopened(box, mutable=False)
    assert g.read(g.open(3, "r", rights=C.RIGHT_FD_READ), 5) == b"r"
    for attempt in (lambda: g.open(3, "new", C.OFLAGS_CREAT),
                    lambda: g.open(3, "r", rights=C.RIGHT_FD_WRITE)):
        with pytest.raises(WasiErrno) as e:
            attempt()
        assert e.value.errno == C.EPERM
    assert g.path_create_directory(3, *g.put(b"d")) == C.EPERM
    assert g.path_unlink_file(3, *g.put(b"r")) == C.EPERM
    assert sorted(os.listdir(box)) == ["r"]


def test_invalid_utf8_path_is_eilseq(box):
    g = preopened(box)
    assert g.path_create_directory(3, *g.put(b"\xff\xfe")) == C.EILSEQ
    assert g.path_create_directory(3, *g.put(b"a\0b")) == C.EILSEQ


# --- readdir -----------------------------------------------------------------------------

def _parse_dirents(data: bytes):
    out, at = [], 0
    while at + 24 <= len(data):
        d_next, ino, namlen, dtype = struct.unpack_from("<QQIB", data, at)
        name = data[at + 24:at + 24 + namlen]
        if len(name) < namlen:
            break                               # cut at the end of the buffer
        out.append((d_next, name.decode(), dtype))
        at += 24 + namlen
    return out


def test_readdir_encoding_and_cookies(box):
    (box / "file").write_text("x")
    (box / "dir").mkdir()
    (box / "link").symlink_to("file")
    names = [f"n{i:03d}" for i in range(40)]
    for n in names:
        (box / n).write_bytes(b"")
    g = preopened(box, size=4 * PAGE)
    buf, used = g.alloc(64 * 1024), g.alloc(4)
    assert g.fd_readdir(3, buf, 64 * 1024, 0, used) == 0
    everything = _parse_dirents(bytes(g.mem[buf:buf + g.u32(used)]))
    assert [e[0] for e in everything] == list(range(1, len(everything) + 1))
    by_name = {name: dtype for _, name, dtype in everything}
    assert by_name["."] == by_name[".."] == by_name["dir"] == C.FILETYPE_DIRECTORY
    assert by_name["file"] == C.FILETYPE_REGULAR_FILE
    assert by_name["link"] == C.FILETYPE_SYMBOLIC_LINK
    assert sorted(by_name) == sorted([".", "..", "file", "dir", "link", *names])

    # A small buffer: read entry by entry from the cookies, as wasi-libc does.
    small, cookie, seen = 100, 0, []
    while True:
        assert g.fd_readdir(3, buf, small, cookie, used) == 0
        n = g.u32(used)
        entries = _parse_dirents(bytes(g.mem[buf:buf + n]))
        if not entries:
            assert n < small           # a full buffer would mean more to come
            break
        seen.extend(entries)
        cookie = entries[-1][0]
        if n < small:
            break
    assert seen == everything


def test_readdir_on_a_file_is_ebadf(box):
    (box / "f").write_text("x")
    g = preopened(box)
    assert g.fd_readdir(g.open(3, "f"), g.alloc(100), 100, 0, g.alloc(4)) == C.EBADF


# --- clocks, random, poll ---------------------------------------------------------------

def test_clocks():
    g = Guest()
    out = g.alloc(8)
    for clock in range(4):
        assert g.clock_res_get(clock, out) == 0 and 0 < g.u64(out) <= 10**9
        assert g.clock_time_get(clock, 1, out) == 0
    assert g.clock_time_get(0, 1, out) == 0
    assert abs(g.u64(out) - time.time_ns()) < 10**9
    assert g.clock_time_get(4, 1, out) == C.EINVAL
    assert g.clock_res_get(-1, out) == C.EINVAL


def test_random_get():
    g = Guest()
    a, b = g.alloc(64), g.alloc(64)
    assert g.random_get(a, 64) == 0 and g.random_get(b, 64) == 0
    assert g.mem[a:a + 64] != g.mem[b:b + 64]
    assert g.random_get(a, 0) == 0


def _subscribe_clock(g, userdata, timeout_ns, absolute=False, clock=C.CLOCK_MONOTONIC):
    at = g.alloc(48)
    struct.pack_into("<QB", g.mem, at, userdata, C.EVENTTYPE_CLOCK)
    struct.pack_into("<IxxxxQQH", g.mem, at + 16, clock, timeout_ns, 0, int(absolute))
    return at


def _events(g, out, n):
    return [struct.unpack_from("<QHB", g.mem, out + 32 * i) for i in range(n)]


def test_poll_oneoff_clock_sleeps():
    g = Guest()
    subs = _subscribe_clock(g, 7, 30_000_000)
    out, nout = g.alloc(32), g.alloc(4)
    t0 = time.monotonic()
    assert g.poll_oneoff(subs, out, 1, nout) == 0
    assert time.monotonic() - t0 >= 0.029
    assert g.u32(nout) == 1 and _events(g, out, 1) == [(7, 0, C.EVENTTYPE_CLOCK)]


def test_poll_oneoff_absolute_time_in_the_past_returns_at_once():
    g = Guest()
    subs = _subscribe_clock(g, 9, 1, absolute=True, clock=C.CLOCK_REALTIME)
    out, nout = g.alloc(32), g.alloc(4)
    t0 = time.monotonic()
    assert g.poll_oneoff(subs, out, 1, nout) == 0
    assert time.monotonic() - t0 < 0.5 and g.u32(nout) == 1


def test_poll_oneoff_file_ready_before_clock(box):
    (box / "f").write_bytes(b"12345")
    g = preopened(box)
    f = g.open(3, "f")
    subs = g.alloc(96)
    g.top = subs
    _subscribe_clock(g, 1, 5 * 10**9)
    fdsub = g.alloc(48)
    struct.pack_into("<QB", g.mem, fdsub, 2, C.EVENTTYPE_FD_READ)
    struct.pack_into("<I", g.mem, fdsub + 16, f)
    out, nout = g.alloc(64), g.alloc(4)
    t0 = time.monotonic()
    assert g.poll_oneoff(subs, out, 2, nout) == 0
    assert time.monotonic() - t0 < 1
    assert g.u32(nout) == 1
    userdata, err, etype = _events(g, out, 1)[0]
    assert (userdata, err, etype) == (2, 0, C.EVENTTYPE_FD_READ)
    assert struct.unpack_from("<Q", g.mem, out + 16)[0] == 5     # bytes available


def test_poll_oneoff_errors(box):
    g = preopened(box)
    out, nout = g.alloc(64), g.alloc(4)
    assert g.poll_oneoff(g.alloc(48), out, 0, nout) == C.EINVAL
    bad = _subscribe_clock(g, 1, 0, clock=9)
    assert g.poll_oneoff(bad, out, 1, nout) == C.EINVAL
    fdsub = g.alloc(48)
    struct.pack_into("<QB", g.mem, fdsub, 2, C.EVENTTYPE_FD_READ)
    struct.pack_into("<I", g.mem, fdsub + 16, 55)
    assert g.poll_oneoff(fdsub, out, 1, nout) == C.EBADF


# --- process, sockets, misc -------------------------------------------------------------------

@pytest.mark.parametrize("code", [0, 3, 125])
def test_proc_exit(code):
    g = Guest()
    with pytest.raises(ExitTrap) as e:
        g.proc_exit(code)
    assert e.value.code == code


@pytest.mark.parametrize("code", [126, 255, 300, -1])
def test_proc_exit_status_out_of_range_traps(code):
    with pytest.raises(Trap, match=r"invalid exit status outside of \[0..126\)"):
        Guest().proc_exit(code)


def test_proc_raise_sched_yield_and_sockets():
    g = Guest()
    assert g.proc_raise(9) == C.ENOSYS
    assert g.sched_yield() == 0
    assert g.sock_accept(1, 0, g.alloc(4)) == C.ENOTSOCK
    assert g.sock_recv(0, 0, 0, 0, 0, 0) == C.ENOTSOCK
    assert g.sock_send(1, 0, 0, 0, 0) == C.ENOTSOCK
    assert g.sock_shutdown(1, 3) == C.ENOTSOCK
    assert g.sock_shutdown(40, 3) == C.EBADF


def test_prestat(box):
    g = preopened(box, guest="/some/guest")
    out = g.alloc(8)
    assert g.fd_prestat_get(3, out) == 0
    assert struct.unpack_from("<BxxxI", g.mem, out) == (0, len("/some/guest"))
    name = g.alloc(32)
    assert g.fd_prestat_dir_name(3, name, 11) == 0
    assert bytes(g.mem[name:name + 11]) == b"/some/guest"
    assert g.fd_prestat_dir_name(3, name, 5) == C.ENAMETOOLONG
    assert g.fd_prestat_get(1, out) == C.EBADF
    assert g.fd_prestat_get(4, out) == C.EBADF


def test_dropped_rights_are_enforced(box):
    g = preopened(box)
    f = g.open(3, "f", C.OFLAGS_CREAT)
    assert g.fd_fdstat_set_rights(f, C.RIGHT_FD_READ, 0) == 0
    assert g.fd_write(f, *g.iovecs(g.put(b"x")), g.alloc(4)) == C.ENOTCAPABLE
    assert g.fd_fdstat_set_rights(f, C.RIGHT_FD_READ | C.RIGHT_FD_WRITE, 0) == C.ENOTCAPABLE
    st = g.alloc(24)
    assert g.fd_fdstat_get(f, st) == 0
    assert struct.unpack_from("<BxHxxxxQQ", g.mem, st) == (C.FILETYPE_REGULAR_FILE, 0, C.RIGHT_FD_READ, 0)


def test_filestat_and_times(box):
    (box / "f").write_bytes(b"12345")
    g = preopened(box)
    st = g.alloc(64)
    assert g.path_filestat_get(3, 0, *g.put(b"f"), st) == 0
    dev, ino, ftype, nlink, size = struct.unpack_from("<QQBxxxxxxxQQ", g.mem, st)
    host = os.stat(box / "f")
    assert (ino, ftype, nlink, size) == (host.st_ino, C.FILETYPE_REGULAR_FILE, 1, 5)
    flags = C.FSTFLAGS_ATIM | C.FSTFLAGS_MTIM
    assert g.path_filestat_set_times(3, 0, *g.put(b"f"), 10**9, 2 * 10**9, flags) == 0
    assert os.stat(box / "f").st_mtime_ns == 2 * 10**9
    assert g.path_filestat_set_times(3, 0, *g.put(b"f"), 0, 0, C.FSTFLAGS_MTIM | C.FSTFLAGS_MTIM_NOW) == C.EINVAL
    f = g.open(3, "f")
    assert g.fd_filestat_set_times(f, 0, 5 * 10**9, C.FSTFLAGS_MTIM) == 0
    assert os.stat(box / "f").st_mtime_ns == 5 * 10**9
    assert os.stat(box / "f").st_atime_ns == 10**9          # untouched


def test_fd_allocate_and_set_size(box):
    g = preopened(box)
    f = g.open(3, "f", C.OFLAGS_CREAT)
    assert g.fd_allocate(f, 0, 4096) == 0
    assert os.path.getsize(box / "f") == 4096
    assert g.fd_filestat_set_size(f, 10) == 0
    assert os.path.getsize(box / "f") == 10
    assert g.fd_allocate(3, 0, 10) == C.EBADF


def test_signatures_match_wasmtime():
    """A module importing all 46 functions with pywinch's signatures links
    against Wasmtime's preview1 (any mismatch fails instantiation)."""
    wasmtime = pytest.importorskip("wasmtime")
    names = {0x7F: "i32", 0x7E: "i64"}
    imports = []
    for name, (params, results) in SIGNATURES.items():
        p = " ".join(names[t] for t in params)
        r = " ".join(names[t] for t in results)
        imports.append(f'(import "wasi_snapshot_preview1" "{name}" (func (param {p}) (result {r})))')
    wat = "(module " + " ".join(imports) + ' (memory (export "memory") 1))'
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    store.set_wasi(wasmtime.WasiConfig())
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    linker.instantiate(store, wasmtime.Module(engine, wat))


def test_resolve_is_linear_in_path_length(box):
    # A hostile guest may pass a path of many components: the walk must stay
    # linear (a quadratic scan of what remains would hang here).
    (box / "sub").mkdir()
    base = os.open(box, os.O_RDONLY | os.O_DIRECTORY)
    try:
        t0 = time.monotonic()
        with resolve(base, "./" * 300_000 + "sub/" + "./" * 300_000, True) as where:
            assert where.name == "sub"
        assert time.monotonic() - t0 < 3
    finally:
        os.close(base)


def test_poll_oneoff_pipe_readiness_and_hangup():
    config = WasiConfig()
    config.inherit_stdin()
    r, w = os.pipe()
    saved = os.dup(0)
    os.dup2(r, 0)
    try:
        g = Guest(config)
        sub = g.alloc(48)
        struct.pack_into("<QB", g.mem, sub, 5, C.EVENTTYPE_FD_READ)
        struct.pack_into("<I", g.mem, sub + 16, 0)
        clock = _subscribe_clock(g, 6, 50_000_000)
        subs = g.alloc(96)
        g.mem[subs:subs + 48] = g.mem[sub:sub + 48]
        g.mem[subs + 48:subs + 96] = g.mem[clock:clock + 48]
        out, nout = g.alloc(64), g.alloc(4)
        # nothing to read yet: the 50 ms clock fires
        assert g.poll_oneoff(subs, out, 2, nout) == 0
        assert g.u32(nout) == 1 and _events(g, out, 1)[0][0] == 6
        os.write(w, b"abc")
        assert g.poll_oneoff(subs, out, 2, nout) == 0
        assert g.u32(nout) == 1 and _events(g, out, 1)[0] == (5, 0, C.EVENTTYPE_FD_READ)
        assert struct.unpack_from("<QH", g.mem, out + 16) == (3, 0)
        assert g.read(0, 10) == b"abc"
        os.close(w)
        assert g.poll_oneoff(subs, out, 2, nout) == 0
        assert struct.unpack_from("<QH", g.mem, out + 16) == (0, C.EVENTRWFLAGS_HANGUP)
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        os.close(r)


def test_nonblocking_inherited_stdin_is_emulated_without_touching_host_flags():
    config = WasiConfig()
    config.inherit_stdin()
    r, w = os.pipe()
    saved = os.dup(0)
    os.dup2(r, 0)
    try:
        g = Guest(config)
        assert g.fd_fdstat_set_flags(0, C.FDFLAGS_NONBLOCK) == 0
        assert os.get_blocking(0)                      # the host's fd is unchanged
        st = g.alloc(24)
        assert g.fd_fdstat_get(0, st) == 0 and struct.unpack_from("<BxH", g.mem, st)[1] == C.FDFLAGS_NONBLOCK
        buf, out = g.alloc(16), g.alloc(4)
        assert g.fd_read(0, *g.iovecs((buf, 16)), out) == C.EAGAIN
        os.write(w, b"now")
        assert g.read(0, 16) == b"now"
        assert g.fd_fdstat_set_flags(0, 0) == 0
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        os.close(r)
        os.close(w)


def test_nonblocking_owned_file_sets_host_flags(box):
    g = preopened(box)
    f = g.open(3, "f", C.OFLAGS_CREAT)
    host_fd = g.ctx.fds.entries[f].host_fd
    assert g.fd_fdstat_set_flags(f, C.FDFLAGS_NONBLOCK | C.FDFLAGS_APPEND) == 0
    assert not os.get_blocking(host_fd)
    import fcntl
    assert fcntl.fcntl(host_fd, fcntl.F_GETFL) & os.O_APPEND
    assert g.fd_fdstat_set_flags(f, C.FDFLAGS_SYNC) == C.ENOTSUP
