# pagerlens: two commands set everything up on a fresh Debian machine with Python 3.11+.
#   make demo   the main job on the simulated PagerDuty (ARGS=--no-dashboard for scripts)
#   make test   the test suite (what CI runs through .ci/run)
#   make bench  the benchmarks, each against its baseline, figures printed
#   make lint   ruff

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SYSTEM_PACKAGES := chromium poppler-utils fonts-dejavu-core libpango-1.0-0 libpangoft2-1.0-0 prometheus-alertmanager
ARGS ?=
PYTEST_ARGS ?=

.PHONY: demo test bench lint format setup sysdeps clean

demo: setup sysdeps
	$(BIN)/pagerlens demo $(ARGS)

test: setup sysdeps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: setup sysdeps
	$(BIN)/python bench/run_all.py $(ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

setup: $(STAMP)

$(STAMP): pyproject.toml requirements.lock
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "pagerlens needs Python 3.11 or newer"' \
		|| { echo "error: Python 3.11+ not found (set PYTHON=/path/to/python3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) \
		|| { echo "error: cannot create a virtualenv: as root run 'apt-get install python3-venv'"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

# Debian packages: chromium (browser tests, PDF charts through kaleido), poppler-utils (PDF
# checks), pango (WeasyPrint). Installed with apt-get when missing and we are root.
sysdeps:
	@missing=""; \
	for pkg in $(SYSTEM_PACKAGES); do \
		dpkg -s $$pkg >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian packages:$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$$missing >/dev/null; \
		else \
			echo "error: missing Debian packages:$$missing"; \
			echo "       run as root: apt-get install$$missing"; exit 1; \
		fi; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache artifacts demo-out reports-out recommendations
