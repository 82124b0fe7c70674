# The two commands of the README. Each installs what it needs first (scripts/setup.sh).
PYTHON ?= python3

.PHONY: setup run test lint bench

setup:
	bash scripts/setup.sh

## main job on the embedded default: mesh the three reference designs, write pictures
run: setup
	$(PYTHON) -m pipeline mesh all --level ci --full

## the default test suite (slow studies are excluded by the `slow` marker)
test: setup
	$(PYTHON) -m pytest

lint:
	$(PYTHON) -m ruff check pipeline geometries tests benchmarks

bench:
	for b in benchmarks/bench_*.py; do $(PYTHON) $$b || exit 1; done
