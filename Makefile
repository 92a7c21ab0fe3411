# cmnet — set-up and checks. `make test` is the command CI runs (.ci/run).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python

PROFILE ?= smoke

.PHONY: setup test bench book publish repairs tuning dose draw2 detector-study pins mutation clean

# the virtual environment, rebuilt when the pinned dependencies change
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

setup: $(VENV)/.installed

test: $(VENV)/.installed
	$(PY) -m pytest -q

bench: $(VENV)/.installed
	$(PY) benchmarks/bench_core.py
	$(PY) benchmarks/bench_cache.py
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_artifacts.py
	$(PY) benchmarks/bench_executor.py
	$(PY) benchmarks/bench_detectors.py

# the main job: run every notebook for $(PROFILE) (papermill) into _build/profiles/$(PROFILE)/
# and build the book there; the committed book is left alone
book: $(VENV)/.installed
	$(VENV)/bin/cmnet book --profile $(PROFILE)
	@echo "open _build/profiles/$(PROFILE)/_build/html/index.html"

# refresh the committed book (book/executed/, results/) from $(PROFILE)'s run, then commit it
publish: $(VENV)/.installed
	$(VENV)/bin/cmnet book --profile $(PROFILE) --publish
	@echo "open _build/html/index.html; git add book/executed results && git commit"

# the repairs one at a time on held-out SynthME (params/cpu_repairs.yaml; 84 min measured on 2 shared cores):
# twelve studies in one submission (both workers busy throughout), their tables under
# results/cpu_repairs-*/, which chapter 10 reads; commit them
repairs: $(VENV)/.installed
	$(PY) -c "from cmnet.study.run import run_variants; from cmnet.variants import REPAIR_ABLATIONS; \
	run_variants('cpu_repairs', ['cmnet_all_repairs', 'cmnet_printed', *REPAIR_ABLATIONS], publish=True)"
	@echo "git add results/cpu_repairs-* && git commit"

# tuning on a SynthME the book never reports (params/cpu_tuning.yaml, synth_seed 2): baseline, CMNet,
# MMNet and oracle k at three learning rates each, 32 epochs, the held-out folds evaluated every epoch;
# the main edition takes the chosen epochs and rates (chapter 7 shows the table). Commit results/cpu_tuning-*
tuning: $(VENV)/.installed
	$(PY) tools/sensitivity.py tuning
	@echo "git add results/cpu_tuning-* && git commit"

# the dose-response over motion strength (params/cpu_dose05, cpu_dose1, cpu_dose2: baseline, CMNet,
# oracle k, MMNet and the plain classifier, the tuned rates and epochs) and, at difficulty 0.5, the
# controls; then the second draw (params/cpu_draw2.yaml, synth_seed 3). Commit results/cpu_dose*-*, cpu_draw2-*
dose: $(VENV)/.installed
	$(PY) tools/sensitivity.py dose
	@echo "git add results/cpu_dose* && git commit"

draw2: $(VENV)/.installed
	$(PY) tools/sensitivity.py draw2
	@echo "git add results/cpu_draw2-* && git commit"

# the Haar-vs-dlib study (params/cpu_dlib.yaml): the cpu design's baseline, seed 0, with faces
# from Haar (cpu-baseline: its finished folds are reused) and from dlib's landmarks (cpu_dlib-baseline),
# then Δ = dlib − Haar with its 95 % interval; 3 folds each, about as long as one seed of cpu-baseline
detector-study: $(VENV)/.installed
	$(VENV)/bin/cmnet study params/cpu.yaml --variant baseline --set seeds=[0] --set results_dir=_build/results
	$(VENV)/bin/cmnet study params/cpu_dlib.yaml --variant baseline --set results_dir=_build/results
	$(PY) tools/detector_study.py

# the pinned dependencies resolve to wheels for every supported Python (asks the package index)
pins: $(VENV)/.installed
	$(PY) tools/check_pins.py

# mutation testing of the modules that make the book's numbers (mutmut, pinned in the
# `mutation` extra): a measurement, not a CI step; about an hour on 2 cores from scratch,
# resumes where it stopped; report in benchmarks/results/mutation.md
mutation: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[mutation]"
	$(PY) tools/mutation.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info _build mutants
