# make run (the UI) | baseline | test | bench | clean      (each sets up .venv first through scripts/bootstrap.sh)
SHELL := /bin/bash
PY := .venv/bin/python
# Solara's front end is served from the local folder that scripts/fetch_solara_assets.sh fills
export SOLARA_ASSETS_PROXY_CACHE_DIR ?= $(CURDIR)/.solara-assets

.PHONY: bootstrap run baseline test bench clean

bootstrap:
	@scripts/bootstrap.sh

run: bootstrap
	.venv/bin/reesim ui --host 127.0.0.1 --port 8765

# the baseline run with its tables and plots, without the UI
baseline: bootstrap
	.venv/bin/reesim run --scenario baseline --out out/baseline

# make's own status on failure is always 2: pytest's code is printed, and written to
# $PYTEST_EXIT_FILE when that is set (.ci/run uses it)
test: bootstrap
	@rc=0; $(PY) -m pytest -q $(PYTEST_ARGS) || rc=$$?; \
	[ -z "$$PYTEST_EXIT_FILE" ] || echo $$rc > "$$PYTEST_EXIT_FILE"; \
	if [ $$rc = 5 ]; then echo "make test: FAILED: pytest collected no tests (exit 5)" >&2; \
	elif [ $$rc != 0 ]; then echo "make test: FAILED: pytest exited with $$rc" >&2; fi; \
	exit $$rc

# benchmarks/bench_*.py, each a script run on its own (not collected by pytest)
bench: bootstrap
	@shopt -s nullglob; files=(benchmarks/bench_*.py); \
	[ $${#files[@]} -gt 0 ] || { echo "make bench: no benchmarks/bench_*.py yet"; exit 0; }; \
	for f in "$${files[@]}"; do echo "== $$f"; $(PY) "$$f" || exit $$?; done

clean:
	rm -rf out build dist .pytest_cache .hypothesis *.egg-info
	find . -path ./.venv -prune -o -name __pycache__ -type d -exec rm -rf {} +
	@echo "kept .venv and .solara-assets (rm -rf them for a full reset)"
