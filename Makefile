# tracemix — set-up, tests, demo and benchmarks. Everything installs into ./.venv from scratch.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Nothing reaches a model hub at test or demo time.
OFFLINE := HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
PYTEST_WORKERS ?= 2

.PHONY: install test demo bench lint clean

install: $(STAMP)

# setup.py compiles the tagger's C scanners (curation/classifiers/*.c): a change there rebuilds them
$(STAMP): pyproject.toml setup.py $(wildcard curation/classifiers/*.c)
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU build of torch; a looser pin would pull a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

test: install
	@# a single-node Slurm cluster for the tests marked `slurm`, where slurm-wlm and munge are installed (root)
	@if command -v slurmctld >/dev/null && command -v munged >/dev/null; then \
		$$([ "$$(id -u)" = 0 ] || echo sudo -n) bash tests/cluster/slurm_up.sh \
		|| echo "warning: the Slurm cluster did not start; the slurm tests will say why"; fi
	$(OFFLINE) $(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) tests

# The demo ablation: generate the embedded corpus, tag it, then carve the held-out set and train the shared
# tokenizer once, and mix -> train -> eval -> perplexity -> probe per variant and seed (runs/demo/report.md).
demo: install
	$(OFFLINE) $(BIN)/tracemix demo-data --output data/demo
	$(OFFLINE) $(BIN)/tracemix tag --input data/demo --output data/tagged/demo
	$(OFFLINE) $(BIN)/tracemix ablate recipes/ablations/demo.yaml --output runs/demo

bench: install
	$(OFFLINE) $(BIN)/python benchmarks/run_all.py

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
