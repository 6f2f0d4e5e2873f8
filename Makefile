# One entry point per job. `make run` and `make test` build .venv first, so each works from a
# fresh clone. Versions come from requirements/constraints.txt (the lock; see README).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# What the Lambda image installs (the package's `serving` extra, same lock), built the same way.
SERVING_VENV := .venv-serving
SERVING_STAMP := $(SERVING_VENV)/.installed
NODE_STAMP := node_modules/.installed
# Debian's Chromium, for the tests that open the HTML reports as a reader would.
BROWSER := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
STAGE ?= dev
SHARED_LISTINGS := $(abspath ../shared/data/amsterdam/2021-07-04/listings.csv)
export AIRBNB_LISTINGS ?= $(if $(wildcard $(SHARED_LISTINGS)),$(SHARED_LISTINGS),)
SHARED_MAP := $(abspath ../shared/data/amsterdam/neighbourhoods.geojson)
export AIRBNB_NEIGHBOURHOODS ?= $(if $(wildcard $(SHARED_MAP)),$(SHARED_MAP),)
SHARED_COMPARE := $(abspath ../shared/data/amsterdam/2024-09-05/listings.csv)
export AIRBNB_COMPARE_LISTINGS ?= $(if $(wildcard $(SHARED_COMPARE)),$(SHARED_COMPARE),)
SHARED_DETAILED := $(abspath ../shared/data/amsterdam/2022-01-07/listings.csv.gz)
export AIRBNB_DETAILED_LISTINGS ?= $(if $(wildcard $(SHARED_DETAILED)),$(SHARED_DETAILED),)
# nbval and interactive notebook runs write their scratch output here, not into runs/.
TEST_RUNS := $(CURDIR)/.test-runs

.PHONY: setup run smoke test unit lab notebooks lock lint clean serve deploy serving-env bench container-test

setup: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml setup.py src/airbnb_price/serve/_trees.c src/airbnb_price/core/_text.c requirements/constraints.txt jupyter/overrides.json  ## the evaluator is built by pip
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==24.3.1
	$(BIN)/pip install --quiet -c requirements/constraints.txt -e '.[training,serving,dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name airbnb-price --display-name "Python 3 (airbnb-price)"
	# The project answers Lab's "get notified about official Jupyter news?" prompt: no (and
	# no update checks: a research repo's Lab should not call out on its own).
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp jupyter/overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	# dash (pulled in by PyCaret's plotly-resampler) drops a source extension into Lab's app
	# folder, and every notebook load would ask the user to rebuild JupyterLab for it.
	if [ -e $(VENV)/share/jupyter/lab/extensions/dash-jupyterlab.tgz ]; then \
	  $(BIN)/jupyter labextension uninstall --no-build @plotly/dash-jupyterlab; fi
	touch $@

$(NODE_STAMP): package.json package-lock.json  ## Serverless Framework 3.40.0, from the lock
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

serving-env: $(SERVING_STAMP)

$(SERVING_STAMP): pyproject.toml setup.py requirements/constraints.txt $(shell find src/airbnb_price -name '*.py' -o -name '*.c')
	$(PYTHON) -m venv $(SERVING_VENV)
	$(SERVING_VENV)/bin/pip install --quiet --upgrade pip==24.3.1
	$(SERVING_VENV)/bin/pip install --quiet -c requirements/constraints.txt '.[serving]'
	find $(SERVING_VENV)/lib -depth -type d -name tests -exec rm -rf {} +  # as the Dockerfile does
	touch $@

run: setup  ## the full pipeline into a new runs/<id>/ (ARGS="--smoke", ARGS="--feature-set detailed")
	$(BIN)/airbnb-price run $(ARGS)

smoke: setup
	$(BIN)/airbnb-price run --smoke $(ARGS)

$(BROWSER):
	$(SUDO) apt-get install -y -q chromium || { $(SUDO) apt-get update -q && $(SUDO) apt-get install -y -q chromium; }

test: setup serving-env lint $(BROWSER)  ## unit + end-to-end tests, then nbval on the committed notebooks
	rm -rf $(TEST_RUNS)
	AIRBNB_RUNS_DIR=$(TEST_RUNS) $(BIN)/python -m pytest -p no:dash --durations=30 tests
	AIRBNB_RUNS_DIR=$(TEST_RUNS) $(BIN)/python -m pytest -p no:dash --nbval-lax notebooks

unit: setup  ## the fast lane: tests not marked slow (no notebooks, servers or containers)
	AIRBNB_RUNS_DIR=$(TEST_RUNS) $(BIN)/python -m pytest -p no:dash -m "not slow" tests

lint: setup  ## ruff, and the layer contracts of pyproject.toml (serving never imports training)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

container-test: setup  ## build the Dockerfile with podman on a local base, predict through the RIE
	$(BIN)/python -m pytest -p no:dash tests/local/test_container.py

serve: setup  ## the Lambda handler on http://127.0.0.1:$${PORT:-3000}, model on moto S3
	$(BIN)/airbnb-price serve $(ARGS)

deploy: setup  ## publish the newest run's model and `sls deploy` STAGE (ARGS="--dry-run" locally)
	$(BIN)/airbnb-price deploy --stage $(STAGE) $(ARGS)

bench: setup serving-env  ## every benchmark -> benchmarks/results/*.json (needs a run with a model)
	@ls runs/*/model/compiled.pkl >/dev/null 2>&1 || $(BIN)/airbnb-price run --smoke
	for b in model_quality detailed_ceiling latency batch cost size load fuzz pipeline_time cities cache geo_tolerance fleet; do \
	  echo "== $$b"; $(BIN)/python benchmarks/$$b.py || exit 1; done

lab: setup  ## explore in JupyterLab with the project's kernel (root: the project, so run folders open)
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/airbnb-price lab $(ARGS)

notebooks: setup  ## re-execute the committed notebooks in place (smoke defaults) for nbval
	for nb in notebooks/[0-9]*.ipynb; do \
	  AIRBNB_RUNS_DIR=$(TEST_RUNS) $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.kernel_name=airbnb-price \
	    --ExecutePreprocessor.kernel_manager_class=airbnb_price.local.runner.IPCKernelManager \
	    "$$nb" || exit 1; done

lock: setup  ## regenerate the full lock from requirements/pins.txt
	$(BIN)/pip install --quiet -c requirements/pins.txt -e '.[training,serving,dev]'
	{ sed -n '1,2p' requirements/constraints.txt; $(BIN)/pip freeze --exclude-editable; } > requirements/constraints.lock.tmp
	mv requirements/constraints.lock.tmp requirements/constraints.txt

clean:
	rm -rf $(TEST_RUNS) .pytest_cache
