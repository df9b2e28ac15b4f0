# pywinch: `make demo` runs a real Wasm program, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
WASM_TESTSUITE ?= $(abspath ../shared/wasm-testsuite)
export WASM_TESTSUITE

.PHONY: demo test dev venv clean bench fuzz smith spec-status programs

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(PY)
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

venv: $(VENV)/.installed
dev: $(VENV)/.dev-installed

demo: $(VENV)/.installed
	$(PY) -m pywinch.demo
	@echo "--- a WASI command (C, wasm32-wasi) through 'pywinch run': grep and wc over examples/"
	$(PY) -m pywinch run --dir examples::/data tests/programs/grep.wasm -n fib /data/demo.c
	$(PY) -m pywinch run --dir examples::/data tests/programs/wc.wasm /data/demo.c /data/hello_wasi.c

test: dev
	$(PY) -m pytest -q -p no:cacheprovider

# Benchmarks side by side with Wasmtime (Cranelift, Winch), native gcc -O2 and pywasm:
# writes docs/benchmarks.md and its chart.
bench: dev
	$(PY) benchmarks/run.py

# Differential fuzzing against Wasmtime; `make fuzz N=20000 SEED=1`.
N ?= 2000
SEED ?= 1
fuzz: dev
	$(PY) tools/fuzz.py --count $(N) --seed $(SEED) --jobs 2
	$(PY) tools/fuzz.py --hostile --count $(N) --seed $(SEED)

# Decoder/validator agreement with `wasm-tools validate` on smith modules and mutants.
smith: dev
	$(PY) tests/wasm/smith_compare.py $(N) --seed $(SEED)

# Regenerates the spec-suite table of docs/status.md.
spec-status: dev
	$(PY) tools/spec_status.py

# Rebuilds the C test and benchmark programs (needs clang, lld, wasi-libc, libclang-rt-14-dev-wasm32).
programs:
	tests/programs/build.sh -f
	benchmarks/build.sh -f
	$(PYTHON) benchmarks/c/gen_manifest.py

clean:
	rm -rf $(VENV) build src/*.egg-info
