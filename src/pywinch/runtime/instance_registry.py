"""vmctx address -> runtime instance, for builtins and Caller lookups.

Weak values: an instance leaves the registry when its store lets it go.
"""

from __future__ import annotations

import weakref

_by_vmctx: "weakref.WeakValueDictionary[int, object]" = weakref.WeakValueDictionary()


def register(vmctx: int, instance) -> None:
    _by_vmctx[vmctx] = instance


def instance_of(vmctx: int):
    return _by_vmctx[vmctx]


def find(vmctx: int):
    return _by_vmctx.get(vmctx)
