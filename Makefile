# Entry points; every target uses the project virtualenv (created on first use).
#   make test                       the whole suite: unit, workflow (dry-runs, lint, schema), e2e (smoke, SLURM)
#   make test-fast                  unit + workflow tests only, for the edit-test loop (about 2 minutes)
#   make figures                    every figure of every study at the default scale (config/config.yaml)
#   make figures CONFIG=config/paper.yaml PROFILE=profiles/slurm
#   make figures TARGET=fig3_adaptation      one figure (and what it needs)
#   make figures STUDY=stm          one study's figures (config/test/<study>-only.yaml on top)
#   make smoke                      the whole DAG at smoke scale, minutes
#   make report                     results/report.html for the last run (its config files), or CONFIG=...
#   make validate-box               train the default box network for every seed, print its decoded error
#   make crate                      results/ro-crate-metadata.json: the run's provenance as a Workflow Run RO-Crate
#   make lint | make clean | make audit FILE=results/replay/figures/fig2_leakage.png [FIX=1]

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
SNAKEMAKE := $(VENV)/bin/snakemake
STAMP := $(VENV)/.installed
CONFIG ?= config/config.yaml
PROFILE ?= profiles/local
CORES ?=
SMK_ARGS ?=
TARGET ?=
PYTEST_ARGS ?=
# `make figures` with the default config (5 seeds, 65 jobs) on 2 idle CPU cores: 56 min measured end to end,
# about 52 min since KDE-KL is off (README, "Scales and measured times").
DEFAULT_TIME ?= 99 minutes (replay about 52 min, 56 measured with KDE-KL on; stm 19 min measured; hmm 28 min measured)
# torch is installed first, alone: set TORCH_INDEX=https://download.pytorch.org/whl/cpu for the
# CPU-only wheel (PyPI's Linux wheel bundles CUDA).
TORCH_VERSION := $(shell sed -n 's/.*"torch==\([^"]*\)".*/\1/p' pyproject.toml)
TORCH_INDEX ?=
CORES_FLAG := $(if $(CORES),--cores $(CORES),)
# one study of the config: its overlay selects it (studies: [STUDY]); the target goes first, as
# --configfile takes every word after it
STUDY_FILE := $(if $(STUDY),config/test/$(STUDY)-only.yaml,)

.PHONY: help venv test test-fast figures smoke report lint clean audit crate validate-box

help:
	@sed -n 's/^#   //p' $(firstword $(MAKEFILE_LIST))

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX),) torch==$(TORCH_VERSION)
	# compat mode: a path entry, so a checkout's own src/ (tests/, the workflow) comes first
	$(PY) -m pip install --config-settings editable_mode=compat -e '.[dev]'
	@touch $@

test: venv
	$(PY) -m pytest -q $(PYTEST_ARGS)

test-fast: venv
	$(PY) -m pytest -q tests/unit tests/workflow $(PYTEST_ARGS)

figures: venv
	@echo "Default config (config/config.yaml): about $(DEFAULT_TIME) on 2 CPU cores."
	@echo "Smaller or larger: make figures CONFIG=config/smoke.yaml (minutes) |" \
	      "CONFIG=config/paper.yaml PROFILE=profiles/slurm (GPU / HPC)."
	@echo "One study: make figures STUDY=stm (or STUDY=replay, STUDY=hmm); one figure: make figures TARGET=fig3_adaptation."
	@echo "Running $(CONFIG)$(if $(STUDY), (study $(STUDY) only),) with $(PROFILE)."
	@test -z "$(STUDY)" || test -f config/test/$(STUDY)-only.yaml || { echo "STUDY=$(STUDY): no config/test/$(STUDY)-only.yaml (studies: replay, stm, hmm)"; exit 2; }
	@$(PY) -m noisyrnn.core.settings config/config.yaml $(CONFIG) $(STUDY_FILE)
	$(SNAKEMAKE) $(TARGET) --profile $(PROFILE) $(CORES_FLAG) $(SMK_ARGS) --configfile $(CONFIG) $(STUDY_FILE)

smoke:
	@$(MAKE) --no-print-directory figures CONFIG=config/smoke.yaml

# Without CONFIG on the command line, the config files the last run read (.snakemake/noisyrnn/):
# a report of smoke figures labelled with the default config's seeds would mislead.
report: venv
	@files="$(if $(filter command line,$(origin CONFIG)),config/config.yaml $(CONFIG),$$($(PY) -m noisyrnn.core.lastrun configfiles))"; \
	test -n "$$files" || exit 2; \
	echo "Report of the run with config $$files"; \
	$(SNAKEMAKE) --profile $(PROFILE) --report results/report.html --configfile $$files
	@echo "wrote results/report.html"

lint: venv
	$(SNAKEMAKE) --lint --configfile=$(CONFIG)
	$(VENV)/bin/snakefmt --check Snakefile rules/

# VALIDATE_ARGS: e.g. --seeds 0 --configfile config/smoke.yaml (validation/box_learns.py --help)
validate-box: venv
	$(PY) validation/box_learns.py $(VALIDATE_ARGS)

audit: venv
	@test -n "$(FILE)" || { echo "usage: make audit FILE=results/replay/figures/fig2_leakage.png"; exit 2; }
	@$(PY) -m noisyrnn.core.cli audit "$(FILE)" --profile $(PROFILE) $(if $(FIX),--fix,)

crate: venv
	@test -d results || { echo "no results/ yet: run make figures (or make smoke) first"; exit 2; }
	@$(PY) -m noisyrnn.core.cli crate results

# Outputs, logs and Snakemake's records; conda envs under .snakemake/conda are kept.
clean:
	rm -rf results logs
	@if [ -d .snakemake ]; then find .snakemake -mindepth 1 -maxdepth 1 ! -name conda -exec rm -rf {} +; fi
