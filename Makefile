# Two commands for a fresh machine:  `make demo`  and  `make test`  (and `make docs` for the site).
# Installs print what they install and pip's own progress (no -q: a silent minute looks like a hang).
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
DEMO   ?= demo_out
SITE   ?= site

.PHONY: install install-test install-docs demo test docs bench clean

$(VENV)/bin/python:
	@echo "==> creating the virtual environment $(VENV) (Python: $$($(PYTHON) --version))"
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip setuptools wheel

$(VENV)/.installed: $(VENV)/bin/python setup.cfg pyproject.toml
	@echo "==> installing archgym and its dependencies (numpy, pandas, gymnasium, scikit-learn, numba, matplotlib, ...)"
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	@echo "==> installing the test extras (pytest, hypothesis, torch 2.13.0 CPU, stable-baselines3, dask, optuna, onnx, mkdocs, ...: about 1.2 GB more, 1.9 GB in .venv in all)"
	$(PIP) install -e ".[test]"
	touch $@

$(VENV)/.installed-docs: $(VENV)/.installed
	@echo "==> installing the documentation tools (mkdocs-material, mkdocstrings)"
	$(PIP) install -e ".[docs]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-docs: $(VENV)/.installed-docs

demo: install
	@echo "==> running experiments/studies/quickstart.yaml into $(DEMO)/"
	$(VENV)/bin/archgym sweep experiments/studies/quickstart.yaml --store $(DEMO)/quickstart.db
	$(VENV)/bin/archgym report $(DEMO)/quickstart.db --out $(DEMO)/report
	$(VENV)/bin/archgym compare $(DEMO)/quickstart.db

test: install-test
	$(PY) -m pytest

docs: install-docs
	@echo "==> building the documentation site into $(SITE)/ (open $(SITE)/index.html)"
	NO_MKDOCS_2_WARNING=1 $(PY) -m mkdocs build --strict --site-dir $(SITE)

bench: install-test
	for b in experiments/benchmarks/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO) $(SITE) build *.egg-info .pytest_cache .hypothesis
