# The project's interface: CI and the README call only these targets.
# Every target that needs Python sets up .venv first (from a fresh clone: Python 3.11 and make).

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
ASSIGNMENT ?= 01_autograd
JOBS ?= 2
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# nbgrader runs `alembic` from PATH: the venv's tools come first.
export PATH := $(BIN):$(PATH)

.DEFAULT_GOAL := help
.PHONY: help setup test lint book publish lab release grade bench clean

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

setup: $(STAMP)  ## create .venv with the pinned dependencies and this package

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $@

test: export OMP_NUM_THREADS := 1
# Groups and their order: tests/conftest.py (and tests/test_schedule.py, which checks that
# xdist keeps them). nbval runs the exercises notebooks; the lessons execute in the book build
# (tests/test_book.py), once.
test: $(STAMP)  ## lint, then the whole test suite (notebooks, grading pipeline, book)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@$(BIN)/python -m pytest -n $(JOBS) --dist loadgroup --no-loadscope-reorder --durations=25 \
	  --nbval-lax tests $(wildcard course/source/*/exercises.ipynb); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: a failure here, not a pass" >&2; exit 1; fi; \
	  exit $$rc

lint: $(STAMP)  ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

book: $(STAMP)  ## build the book (executes lessons, cached) into book/_build/html
	$(BIN)/python -m autograder.publishing.book build

publish: $(STAMP)  ## write the student branch's tree (book/chapters included) into DIR=...
	@test -n "$(DIR)" || { echo "usage: make publish DIR=path/to/student-branch-checkout" >&2; exit 2; }
	$(BIN)/python -m autograder.publishing.book publish $(DIR)

lab: $(STAMP)  ## JupyterLab 4 on the course, with nbgrader's extensions
	cd course && $(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root,)

release: $(STAMP)  ## student version of ASSIGNMENT into course/release/ASSIGNMENT
	$(BIN)/autograder release $(ASSIGNMENT)

grade: $(STAMP)  ## grade course/submitted/*/ASSIGNMENT (sandboxed) into course/grades/ASSIGNMENT.csv
	$(BIN)/autograder grade $(ASSIGNMENT) --jobs $(JOBS)

bench: $(STAMP)  ## timing and memory tables (medians of 3)
	$(BIN)/python bench/run.py

clean:  ## remove generated files (keeps .venv; `rm -rf .venv` for a clean slate)
	rm -rf book/_build book/chapters course/release course/autograded course/feedback \
	       course/exchange course/grades tests/artifacts bench/results .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path './.venv/*' -prune -exec rm -rf {} +
