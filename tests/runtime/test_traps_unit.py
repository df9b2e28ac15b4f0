"""The backtrace walker on hand-built frame chains, and trap/exception raising."""

import ctypes

import pytest

from pywinch.errors import Trap, TrapCode
from pywinch.runtime import sysmem, traps
from pywinch.runtime.store import EngineState, StoreState


@pytest.fixture
def region():
    start = 0x7000_0000_0000
    seen = []

    def resolve(off):
        seen.append(off)
        if off >= 0x100:                     # the tail of the region is "not a function"
            return None
        return traps.Frame(off // 0x10, f"f{off // 0x10}", "m", off, 0)

    traps.register_code(start, start + 0x200, resolve)
    yield start
    traps.unregister_code(start)


def chain(links):
    """A fake stack: frame k at buf+32k holds [saved rbp, return address]."""
    buf = sysmem.Buffer(32 * (len(links) + 1))
    for k, ret in enumerate(links):
        nxt = buf.addr + 32 * (k + 1) if k + 1 < len(links) else 0
        buf.set_u64(32 * k, nxt)
        buf.set_u64(32 * k + 8, ret)
    return buf


def test_walks_wasm_frames_and_stops_at_the_host(region):
    buf = chain([region + 0x25, region + 0x37, region + 0x150, region + 0x11])
    frames = traps.backtrace(region + 0x12, buf.addr)
    assert [f.func_name for f in frames] == ["f1", "f2", "f3"]   # stops at the trampoline pc


def test_outside_any_region_gives_no_frames(region):
    buf = chain([region + 0x25])
    assert traps.backtrace(0x1000, buf.addr) == []
    assert traps.lookup_pc(region + 0x300) is None


def test_walk_refuses_a_chain_that_does_not_climb(region):
    buf = sysmem.Buffer(16)
    buf.set_u64(0, buf.addr)          # rbp pointing at itself
    buf.set_u64(8, region + 0x10)
    frames = traps.backtrace(region + 0x10, buf.addr)
    assert len(frames) == 1


def test_raise_trap_and_pending_exception():
    st = StoreState(EngineState())
    st.lq[7] = TrapCode.UNREACHABLE
    with pytest.raises(Trap) as e:
        traps.raise_trap(st)
    assert e.value.code == TrapCode.UNREACHABLE and e.value.frames == []
    assert st.lq[7] == 0
    st.set_pending(LookupError("host"))
    st.lq[7] = TrapCode.HOST_EXCEPTION
    with pytest.raises(LookupError):
        traps.raise_trap(st)
    assert st.pending is None and st.lq[10] == 0
