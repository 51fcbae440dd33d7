# Two commands on a fresh machine with Python 3.11+ and make:
#   make run   — set up, then run the main job
#   make test  — set up, then lint, type-check and run the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Until the benchmark lands: rebuild the bundled corpus (0.1.0, then 1.0.0 with the gold) in a
# temporary folder, validate it and print its statistics.
run: $(STAMP)
	@tmp=$$(mktemp -d); \
	$(BIN)/claimwire corpus build --version 0.1.0 --out $$tmp/releases \
	  && $(BIN)/claimwire corpus build --version 1.0.0 --parent 0.1.0 --gold annotation/gold \
	       --out $$tmp/releases \
	  && $(BIN)/claimwire corpus validate $$tmp/releases/1.0.0 \
	  && $(BIN)/claimwire corpus stats $$tmp/releases/1.0.0; \
	status=$$?; rm -rf $$tmp; exit $$status

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src

test: lint
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_corpus.py
	$(BIN)/python benchmarks/bench_scoring.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
