# Two commands do all set-up: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Everything installs under the pins of the lock, used as constraints: a dependency newly added
# to pyproject.toml still installs (unpinned) until `make lock` pins it.
LOCK := requirements.lock
EXTRAS := dev,embedded
UV := uv==0.13.9

.PHONY: install demo test lint bench lock clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(BIN)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c $(LOCK) -e '.[$(EXTRAS)]'
	touch $@

install: $(BIN)/.installed

# Re-resolve every dependency of the project and its dev + embedded extras, for Python 3.11+
# on every platform, from PyPI; commit the result.
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet '$(UV)'
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 \
		--extra dev --extra embedded --custom-compile-command 'make lock' \
		--output-file $(LOCK) pyproject.toml

demo: install
	$(BIN)/servitize demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q -ra tests

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .servitize .mypy_cache .ruff_cache .pytest_cache
