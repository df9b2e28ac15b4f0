"""``poll_oneoff``: waiting on clocks and on descriptor readiness.

Clock subscriptions become one timeout; descriptor subscriptions go to
``select``. Regular files and directories are always ready (as for POSIX
poll), and so are Python-side streams, so only pipes, terminals and sockets
are actually waited on. As in Wasmtime, when descriptors become ready only
their events are reported; clock events are reported when the time has come
and no descriptor was ready first.
"""

from __future__ import annotations

import os
import select
import struct
import time

from . import constants as C
from .guest import U32, WasiErrno, check, u32_set

_sub_head = struct.Struct("<QB")          # userdata, tag
_sub_clock = struct.Struct("<IxxxxQQH")   # at +16: id, timeout, precision, flags
_sub_fd = struct.Struct("<I")             # at +16: fd
_event = struct.Struct("<QHBxxxxxQHxxxxxx")


def _readable_bytes(host_fd: int, filetype: int) -> int:
    if filetype == C.FILETYPE_REGULAR_FILE:
        try:
            return max(0, os.fstat(host_fd).st_size - os.lseek(host_fd, 0, os.SEEK_CUR))
        except OSError:
            return 0
    try:
        import fcntl
        import termios
        buf = fcntl.ioctl(host_fd, termios.FIONREAD, b"\0\0\0\0")
        return struct.unpack("i", buf)[0]
    except (ImportError, OSError, AttributeError):
        return 0


class PollOps:
    def poll_oneoff(self, mem, in_ptr, out_ptr, nsubscriptions, nevents_ptr):
        n = nsubscriptions & U32
        if n == 0:
            raise WasiErrno(C.EINVAL)
        base_in = check(mem, in_ptr, n * C.SIZE_SUBSCRIPTION)
        base_out = check(mem, out_ptr, n * C.SIZE_EVENT)
        check(mem, nevents_ptr, 4)

        now = time.monotonic_ns()
        clocks = []        # (deadline in monotonic ns, userdata)
        waits = []         # (userdata, type, entry)
        for i in range(n):
            at = base_in + i * C.SIZE_SUBSCRIPTION
            userdata, tag = _sub_head.unpack_from(mem, at)
            if tag == C.EVENTTYPE_CLOCK:
                clock_id, timeout, _precision, flags = _sub_clock.unpack_from(mem, at + 16)
                if clock_id > C.CLOCK_THREAD_CPUTIME or flags & ~C.SUBCLOCKFLAGS_ABSTIME:
                    raise WasiErrno(C.EINVAL)
                if flags & C.SUBCLOCKFLAGS_ABSTIME:
                    # An absolute time on any clock: wait for the remaining span of it.
                    remaining = timeout - self._clock_now(clock_id)
                    deadline = now + max(0, remaining)
                else:
                    deadline = now + timeout
                clocks.append((deadline, userdata))
            elif tag == C.EVENTTYPE_FD_READ or tag == C.EVENTTYPE_FD_WRITE:
                (fd,) = _sub_fd.unpack_from(mem, at + 16)
                # Wasmtime fails the whole call for a bad descriptor.
                entry = self.fds.get(fd, C.RIGHT_POLL_FD_READWRITE)
                waits.append((userdata, tag, entry))
            else:
                raise WasiErrno(C.EINVAL)

        events = []
        if waits:
            events = self._ready(waits, 0.0)
            if not events:
                timeout = None
                if clocks:
                    timeout = max(0, min(d for d, _ in clocks) - time.monotonic_ns()) / 1e9
                events = self._ready(waits, timeout)
        elif clocks:
            delay = min(d for d, _ in clocks) - time.monotonic_ns()
            if delay > 0:
                time.sleep(delay / 1e9)
        if not events:
            now = time.monotonic_ns()
            events = [(userdata, 0, C.EVENTTYPE_CLOCK, 0, 0)
                      for deadline, userdata in clocks if deadline <= now]
        for k, (userdata, error, etype, nbytes, flags) in enumerate(events):
            _event.pack_into(mem, base_out + k * C.SIZE_EVENT, userdata, error, etype, nbytes, flags)
        u32_set(mem, nevents_ptr, len(events))
        return 0

    @staticmethod
    def _ready(waits, timeout):
        """Events of the descriptors ready within ``timeout`` seconds (None: no limit)."""
        events = []
        readers, writers = [], []
        for userdata, tag, entry in waits:
            host_fd = entry.host_fd
            if host_fd is None or entry.filetype in (C.FILETYPE_REGULAR_FILE, C.FILETYPE_DIRECTORY):
                nbytes = 0
                if tag == C.EVENTTYPE_FD_READ and host_fd is not None:
                    nbytes = _readable_bytes(host_fd, entry.filetype)
                events.append((userdata, 0, tag, nbytes, 0))
            elif tag == C.EVENTTYPE_FD_READ:
                readers.append(host_fd)
            else:
                writers.append(host_fd)
        if events or not (readers or writers):
            if not events and timeout:
                time.sleep(timeout)
            return events
        r, w, _ = select.select(readers, writers, [], timeout)
        r, w = set(r), set(w)
        for userdata, tag, entry in waits:
            if tag == C.EVENTTYPE_FD_READ and entry.host_fd in r:
                events.append((userdata, 0, tag, _readable_bytes(entry.host_fd, entry.filetype), 0))
            elif tag == C.EVENTTYPE_FD_WRITE and entry.host_fd in w:
                events.append((userdata, 0, tag, 0, 0))
        return events
