"""x86-64 CPU feature detection.

The features are read once with ``cpuid`` (and ``xgetbv`` for the OS side of
AVX) through a tiny function that pywinch's own assembler emits into
executable memory and ctypes calls.  The compiler asks :func:`has` before
emitting popcnt, lzcnt, tzcnt or SSE4.1 rounding and falls back otherwise.

``PYWINCH_CPU_FEATURES`` masks features for testing the fallbacks, e.g.
``PYWINCH_CPU_FEATURES=-popcnt,-lzcnt`` (``-all`` removes every optional
feature, leaving the x86-64 baseline SSE2).  Features can only be removed:
code using a feature the CPU lacks would fault.  :func:`masked` does the same
inside a ``with`` block.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform

from ...errors import WasmError

SSE2 = "sse2"
SSE3 = "sse3"
SSSE3 = "ssse3"
SSE41 = "sse4.1"
SSE42 = "sse4.2"
POPCNT = "popcnt"
LZCNT = "lzcnt"      # cpuid 0x80000001 ecx bit 5 (ABM)
BMI1 = "bmi1"        # tzcnt
BMI2 = "bmi2"
AVX = "avx"
AVX2 = "avx2"

ALL = (SSE2, SSE3, SSSE3, SSE41, SSE42, POPCNT, LZCNT, BMI1, BMI2, AVX, AVX2)
_ALIASES = {"abm": LZCNT, "tzcnt": BMI1, "sse41": SSE41, "sse42": SSE42, "sse4_1": SSE41, "sse4_2": SSE42}

ENV_VAR = "PYWINCH_CPU_FEATURES"

_cached: frozenset[str] | None = None
_cpuid_fn = None


def _canonical(name: str) -> str:
    n = name.strip().lower()
    n = _ALIASES.get(n, n)
    if n not in ALL:
        raise WasmError(f"{ENV_VAR}: unknown CPU feature {name!r} (known: {', '.join(ALL)})")
    return n


def _build_probe():
    """Emit ``void cpuid(u32 leaf, u32 sub, u32 out[4])`` and ``u64 xgetbv(u32 xcr)``."""
    from ...runtime.code import CodeMemory
    from .asm import OR, SHL, Assembler
    from .regs import RAX, RBX, RCX, RDX, RDI, RSI, R8

    a = Assembler()
    # cpuid(rdi=leaf, rsi=subleaf, rdx=out): rbx is callee-saved and cpuid writes it.
    a.push_r(RBX)
    a.mov_rr(8, R8, RDX)
    a.mov_rr(4, RAX, RDI)
    a.mov_rr(4, RCX, RSI)
    a.cpuid()
    a.store(4, RAX, R8, 0)
    a.store(4, RBX, R8, 4)
    a.store(4, RCX, R8, 8)
    a.store(4, RDX, R8, 12)
    a.pop_r(RBX)
    a.ret()
    a.align(16)
    xgetbv_at = a.pos
    a.mov_rr(4, RCX, RDI)
    a.xgetbv()
    a.shift_ri(SHL, 8, RDX, 32)
    a.alu_rr(OR, 8, RAX, RDX)
    a.ret()
    mem = CodeMemory(a.finalize())
    cpuid = mem.func(0, None, ctypes.c_uint32, ctypes.c_uint32, ctypes.POINTER(ctypes.c_uint32))
    xgetbv = mem.func(xgetbv_at, ctypes.c_uint64, ctypes.c_uint32)
    return cpuid, xgetbv


def cpuid(leaf: int, subleaf: int = 0) -> tuple[int, int, int, int]:
    """Raw ``cpuid``: (eax, ebx, ecx, edx)."""
    global _cpuid_fn
    if _cpuid_fn is None:
        _cpuid_fn = _build_probe()
    out = (ctypes.c_uint32 * 4)()
    _cpuid_fn[0](leaf, subleaf, out)
    return out[0], out[1], out[2], out[3]


def detect() -> frozenset[str]:
    """Ask the CPU (no cache, no mask)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        raise WasmError(f"pywinch compiles for x86-64; this machine is {platform.machine()}")
    found = set()
    max_leaf = cpuid(0)[0]
    _, _, ecx, edx = cpuid(1)
    if edx >> 26 & 1:
        found.add(SSE2)
    for bit, feat in ((0, SSE3), (9, SSSE3), (19, SSE41), (20, SSE42), (23, POPCNT)):
        if ecx >> bit & 1:
            found.add(feat)
    # AVX needs the OS to save the YMM state: OSXSAVE, then XCR0 bits 1 (SSE) and 2 (AVX).
    avx_ok = False
    if ecx >> 27 & 1 and ecx >> 28 & 1:
        xcr0 = _cpuid_fn[1](0)
        avx_ok = (xcr0 & 6) == 6
    if avx_ok:
        found.add(AVX)
    if max_leaf >= 7:
        _, ebx7, _, _ = cpuid(7, 0)
        if ebx7 >> 3 & 1:
            found.add(BMI1)
        if ebx7 >> 8 & 1:
            found.add(BMI2)
        if avx_ok and ebx7 >> 5 & 1:
            found.add(AVX2)
    if cpuid(0x80000000)[0] >= 0x80000001:
        if cpuid(0x80000001)[2] >> 5 & 1:
            found.add(LZCNT)
    return frozenset(found)


def _apply_mask(found: frozenset[str], spec: str) -> frozenset[str]:
    result = set(found)
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        if not item.startswith("-"):
            raise WasmError(f"{ENV_VAR}: {item!r}: features can only be removed ('-name' or '-all')")
        if item[1:].strip().lower() == "all":
            result &= {SSE2}
        else:
            result.discard(_canonical(item[1:]))
    return frozenset(result)


def features() -> frozenset[str]:
    """The features pywinch may use: detected once, minus ``$PYWINCH_CPU_FEATURES``."""
    global _cached
    if _cached is None:
        _cached = _apply_mask(detect(), os.environ.get(ENV_VAR, ""))
    return _cached


def has(feature: str) -> bool:
    """Whether compiled code may use ``feature`` (one of the constants of this module)."""
    return feature in features()


@contextlib.contextmanager
def masked(*names: str):
    """Within the block, behave as if the CPU lacked ``names`` (for tests of fallbacks)."""
    global _cached
    saved = features()
    _cached = saved - {_canonical(n) for n in names}
    try:
        yield _cached
    finally:
        _cached = saved
