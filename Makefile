# Every target creates or refreshes the virtual environment in .venv first,
# so `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= config/example.toml
# The quick start runs the sample archive on the day it was written for, so what it
# prints (README, "Quick start") does not age into history; any other CONFIG runs on
# the real clock. RUN_ARGS= (empty) runs the sample on the real clock too.
ifeq ($(CONFIG),config/example.toml)
RUN_ARGS ?= --now 2026-12-02T09:00Z
endif

.PHONY: run test lint bench eval clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/quorum --config $(CONFIG) run $(RUN_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench
	$(BIN)/mypy

# Two workers, one test file each at a time (module fixtures are built once): CI
# has two cores. TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 2
test: $(STAMP) lint
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile

# make bench BENCH_ARGS=--quick for smaller sizes; BENCH_ARGS='--only smtp_load' for one.
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# How well Quorum reads discussions: concerns and votes against the labelled corpus.
eval: $(STAMP)
	$(BIN)/python -m bench.judgement $(EVAL_ARGS)
	$(BIN)/python -m bench.replies

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
