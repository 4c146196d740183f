# Two commands on a fresh machine (see README.md):
#   make demo    set everything up, then validate, plan and apply the example sites/
#   make check   lint, type-check and test (what CI runs)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# pytest-xdist workers for `make test`: the tests wait on servers, subprocesses and
# git more than on the CPU, so two workers pay even on a busy 2-core machine.
# WORKERS=0 runs them in this process (one at a time).
WORKERS ?= 2
# This repository's workflows and those of the example site repositories.
WORKFLOW_FILES = $(wildcard .github/workflows/*.yml examples/*/.github/workflows/*.yml)

.PHONY: setup demo check lint test browser bench clean lock install-size property

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

demo: setup
	$(BIN)/reconciler validate
	$(BIN)/reconciler plan
	$(BIN)/reconciler apply --yes

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict src
	@# The tests, one folder at a time: each has its own conftest module. One cache for
	@# all (mypy's default, shared with src): the package is analysed once, not per folder.
	for dir in tests/*/; do \
		MYPYPATH=tests $(BIN)/mypy $$dir || exit 1; \
	done
	$(BIN)/lint-imports
	$(BIN)/actionlint -shellcheck $(BIN)/shellcheck $(WORKFLOW_FILES)
	@# The workflows' security audit, without the network (no GitHub API token needed).
	$(BIN)/zizmor --offline --quiet .github $(wildcard examples/*/)

# The HTML status page is tested in Debian's Chromium, driven by Playwright.
browser:
	.ci/install-chromium

test: setup browser
	$(BIN)/pytest -n $(WORKERS) --cov --cov-branch --cov-report=term

# schemathesis' CLI, every check on, against a sandbox this target serves and stops
# (fixed seed, 20 examples an operation: about 15 s).
contract: setup
	$(BIN)/python scripts/api_contract.py --seed 1 --max-examples 20

check: lint test contract

# "One reviewed change is enough" over many more generated states than make check's 300
# (tests/reconcile/test_reconcile_one_change_is_enough.py; a few minutes).
property: setup
	HYPOTHESIS_PROFILE=property $(BIN)/pytest -q -p no:cacheprovider \
		tests/reconcile/test_reconcile_one_change_is_enough.py

# Every benchmark runs, whatever an earlier one found; exit 0 only when every target holds.
BENCHMARKS := bench_validate bench_startup bench_list_sites bench_sandbox_listing bench_plan \
	bench_preflight bench_scale bench_apply bench_status bench_duda

bench: setup
	@failed=""; \
	for name in $(BENCHMARKS); do \
		echo "== benchmarks/$$name.py"; \
		$(BIN)/python benchmarks/$$name.py || failed="$$failed $$name"; \
	done; \
	if [ -n "$$failed" ]; then echo "make bench: targets missed in:$$failed"; exit 1; fi; \
	echo "make bench: every target holds"

# The composite action's hash-pinned lock, from pyproject.toml's [tool.pip-tools]
# options (needs the package index). Keeps today's pins where they still fit; upgrade
# every pin with `make lock LOCK_ARGS=--upgrade`, one with `LOCK_ARGS='-P rich'`.
# PyPI only: a machine's pip configuration (extra indexes, local wheel folders) would
# add hashes of files that the runners' index does not serve.
lock: setup
	PIP_CONFIG_FILE=/dev/null $(BIN)/pip-compile --quiet --index-url=https://pypi.org/simple $(LOCK_ARGS) pyproject.toml

# What `pip install .` adds in a fresh venv (target: at most 40 MB); needs the index.
install-size: setup
	$(BIN)/python scripts/install_size.py
	$(BIN)/python scripts/install_size.py --extra github

clean:
	rm -rf $(VENV) build .reconciler .pytest_cache .mypy_cache .ruff_cache .coverage
