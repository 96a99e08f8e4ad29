# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

ANVIL := .tools/node_modules/.bin/anvil

.PHONY: demo test lint typecheck tools clean mutants

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip 2> $(VENV)/pip.log || { cat $(VENV)/pip.log; exit 1; }

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "installing dispute-engine and its test tools into $(VENV) (pip's warnings: $(VENV)/pip.log)"
	$(BIN)/python -m pip install --quiet -e '.[test]' 2> $(VENV)/pip.log || { cat $(VENV)/pip.log; exit 1; }
	touch $@

## demo: install and walk through several disputes on a local SQLite file
demo: $(VENV)/.installed
	rm -f demo.db demo.db-wal demo.db-shm
	$(BIN)/dispute-engine demo --db sqlite:///./demo.db

## tools: the test chain node (anvil) and the Solidity compiler, from npm, into .tools/
tools: $(ANVIL)

$(ANVIL): .tools/package.json .tools/package-lock.json
	cd .tools && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## test: lint, type-check and run the whole suite (SQLite, PostgreSQL, a real chain node)
test: $(VENV)/.installed tools lint typecheck
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .tools/node_modules .mypy_cache .ruff_cache .pytest_cache .hypothesis demo.db mutants

## mutants: mutation-test dispute_engine/domain/ against the unit and property tests and
## print the score (slow; not part of `make test`). MODULE=money limits it to one module.
MODULE ?= *
mutants: $(VENV)/.installed
	DISPUTE_ENGINE_HYPOTHESIS=mutation $(BIN)/mutmut run --max-children 1 "dispute_engine.domain.$(MODULE).*"
	$(BIN)/python bench/mutation_score.py "$(MODULE)"
