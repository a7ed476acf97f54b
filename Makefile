# policybot: `make run` (console bot) and `make test` do all the set-up on a fresh clone.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
# Test processes (pytest-xdist): two per core by default, since many tests wait on a server or
# a subprocess they started (on 2 cores: 88 s instead of 120 s for SQLite); `make test
# TEST_WORKERS=0` runs serially.
TEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) * 2 )))
PYTEST := $(BIN)/pytest -q -n $(TEST_WORKERS)

.PHONY: install browser db run serve catalogue test test-network lint typecheck pytest pytest-postgres lock bench clean help

help:
	@echo "make run    - set up, migrate the SQLite database and start the console bot"
	@echo "make test   - set up, then ruff, mypy and pytest (SQLite, and PostgreSQL if it answers)"
	@echo "make test-network - the tests that need the package index (CI runs them too)"
	@echo "make serve  - set up, then start the Slack bot (settings from the environment or .env)"
	@echo "make catalogue - set up, then serve the catalogue alone at http://127.0.0.1:3000/catalogue/ (no Slack)"
	@echo "make bench  - run the benchmarks in bench/ and write docs/benchmarks.md"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres]'
	@touch $(STAMP)

install: $(STAMP)

# The catalogue's browser tests drive Debian's chromium through chromium-driver. Installed
# here when missing and we are root; otherwise those tests skip and say why.
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "== installing chromium and chromium-driver for the catalogue's browser tests"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			chromium chromium-driver >/dev/null; } \
			|| echo "## could not install chromium: the browser tests will be skipped"; \
	else \
		echo "## no chromium/chromedriver and not root: the browser tests will be skipped"; \
	fi

db: install
	$(BIN)/policybot db upgrade

run: db
	$(BIN)/policybot chat

serve: db
	$(BIN)/policybot serve

catalogue: db
	$(BIN)/policybot catalogue serve

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

# The default run leaves out the tests marked `network` (they install from the package index).
pytest: install browser
	$(PYTEST) -m "not network"

# The same suite on PostgreSQL when a server answers; says so plainly when none does.
pytest-postgres: install browser
	@if $(BIN)/python -m tests.pg_available "$(PG_URL)"; then \
		echo "== PostgreSQL answers at $(PG_URL): running the suite against it"; \
		TEST_DATABASE_URL="$(PG_URL)" $(PYTEST) -m "not network"; \
	else \
		echo "##################################################################"; \
		echo "## SKIPPED: the suite did NOT run on PostgreSQL."; \
		echo "## No server answers at $(PG_URL)"; \
		echo "## Start one, or set PG_URL=postgresql+psycopg://user@host:port/db"; \
		echo "##################################################################"; \
	fi

test: lint typecheck pytest pytest-postgres

# The `network` group, on SQLite and on PostgreSQL when it answers; CI runs it after `make test`.
test-network: install
	$(BIN)/pytest -q -m network
	@if $(BIN)/python -m tests.pg_available "$(PG_URL)"; then \
		TEST_DATABASE_URL="$(PG_URL)" $(BIN)/pytest -q -m network; \
	else \
		echo "## SKIPPED: the network group did NOT run on PostgreSQL (no server at $(PG_URL))"; \
	fi

# requirements.lock: the runtime dependencies (with the postgres extra) at the versions in
# .venv, for the Docker image. Run after changing dependencies in pyproject.toml.
lock: install
	rm -rf $(VENV)-lock build
	$(PYTHON) -m venv $(VENV)-lock
	$(BIN)/python -m pip freeze --exclude-editable > $(VENV)-lock/constraints.txt
	$(VENV)-lock/bin/python -m pip install --quiet --constraint $(VENV)-lock/constraints.txt '.[postgres]'
	{ echo "# Runtime dependencies of policybot (with the postgres extra), pinned: the Docker image"; \
	  echo "# installs exactly these. Regenerate with \`make lock\` after changing pyproject.toml."; \
	  $(VENV)-lock/bin/python -m pip freeze --exclude-editable | grep -v '^policybot @'; } > requirements.lock
	rm -rf $(VENV)-lock build

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache policybot.db*
