# Every target creates or refreshes the virtual environment in .venv first,
# so `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CONFIG ?= config/example.toml

.PHONY: run test lint bench eval clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/quorum --config $(CONFIG) run

lint: $(STAMP)
	$(BIN)/ruff check bot tests bench
	$(BIN)/ruff format --check bot tests bench

test: $(STAMP) lint
	$(BIN)/pytest

# make bench BENCH_ARGS=--quick for smaller sizes; BENCH_ARGS='--only smtp_load' for one.
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

# How well Quorum reads discussions: concerns and votes against the labelled corpus.
eval: $(STAMP)
	$(BIN)/python -m bench.judgement $(EVAL_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
