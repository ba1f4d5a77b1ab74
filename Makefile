# The README's two commands: `make demo` (build the examples, run the demo) and `make test`
# (every test). Both set up what they need: a virtual environment in .venv with maturin,
# numpy and pytest from the package index.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.deps-installed

.PHONY: demo test develop cargo-test pytest clean

$(STAMP): examples/requirements-test.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r examples/requirements-test.txt
	touch $(STAMP)

develop: $(STAMP)
	cd examples && VIRTUAL_ENV=$(CURDIR)/$(VENV) $(CURDIR)/$(VENV)/bin/maturin develop --release --quiet

demo: develop
	$(PY) examples/demo.py

cargo-test: $(STAMP)
	PYO3_PYTHON=$(CURDIR)/$(PY) cargo test --workspace --quiet

pytest: develop
	$(PY) -m pytest -q examples/tests

test: cargo-test pytest

clean:
	rm -rf $(VENV) target
