# Two commands for a newcomer: `make run` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run demo serve test lint bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@# bytecode for the editable install (pip compiles only what it copies): every hook is a
	@# fresh process, and with PYTHONDONTWRITEBYTECODE=1 it would compile each module each time
	$(BIN)/python -m compileall -q lifecycle server
	touch $(STAMP)

run: $(STAMP)  ## the demo: store, retrieve, expire and clean up on the embedded SQLite store
	$(BIN)/python -m lifecycle.demo

serve:  ## the MCP server over stdio (stdout: MCP messages only; a first build reports on stderr)
	@$(MAKE) --no-print-directory $(STAMP) 1>&2
	@$(BIN)/memory-lifecycle serve

# pytest-xdist workers: more than cores, as most tests wait on subprocesses and servers
# (tests/support/parallel.py); `make test TEST_WORKERS=0` runs in one process
TEST_WORKERS ?= 4

# The run writes bytecode even where PYTHONDONTWRITEBYTECODE=1 is set: otherwise each
# worker parses and rewrites (pytest's asserts) every test module again, ~3 s of CPU each.
test: $(STAMP)  ## the whole suite (PostgreSQL tests run when MEMORY_LIFECYCLE_TEST_POSTGRES is set)
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -q -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench.run_all $(BENCH_ARGS)

DOCS_STAMP := $(VENV)/.docs-installed

$(DOCS_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,docs]'
	touch $(DOCS_STAMP)

# the manual (docs/*.md, the reference pages generated from the code) as a static site in
# site/; --strict fails on a broken link or anchor. NO_MKDOCS_2_WARNING: Material's banner
docs: $(DOCS_STAMP)  ## the docs site in site/ (strict: a broken link or anchor fails)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info site
