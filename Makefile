# Two commands for a fresh machine:  `make demo`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check -q
DEMO   ?= demo_out

.PHONY: install install-test demo test bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip setuptools wheel

$(VENV)/.installed: $(VENV)/bin/python setup.cfg pyproject.toml
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(VENV)/bin/archgym sweep experiments/studies/quickstart.yaml --store $(DEMO)/quickstart.db
	$(VENV)/bin/archgym report $(DEMO)/quickstart.db --out $(DEMO)/report
	$(VENV)/bin/archgym compare $(DEMO)/quickstart.db

test: install-test
	$(PY) -m pytest

bench: install-test
	for b in experiments/benchmarks/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO) build *.egg-info .pytest_cache .hypothesis
