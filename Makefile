# `make run` sets everything up and starts the bot (console chat without a token);
# `make test` sets everything up and runs the tests.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup run test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and exactly pinned, so pip takes the CPU build and not a CUDA one.
	$(PY) -m pip install --quiet torch==2.13.0
	# compat mode puts the checkout itself on sys.path, so the `index` package is found even
	# when the current directory holds a data folder called index/.
	$(PY) -m pip install --quiet -e '.[dev,minilm]' --config-settings editable_mode=compat
	touch $@

setup: $(VENV)/.installed

run: setup
	$(PY) -m bot

test: setup
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check bot index tests
	$(VENV)/bin/ruff format --check bot index tests
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) data
