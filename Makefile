# One entry point per job. `make run` and `make test` build .venv first, so each works from a
# fresh clone. Versions come from requirements/constraints.txt (the lock; see README).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SHARED_LISTINGS := $(abspath ../shared/data/amsterdam/2021-07-04/listings.csv)
export AIRBNB_LISTINGS ?= $(if $(wildcard $(SHARED_LISTINGS)),$(SHARED_LISTINGS),)
# nbval and interactive notebook runs write their scratch output here, not into runs/.
TEST_RUNS := $(CURDIR)/.test-runs

.PHONY: setup run smoke test lab notebooks lock lint clean

setup: $(STAMP)

$(STAMP): pyproject.toml requirements/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip==24.3.1
	$(BIN)/pip install --quiet -c requirements/constraints.txt -e '.[training,serving,dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name airbnb-price --display-name "Python 3 (airbnb-price)"
	touch $@

run: setup  ## the full pipeline into a new runs/<id>/ (ARGS="--smoke" for the fast set)
	$(BIN)/airbnb-price run $(ARGS)

smoke: setup
	$(BIN)/airbnb-price run --smoke $(ARGS)

test: setup lint  ## unit + end-to-end tests, then nbval on the committed notebooks
	rm -rf $(TEST_RUNS)
	AIRBNB_RUNS_DIR=$(TEST_RUNS) $(BIN)/python -m pytest -p no:dash tests
	AIRBNB_RUNS_DIR=$(TEST_RUNS) $(BIN)/python -m pytest -p no:dash --nbval-lax notebooks

lint: setup
	$(BIN)/ruff check .

lab: setup  ## explore in JupyterLab with the project's kernel
	$(BIN)/jupyter lab notebooks

notebooks: setup  ## re-execute the committed notebooks in place (smoke defaults) for nbval
	for nb in notebooks/[0-9]*.ipynb; do \
	  AIRBNB_RUNS_DIR=$(TEST_RUNS) $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	    --ExecutePreprocessor.kernel_name=airbnb-price "$$nb" || exit 1; done

lock: setup  ## regenerate the full lock from requirements/pins.txt
	$(BIN)/pip install --quiet -c requirements/pins.txt -e '.[training,serving,dev]'
	{ sed -n '1,2p' requirements/constraints.txt; $(BIN)/pip freeze --exclude-editable; } > requirements/constraints.lock.tmp
	mv requirements/constraints.lock.tmp requirements/constraints.txt

clean:
	rm -rf $(TEST_RUNS) .pytest_cache
