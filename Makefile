# Two commands do everything on a fresh clone:
#   make run    bootstrap .venv, run the whole DVC pipeline on synthetic demo data, print a summary
#   make test   bootstrap .venv, run the test suite
# and:
#   make x-education   the whole pipeline on the real X Education table (../shared/datasets/),
#               into pipelines/x_education/ (its own data, model, reports, MLflow store)
#   make lint   ruff (lint and format check) over src, tests and benchmarks; mypy over src
#   make docs   build the documentation site (docs/) with MkDocs, failing on a broken link
#   make lock   after a dependency change: install the newest allowed versions and pin them
#   make push   send the trained outputs to the DVC remote (.dvc/config); make pull fetches them
#               into a fresh clone instead of training (docs/experiments.md)
#   make baseline  after a change to the model: rerun both pipelines and stage for git what it
#               keeps of them (dvc.lock, metrics, plots), ready to commit
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DVC_NO_ANALYTICS := 1
# LightGBM's OpenMP threads sleep instead of spinning while they wait: with the test suite's
# servers and subprocesses (or anything else) on the same 2 cores, spinning threads starved each
# other and a tuning trial took minutes instead of seconds. Results are the same either way.
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: run test lint docs clean x-education lock push pull baseline

# constraints.txt pins every package: newer releases of the dependencies can change the demo's
# features and so its model (the results page of the docs has the case that showed it)
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]" -c constraints.txt
	touch $(STAMP)

# after changing dependencies: install the newest allowed versions, then pin them
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade --upgrade-strategy eager -e ".[dev]"
	{ sed -n '1,3p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt

run: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro
	@PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/leadscore summary

x-education: $(STAMP)
	cd pipelines/x_education && PATH="$(CURDIR)/$(BIN):$$PATH" $(CURDIR)/$(BIN)/dvc repro dvc.yaml
	@cd pipelines/x_education && PATH="$(CURDIR)/$(BIN):$$PATH" $(CURDIR)/$(BIN)/leadscore summary

# the trained outputs of every pipeline go to the default DVC remote; pull brings them into a
# fresh clone, which then scores without training
push: $(STAMP)
	$(BIN)/dvc push

pull: $(STAMP)
	$(BIN)/dvc pull
	$(BIN)/dvc status

# what git keeps of a training (the rest is in the DVC cache): the figures dvc exp show and
# dvc metrics/plots diff compare against
BASELINE := dvc.lock reports pipelines/x_education/dvc.lock pipelines/x_education/reports
baseline: run x-education
	git add $(BASELINE)
	git status --short $(BASELINE)

test: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir site

# the demo's outputs that git ignores (the committed metrics and plots stay), the MLflow store
clean:
	git clean -fdX -- data models reports
	rm -rf mlflow.db mlruns site
