# make run  - set up .venv if needed, then run the pipeline: raw/ -> warehouse/
# make test - set up .venv if needed, then run the tests
# make bench - the speed benchmark (bench/run.py; needs ../shared/corpus/dev)
#
# Set-up is idempotent: .venv is created once, and the packages are (re)installed only when
# requirements.txt or pyproject.toml is newer than the stamp file in .venv.

VENV   := .venv
STAMP  := $(VENV)/.newsflow-installed
PYTHON ?= $(shell command -v python3.11 >/dev/null 2>&1 && python3.11 -c '' >/dev/null 2>&1 \
            && echo python3.11 || echo python3)

.PHONY: run test bench setup clean-venv

run: $(STAMP)
	$(VENV)/bin/newsflow run

test: $(STAMP)
	$(VENV)/bin/python -m pytest -q

bench: $(STAMP)
	$(VENV)/bin/python bench/run.py

setup: $(STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements.txt pyproject.toml | $(VENV)/bin/python
	$(VENV)/bin/python -m pip install -q -r requirements.txt
	$(VENV)/bin/python -m pip install -q -e . --no-deps
	touch $@

clean-venv:
	rm -rf $(VENV)
