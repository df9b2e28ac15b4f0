"""Every ```python block of docs/api.md runs, in a fresh namespace."""

import pathlib
import re

import pytest

import pywinch as wasm

DOC = pathlib.Path(__file__).resolve().parents[2] / "docs" / "api.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)


def test_doc_has_examples():
    assert len(BLOCKS) >= 6


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_doc_example(index):
    try:
        exec(compile(BLOCKS[index], f"{DOC.name}[{index}]", "exec"), {"__name__": "__doc_example__"})
    except wasm.UnsupportedError as e:
        if "not available yet" in str(e):
            pytest.skip(str(e))
        raise
