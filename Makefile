# The two commands of the README. Each installs what it needs first (scripts/setup.sh).
PYTHON ?= python3

.PHONY: setup run test lint bench

setup:
	bash scripts/setup.sh

## main job on the embedded default (a local Dask cluster, ci level): the whole chain for the
## Prius 2004 reference design: flux and loss maps, operating strategy, motor and drive-unit
## efficiency maps, WLTC energy; pictures under results/maps/prius_2004-ci/
RUN_DESIGN ?= prius_2004
run: setup
	$(PYTHON) -m pipeline map $(RUN_DESIGN) --level ci

## the default test suite (slow studies are excluded by the `slow` marker)
test: setup
	$(PYTHON) -m pytest

lint:
	$(PYTHON) -m ruff check pipeline geometries tests benchmarks

bench:
	for b in benchmarks/bench_*.py; do $(PYTHON) $$b || exit 1; done
