# pywinch: `make demo` runs a real Wasm program, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
WASM_TESTSUITE ?= $(abspath ../shared/wasm-testsuite)
export WASM_TESTSUITE

.PHONY: demo test dev venv clean

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

test: dev
	$(PY) -m pytest -q -p no:cacheprovider

clean:
	rm -rf $(VENV) build src/*.egg-info
