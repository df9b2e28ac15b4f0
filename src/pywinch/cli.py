"""The ``pywinch`` command line.

Subcommands: ``wast`` (run WAST scripts). ``run`` (WASI), ``compile`` (cached
native code) and ``explore`` (Wasm beside its machine code) register here
the same way: a function adding the arguments and one running them.
"""

from __future__ import annotations

import argparse
import sys


def _wast(args) -> int:
    from .wast import run_from_args
    return run_from_args(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pywinch", description="A WebAssembly runtime with a single-pass compiler.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    from .wast import add_arguments as wast_arguments
    p = sub.add_parser("wast", help="run WebAssembly spec test scripts (.wast)")
    wast_arguments(p)
    p.set_defaults(handler=_wast)
    # `run`, `compile` and `explore` are added here as they land.
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
