# cmnet — set-up and checks. `make test` is the command CI runs (.ci/run).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

PROFILE ?= smoke

.PHONY: setup test bench book clean

# the virtual environment, rebuilt when the pinned dependencies change
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

setup: $(VENV)/.installed

test: $(VENV)/.installed
	$(PY) -m pytest -q

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_core.py
	$(PY) benchmarks/bench_cache.py
	$(PY) benchmarks/bench_train.py

# the main job: run every notebook for $(PROFILE) (papermill) and build the book
book: $(VENV)/.installed
	$(VENV)/bin/cmnet book --profile $(PROFILE)
	@echo "open _build/html/index.html"

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info _build
