"""Fuel and epoch checks: what the prologue emits for them."""

import pytest

capstone = pytest.importorskip("capstone")

from pywinch import vmoffsets as vo
from pywinch.codegen import compile_module
from pywinch.wasm.binary import decode_module
from pywinch.wasm.text.wat import wat2wasm

WAT = '(module (memory 1) (func (export "f") (param i32) (result i32) (local i32) ' \
      '(i32.load (local.get 0))))'


def entry(**flags):
    cm = compile_module(decode_module(wat2wasm(WAT)), **flags)
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    body = cm.code[cm.func_offsets[0]:cm.func_ends[0]]
    return [f"{i.mnemonic} {i.op_str}" for i in md.disasm(body, 0)]


@pytest.mark.parametrize("flags", [{"epoch": True}, {"fuel": True}, {"epoch": True, "fuel": True}])
def test_entry_checks_reuse_the_stack_checks_limits_pointer(flags):
    """The stack check has just loaded the limits pointer into r11: the entry's
    fuel/epoch checks use it instead of loading it again (one load per call)."""
    insns = entry(**flags)
    limits_loads = [i for i in insns if i == "mov r11, qword ptr [r14]"]
    fuel_flush = 1 if flags.get("fuel") else 0    # the return's fuel flush reloads it
    assert len(limits_loads) == 1 + fuel_flush
    if flags.get("epoch"):
        ptr = f"[r11 + {vo.LIMITS_EPOCH_COUNTER_PTR:#x}]"
        assert any(ptr in i for i in insns)                 # the counter pointer, via r11


def test_no_checks_by_default():
    assert not any("[r11 + 0x" in i for i in entry())


def test_interrupt_only_check_reads_the_instance_flag():
    """Without Config.epoch_interruption only Ctrl-C interrupts, by setting a flag
    in each instance's VMContext: the check is one compare with memory on the
    pinned vmctx register, no limits or epoch counter load."""
    from pywinch.compiled import EPOCH_INTERRUPT
    insns = entry(epoch=EPOCH_INTERRUPT)
    flag = f"cmp dword ptr [r14 + {vo.VMCTX_INTERRUPT:#x}], 0"
    assert flag in insns
    assert insns[insns.index(flag) + 1].startswith("jne ")
    assert not any(f"[r11 + {vo.LIMITS_EPOCH_COUNTER_PTR:#x}]" in i for i in insns)
    assert not any(f"[r11 + {vo.LIMITS_EPOCH_DEADLINE:#x}]" in i for i in insns)


def test_engine_settings_choose_the_check():
    import pywinch
    from pywinch.api.compiler import epoch_mode
    from pywinch.compiled import EPOCH_DEADLINE, EPOCH_INTERRUPT, EPOCH_OFF
    cfg = pywinch.Config()
    assert epoch_mode(cfg) == EPOCH_INTERRUPT          # the default: Ctrl-C only
    cfg.epoch_interruption = True
    assert epoch_mode(cfg) == EPOCH_DEADLINE
    cfg = pywinch.Config()
    cfg.interruptible = False
    assert epoch_mode(cfg) == EPOCH_OFF
