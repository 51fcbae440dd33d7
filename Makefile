# Two commands on a fresh machine with Python 3.11+ and make:
#   make run   — set up, then run the main job
#   make test  — set up, then lint, type-check and run the tests
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LS_VENV := .venv-ls
LS_STAMP := $(LS_VENV)/.installed

.PHONY: run test lint bench bench-scale clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,hf,ray]'
	touch $(STAMP)

# The main job: every built-in system on every task over the bundled release; writes
# eval/leaderboard.md, eval/report.html and eval/runs/, and prints the leaderboard.
run: $(STAMP)
	$(BIN)/claimwire benchmark

# Label Studio (the annotation server the tests start) lives in its own virtualenv.
$(LS_STAMP):
	$(PYTHON) -m venv $(LS_VENV)
	$(LS_VENV)/bin/python -m pip install --quiet label-studio==1.23.2
	touch $(LS_STAMP)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy src

# The suite on TEST_WORKERS processes (pytest-xdist; 0: in this one), a test file to a worker,
# so a file's module fixtures (a built release, a Label Studio server, a local Ray) start once.
TEST_WORKERS ?= 2
test: lint $(LS_STAMP)
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

bench: $(STAMP) $(LS_STAMP)
	$(BIN)/python benchmarks/bench_cli.py
	$(BIN)/python benchmarks/bench_corpus.py
	$(BIN)/python benchmarks/bench_duplicates.py
	$(BIN)/python benchmarks/bench_scoring.py
	$(BIN)/python benchmarks/bench_reading.py
	$(BIN)/python benchmarks/bench_growth.py
	$(BIN)/python benchmarks/bench_systems.py
	$(BIN)/python benchmarks/bench_ray.py
	$(BIN)/python benchmarks/bench_storage.py
	$(BIN)/python benchmarks/bench_label_studio.py
	$(BIN)/python benchmarks/bench_regex.py
	$(MAKE) bench-scale

# Synthetic releases with gold and predictions, built once (the larger takes minutes) and
# reused: whole-process eval score against nervaluate, peak memory at 10k and 100k documents.
BENCH_DATA ?= build/bench
bench-scale: $(STAMP)
	test -d $(BENCH_DATA)/10k || $(BIN)/python benchmarks/synthetic_release.py $(BENCH_DATA)/10k --documents 10000
	test -d $(BENCH_DATA)/100k || $(BIN)/python benchmarks/synthetic_release.py $(BENCH_DATA)/100k --documents 100000
	$(BIN)/python benchmarks/bench_eval_score.py $(BENCH_DATA)/10k
	$(BIN)/python benchmarks/bench_memory.py $(BENCH_DATA)/10k $(BENCH_DATA)/100k

clean:
	rm -rf $(VENV) $(LS_VENV) .cache .pytest_cache .mypy_cache .ruff_cache .hypothesis
