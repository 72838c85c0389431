# nash-companion: `make figures` runs every notebook, `make test` runs the tests.
#   make figures                      # cpu profile (default), writes figures/
#   make figures PROFILE=smoke        # seconds; writes build/figures/smoke/
#   make figures ONLY=fig3_layer_time_vs_seqlen
#   make figures FULL=1               # also the notebooks left out of the 2-hour cpu budget (runner.FULL_ONLY)
#   make figures FORCE=1              # also the notebooks that are current (a warm re-run skips them: build/stamps)
#   make figures PROFILE=smoke SET="repeats=3 student.steps=100"   # overrides (nashlib.settings)
#   make figures/fig3_layer_time_vs_seqlen.png   # one figure, by name (cpu profile)
#   make test                         # unit tests + every notebook under nbval (smoke profile)
#   make site                         # static site of the executed notebooks (after make figures)
# The environment is a .venv made on first use from requirements.lock (exact versions of every package);
# torch is installed first, pinned, so that nothing else pulls in a different build. `make lock` refreshes
# the lock file from pyproject.toml. Override with TORCH_SPEC="torch==X" or PYTHON=python3.12.

PYTHON     ?= python3
VENV       ?= .venv
TORCH_SPEC ?= torch==2.13.0
PROFILE    ?= cpu
ONLY       ?=
FULL       ?=
FORCE      ?=
SET        ?=
PY         := $(VENV)/bin/python
NOTEBOOKS  := $(basename $(notdir $(wildcard notebooks/*.py)))

.PHONY: figures test venv clean list lock site
.DEFAULT_GOAL := figures

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m nashlib.data.metrics setup-wordnet  # METEOR's WordNet into the venv (needs Debian wordnet-base)
	touch $@

# requirements.lock: every package at the version pip resolves for pyproject.toml (with the test extras) on
# this platform, torch first. Run after changing dependencies, then commit the lock file.
LOCK_VENV := build/lock-venv
lock:
	rm -rf $(LOCK_VENV) && $(PYTHON) -m venv $(LOCK_VENV)
	$(LOCK_VENV)/bin/python -m pip install --quiet "$(TORCH_SPEC)"
	$(LOCK_VENV)/bin/python -m pip install --quiet -e ".[test,site]"
	{ echo "# Exact versions for nash-companion, made by 'make lock' ($$($(LOCK_VENV)/bin/python --version)); torch first."; \
	  echo "$(TORCH_SPEC)"; \
	  $(LOCK_VENV)/bin/python -m pip freeze --exclude-editable | grep -v -i '^torch=='; } > requirements.lock
	rm -rf $(LOCK_VENV)

# the runner starts notebook kernels with the glibc allocator settings (nashlib/env.py) on Linux
figures: $(VENV)/.installed
	$(PY) -m nashlib.runner run --profile $(PROFILE) $(if $(ONLY),--only $(ONLY)) $(if $(FULL),--full) \
	    $(if $(FORCE),--force) $(foreach s,$(SET),--set $(s))

# one figure by name, e.g. `make figures/fig2_decoder_depth_speed.png` (cebra-figures style)
figures/%.png: notebooks/%.py $(VENV)/.installed
	$(PY) -m nashlib.runner run --profile cpu --only $* $(if $(FORCE),--force)

# the static site of the executed notebooks, README and REPORT.md (Jupyter Book 1, offline), from the last
# `make figures` of PROFILE: build/site/<profile>/_build/html/index.html
site: $(VENV)/.installed
	$(PY) book/build.py --profile $(PROFILE)

list: $(VENV)/.installed
	$(PY) -m nashlib.runner list

# nbval's kernels inherit pytest's environment, so the allocator settings go there
test: $(VENV)/.installed-test
	rm -rf build/nbval
	$(PY) -m nashlib.runner prepare --profile smoke --dest build/nbval
	env $$($(PY) -m nashlib.runner allocator-env) $(PY) -m pytest tests build/nbval --nbval-lax -p no:cacheprovider

clean:
	rm -rf build
