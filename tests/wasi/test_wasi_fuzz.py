"""Hostile arguments: every WASI function called with random and edge-case
ints on a small memory holding a few paths. Each call must end in an errno
(or, for proc_exit, an ExitTrap/Trap) and nothing outside the preopen may
change, whatever the arguments."""

from __future__ import annotations

import os
import pathlib
import tempfile

from hypothesis import HealthCheck, given, settings, strategies as st

from pywinch.errors import ExitTrap, Trap
from pywinch.runtime.wasi import SIGNATURES, WasiConfig, WasiCtx

MEM = 4096
PATHS = [b"a", b"sub", b"sub/", b"../x", b"/etc/passwd", b".", b"..", b"link", b"sub/../a", b"\xff", b""]
# poll_oneoff may wait as long as a random timeout says: it has its own tests.
SKIP = {"poll_oneoff"}


def _layout() -> tuple[bytearray, list[int]]:
    mem = bytearray(MEM)
    offsets, at = [], 512
    for p in PATHS:
        mem[at:at + len(p)] = p
        offsets.append(at)
        at += len(p) + 8
    return mem, offsets


_MEM, _OFFSETS = _layout()
_INTS = st.one_of(
    st.sampled_from([0, 1, 2, 3, 4, 5, 8, 64, MEM - 8, MEM - 1, MEM, MEM + 1, 0x7FFFFFFF, 0xFFFFFFFF, -1, -8]),
    st.sampled_from(_OFFSETS),
    st.integers(-(1 << 63), (1 << 64) - 1),
    st.integers(0, MEM),
)
_CALLS = st.lists(st.tuples(st.sampled_from(sorted(set(SIGNATURES) - SKIP)),
                            st.lists(_INTS, min_size=9, max_size=9)), min_size=1, max_size=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls=_CALLS)
def test_random_calls_end_in_errnos_and_stay_in_the_sandbox(calls):
    with tempfile.TemporaryDirectory() as top:
        top = pathlib.Path(top)
        box = top / "box"
        (box / "sub").mkdir(parents=True)
        (box / "a").write_text("a")
        (box / "link").symlink_to("../x")
        (top / "x").write_text("outside")
        config = WasiConfig()
        config.preopen_dir(str(box), "/data")
        with WasiCtx(config) as ctx:
            fns = ctx.functions()
            mem = bytearray(_MEM)
            for name, args in calls:
                params, _, fn = fns[name]
                try:
                    result = fn(mem, *args[:len(params)])
                except ExitTrap:
                    assert name == "proc_exit"
                    continue
                except Trap:
                    assert name == "proc_exit"
                    continue
                assert isinstance(result, int) and 0 <= result <= 76, (name, args, result)
        assert sorted(os.listdir(top)) == ["box", "x"]
        assert (top / "x").read_text() == "outside"


_SUB = st.tuples(st.integers(0, (1 << 64) - 1), st.integers(0, 255), st.integers(0, 8),
                 st.integers(0, 1_000_000), st.integers(0, 3), st.integers(0, 10))


@settings(max_examples=200, deadline=None)
@given(subs=st.lists(_SUB, min_size=1, max_size=4),
       in_ptr=st.sampled_from([0, 64, MEM - 48, MEM, 0xFFFFFFFF]),
       out_ptr=st.sampled_from([2048, MEM - 32, MEM, -1]),
       count=st.integers(0, 6))
def test_poll_oneoff_random_subscriptions(subs, in_ptr, out_ptr, count):
    import struct
    mem = bytearray(MEM)
    for i, (userdata, tag, clock, timeout, flags, fd) in enumerate(subs):
        at = 64 + 48 * i
        struct.pack_into("<QB", mem, at, userdata, tag)
        if tag == 0:
            struct.pack_into("<IxxxxQQH", mem, at + 16, clock, timeout, 0, flags)
        else:
            struct.pack_into("<I", mem, at + 16, fd)
    with WasiCtx(WasiConfig()) as ctx:
        result = ctx.functions()["poll_oneoff"][2](mem, in_ptr, out_ptr, count, 4000)
    assert isinstance(result, int) and 0 <= result <= 76
