# CoopGraph — the two commands a newcomer needs are `make demo` and `make test`.
# Both create the virtual environment (.venv) and install the project on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## The demo: load the sample cluster into the embedded store and serve the dashboard.
demo: $(STAMP)
	$(BIN)/coopgraph demo --data var/data

## The whole test suite: lint, types, and pytest against both stores (starts a real Neo4j).
test: $(STAMP)
	bash scripts/test.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	bash scripts/bench.sh

clean:
	rm -rf $(VENV) var test-artifacts .pytest_cache .mypy_cache .ruff_cache tools/neo4j-launcher/target
