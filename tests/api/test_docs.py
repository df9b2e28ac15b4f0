"""Every ```python block of docs/api.md and of the README runs, in a fresh namespace."""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCS = [ROOT / "docs" / "api.md", ROOT / "README.md"]
BLOCKS = [(doc.name, i, block) for doc in DOCS
          for i, block in enumerate(re.findall(r"```python\n(.*?)```", doc.read_text(), re.S))]


def test_docs_have_examples():
    names = [name for name, _, _ in BLOCKS]
    assert names.count("api.md") >= 6 and names.count("README.md") >= 1


@pytest.mark.parametrize("name,index,block", BLOCKS, ids=[f"{n}[{i}]" for n, i, _ in BLOCKS])
def test_doc_example(name, index, block):
    exec(compile(block, f"{name}[{index}]", "exec"), {"__name__": "__doc_example__"})
