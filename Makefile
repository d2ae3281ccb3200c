# ptune. `make help` lists the targets.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= $(or $(PTUNE_DATA_DIR),../shared/data)
PYTEST_ARGS ?=
TRANSFORMERS ?= 5.17.0
DEMO_RESULTS ?= outputs/demo/results
SWEEP_DEMO ?= outputs/sweep-demo
REPRODUCE ?= reproduce_minilm
SEARCH_TASKS ?= copa wsc rte wic boolq conll03
# ptv2 first: prompt and prefix tuning search at its chosen prompt length
SEARCH_METHODS ?= ptv2 finetune prompt prefix
# JOBS=2: two runs at once on joblib workers, one thread each (joblib splits the cores); on this 2-core machine
# 1.19x the throughput of one run on both cores
JOBS ?= 1
PARALLEL := $(if $(filter-out 1,$(JOBS)),hydra/launcher=joblib hydra.launcher.n_jobs=$(JOBS))

INSTALLED := $(VENV)/.installed
# setuptools notes every editable install that maps a folder into the package (conf/ -> ptune/conf) with an
# "Editable installation" message that asks nothing of the user; only that message is silenced
EDITABLE_NOTE_OFF := PYTHONWARNINGS="ignore:Editable installation"
BENCH_ARGS ?=

.PHONY: help install test demo sweep-demo tables search reproduce bench compat clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

install: $(INSTALLED)  ## venv + ptune (editable; dev, optuna, cluster, bench, figures and tracking extras) + the offline backbone, at the tested versions

# The venv is a file target: made on first use, remade when the dependencies change.
$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(EDITABLE_NOTE_OFF) $(BIN)/pip install --quiet -c constraints.txt -e ".[dev,optuna,cluster,bench,figures,tracking]"
	@touch $@

test: $(INSTALLED)  ## the test suite, offline
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(INSTALLED)  ## the main job: ptv2 vs fine-tuning vs shallow prompt on CoNLL-03 (~5 min on 2 CPU cores), then its table
	HF_HUB_OFFLINE=1 $(BIN)/ptune run -m method=finetune,prompt,ptv2 task=conll03 model=minilm trainer=demo preset=demo \
		data_dir=$(DATA_DIR) paths.results_dir=$(DEMO_RESULTS)
	$(BIN)/ptune compare $(DEMO_RESULTS)

sweep-demo: $(INSTALLED)  ## a 4-job sweep on 2 local joblib workers (prompt, ptv2 x seeds 1, 2; MiniLM on 200 RTE examples), then its summary
	HF_HUB_OFFLINE=1 $(BIN)/ptune run -m hydra/launcher=joblib hydra.launcher.n_jobs=2 method=prompt,ptv2 seed=1,2 \
		task=rte model=minilm trainer=smoke trainer.max_train_examples=200 trainer.max_eval_examples=100 \
		data_dir=$(DATA_DIR) paths.results_dir=$(SWEEP_DEMO)/results paths.output_dir=$(SWEEP_DEMO)

tables: $(INSTALLED)  ## results/runs/*/row.json -> results/tables/*.md, results/figures/*.png, the README's results section and results/README.md's summary
	$(BIN)/ptune table
	$(BIN)/python scripts/results_report.py

# A task with its own grid (conf/sweep/search_minilm_<method>_<task>.yaml, a grid widened past an edge) uses it.
search: $(INSTALLED)  ## the settings search before `make reproduce`, task by task (SEARCH_TASKS=...), each finished (task, method) picked into conf/preset/by_run/
	for task in $(SEARCH_TASKS); do for method in $(SEARCH_METHODS); do \
	  sweep=search_minilm_$$method; [ -f conf/sweep/$${sweep}_$$task.yaml ] && sweep=$${sweep}_$$task; \
	  HF_HUB_OFFLINE=1 $(BIN)/ptune run sweep=$$sweep task=$$task data_dir=$(DATA_DIR) skip_done=true resume=auto trainer.progress=false $(PARALLEL) && \
	  HF_HUB_OFFLINE=1 $(BIN)/ptune pick sweep=$$sweep task=$$task data_dir=$(DATA_DIR) --write || exit 1; \
	done; done

reproduce: $(INSTALLED)  ## the real-number tables (sweep=$(REPRODUCE): 72 runs, many CPU hours): prints done/left, continues where it stopped, then the tables
	HF_HUB_OFFLINE=1 $(BIN)/ptune plan sweep=$(REPRODUCE) data_dir=$(DATA_DIR)
	HF_HUB_OFFLINE=1 $(BIN)/ptune run sweep=$(REPRODUCE) data_dir=$(DATA_DIR) skip_done=true resume=auto trainer.progress=false $(PARALLEL)
	$(MAKE) tables

bench: $(INSTALLED)  ## ptune vs plain transformers / peft on RTE (fp32, bf16): table, results/bench/*.json, README section (BENCH_ARGS=...)
	$(BIN)/python -c "import peft" 2>/dev/null || $(EDITABLE_NOTE_OFF) $(BIN)/pip install --quiet -c constraints.txt \
		-e ".[bench]"
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/benchmark.py --data-dir $(DATA_DIR) $(BENCH_ARGS)
	$(BIN)/python scripts/bench_report.py

compat:  ## the version-sensitive tests (injection, methods) against another transformers: TRANSFORMERS=5.17.0
	$(PYTHON) -m venv .venv-compat
	grep -v '^transformers==' constraints.txt > .venv-compat/constraints.txt
	$(EDITABLE_NOTE_OFF) .venv-compat/bin/pip install --quiet -c .venv-compat/constraints.txt \
		"transformers==$(TRANSFORMERS)" -e ".[dev,optuna]"
	HF_HUB_OFFLINE=1 .venv-compat/bin/python -m pytest tests/model/test_injection.py tests/model/test_methods.py tests/model/test_device.py -q

clean:  ## remove scratch outputs (never the committed rows)
	rm -rf outputs multirun .pytest_cache build dist *.egg-info
