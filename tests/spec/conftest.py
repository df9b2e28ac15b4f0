"""The helper modules beside these tests (spec_files, wasmtime_backend, wasmtools_json) are
imported by name: make that work under any pytest import mode."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)
