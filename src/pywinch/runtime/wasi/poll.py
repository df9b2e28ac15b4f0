"""``poll_oneoff``: waiting on clocks and on descriptor readiness.

Clock subscriptions become one timeout; descriptor subscriptions go to
``poll(2)``. Regular files and directories are always ready (as for POSIX
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
_SLICE = 3600.0           # longest single wait, in seconds
_POLLIN = getattr(select, "POLLIN", 1)
_POLLOUT = getattr(select, "POLLOUT", 4)


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
        first = min(d for d, _ in clocks) if clocks else None
        if waits:
            events = self._ready(waits, 0.0)
            # Wait in slices: a guest may ask for centuries, which neither
            # select nor sleep accept in one go.
            while not events:
                if first is None:
                    events = self._ready(waits, _SLICE)
                    continue
                remaining = first - time.monotonic_ns()
                if remaining <= 0:
                    break
                events = self._ready(waits, min(remaining / 1e9, _SLICE))
        elif first is not None:
            while True:
                remaining = first - time.monotonic_ns()
                if remaining <= 0:
                    break
                time.sleep(min(remaining / 1e9, _SLICE))
        if not events:
            now = time.monotonic_ns()
            events = [(userdata, 0, C.EVENTTYPE_CLOCK, 0, 0)
                      for deadline, userdata in clocks if deadline <= now]
        for k, (userdata, error, etype, nbytes, flags) in enumerate(events):
            _event.pack_into(mem, base_out + k * C.SIZE_EVENT, userdata, error, etype, nbytes, flags)
        u32_set(mem, nevents_ptr, len(events))
        return 0

    @staticmethod
    def _ready(waits, timeout: float):
        """Events of the descriptors ready within ``timeout`` seconds."""
        events = []
        masks: dict[int, int] = {}
        for userdata, tag, entry in waits:
            host_fd = entry.host_fd
            if host_fd is None or entry.filetype in (C.FILETYPE_REGULAR_FILE, C.FILETYPE_DIRECTORY):
                nbytes = 0
                if tag == C.EVENTTYPE_FD_READ and host_fd is not None:
                    nbytes = _readable_bytes(host_fd, entry.filetype)
                events.append((userdata, 0, tag, nbytes, 0))
            else:
                masks[host_fd] = masks.get(host_fd, 0) | (_POLLIN if tag == C.EVENTTYPE_FD_READ
                                                          else _POLLOUT)
        if events:
            return events
        # poll(2), not select: host descriptors may be numbered past FD_SETSIZE.
        poller = select.poll()
        for host_fd, mask in masks.items():
            poller.register(host_fd, mask)
        ready = dict(poller.poll(max(0, round(timeout * 1000))))
        for userdata, tag, entry in waits:
            got = ready.get(entry.host_fd, 0)
            if not got:
                continue
            hangup = C.EVENTRWFLAGS_HANGUP if got & (select.POLLHUP | select.POLLERR) else 0
            if tag == C.EVENTTYPE_FD_READ and got & (_POLLIN | select.POLLHUP | select.POLLERR):
                nbytes = _readable_bytes(entry.host_fd, entry.filetype)
                events.append((userdata, 0, tag, nbytes, hangup))
            elif tag == C.EVENTTYPE_FD_WRITE and got & (_POLLOUT | select.POLLHUP | select.POLLERR):
                events.append((userdata, 0, tag, 0, hangup))
        return events
