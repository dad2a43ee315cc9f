# The README's two commands are `make run` and `make test`; both set up .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint format bench build smoke clean

$(STAMP): pyproject.toml Makefile
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,bench,desktop]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/aiprism serve

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench.core

# The frozen desktop app in dist/ai-prism/ (PyInstaller, from its own clean venv under build/).
build: $(STAMP)
	$(BIN)/python build_spec/build.py

smoke: build
	$(BIN)/python build_spec/smoke_test.py

clean:
	rm -rf $(VENV) build dist bench/out
