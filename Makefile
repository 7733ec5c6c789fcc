# The two commands of the README: `make demo` and `make test` (each sets up what it needs).
# The first interpreter that really runs and is Python >= 3.11 (pyenv shims may exist but not run).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { command -v $$p; break; }; done)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
COUNTRIES ?= FR,DE

.PHONY: install demo test test-latest lock lint clean chromium postgresql haproxy bench catalogs

# Installs come from the committed lock (requirements/lock.txt: every dependency pinned with hashes,
# runtime + test + bench extras + build backend). pyproject.toml keeps ranges for library users;
# requirements/check_lock.py refuses a lock that no longer matches them (run `make lock`).
LOCK := requirements/lock.txt
RUNTIME_LOCK := requirements/runtime.txt
PIP_LOCKED := -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps

$(STAMP): pyproject.toml $(LOCK) $(RUNTIME_LOCK)
	@test -n "$(PYTHON)" || { echo "Python >= 3.11 is required: install it, or run make PYTHON=/path/to/python3.11"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required (found " + sys.version.split()[0] + ")")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python $(PIP_LOCKED) -r $(LOCK)
	$(BIN)/python requirements/check_lock.py
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

install: $(STAMP)

# Regenerate the locks from pyproject.toml (after a dependency change); existing pins are kept where
# they still fit. `make lock UPGRADE=1` moves every pin to the newest allowed version.
# runtime.txt (what the image installs) is resolved under lock.txt's pins, so both agree.
UV_COMPILE = $(BIN)/uv pip compile --quiet --generate-hashes --universal --python-version 3.11 \
	--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade)
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "uv==$$(sed -n 's/^uv==\([^ ;]*\).*/\1/p' $(LOCK) | head -n1)" 2>/dev/null \
		|| $(BIN)/python -m pip install --quiet uv
	$(UV_COMPILE) pyproject.toml requirements/tools.in --all-extras -o $(LOCK)
	$(UV_COMPILE) pyproject.toml requirements/build.in -c $(LOCK) -o $(RUNTIME_LOCK)
	@echo "locks written: $(LOCK) $(RUNTIME_LOCK) (commit them)"

# make demo DATABASE=postgresql REPLICAS=2: a throwaway PostgreSQL cluster, two replicas per country behind HAProxy.
demo: install $(if $(filter postgresql,$(DATABASE)),postgresql haproxy)
	$(BIN)/ncpeh demo --countries $(COUNTRIES) $(if $(DATABASE),--database $(DATABASE)) $(if $(REPLICAS),--replicas $(REPLICAS))

# ruff, then the import contracts of pyproject.toml [tool.importlinter] (layers, no cycles, terminology a library)
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# The portal's browser tests (tests/portal/) drive Debian's chromium package headless: no browser download.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing the Debian chromium package (browser tests of the portal)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	else \
		echo "note: $(CHROMIUM) is missing: install the Debian package 'chromium' (sudo apt-get install chromium);" \
		     "the portal's browser tests are skipped until then"; \
	fi

# The PostgreSQL backend's tests and `ncpeh demo --database postgresql --replicas 2` start throwaway clusters
# with Debian's postgresql binaries (initdb, pg_ctl) and put Debian's haproxy in front of the replicas.
# As root, the clusters run as the unprivileged user $(PG_USER) (PostgreSQL refuses to run as root).
PG_USER ?= ncpeh-pg
postgresql:
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing the Debian postgresql package (PostgreSQL backend tests, replicated demo)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
	else \
		echo "note: PostgreSQL binaries are missing: install the Debian package 'postgresql' (sudo apt-get install postgresql)"; \
	fi
	@if [ "$$(id -u)" = "0" ] && ! id -u $(PG_USER) >/dev/null 2>&1; then \
		useradd --system --no-create-home --shell /usr/sbin/nologin $(PG_USER); fi

haproxy:
	@if command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]; then :; \
	elif [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing the Debian haproxy package (load balancer in front of replicas)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy; \
	else \
		echo "note: haproxy is missing: install the Debian package 'haproxy' (sudo apt-get install haproxy)"; \
	fi

test: install lint chromium postgresql haproxy
	$(BIN)/pytest

# The tests against the newest versions pyproject.toml allows (not the lock), in a venv of its own:
# drift in dependencies and their data (CLDR, tzdata, ...) is seen on purpose, not by surprise.
LATEST_VENV ?= .venv-latest
test-latest: chromium postgresql haproxy
	rm -rf $(LATEST_VENV)
	$(PYTHON) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LATEST_VENV)/bin/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[test,bench]'
	@$(LATEST_VENV)/bin/python requirements/check_lock.py --drift
	$(LATEST_VENV)/bin/ruff check .
	$(LATEST_VENV)/bin/lint-imports
	$(LATEST_VENV)/bin/pytest

# Cross-border benchmark (not part of `make test`): FR and DE under gunicorn against a pass-through relay,
# about 9 minutes; figures in benchmarks/results/latest.json and latency.png. BENCH_ARGS="--duration 3 --rounds 2" etc.
BENCH_ARGS ?=
bench: install
	$(BIN)/python benchmarks/crossborder_bench.py $(BENCH_ARGS)

# Interface languages of the portal (Flask-Babel): re-extract the messages (babel.cfg) into
# gateway/translations/messages.pot and bring every catalog up to date (a new language is created);
# then translate the empty and fuzzy entries (tests/portal/test_catalogs.py names them). The English
# catalog is the source language: its empty entries are filled with the message itself. The .mo files
# are compiled at start (gateway/i18n.py) and in the image (Dockerfile), never committed.
CATALOG_LANGUAGES ?= fr en de es it pt nl pl
PROJECT_VERSION = $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
BABEL_KEYWORDS := -k _l -k lazy_gettext -k lazy_ngettext:1,2 -k lazy_pgettext:1c,2
catalogs: install
	$(BIN)/pybabel -q extract -F babel.cfg $(BABEL_KEYWORDS) -c TRANSLATORS: --add-location=file \
		--project=ncpeh-gateway --version=$(PROJECT_VERSION) --copyright-holder="ncpeh-gateway contributors" -o gateway/translations/messages.pot .
	for lang in $(CATALOG_LANGUAGES); do \
		$(BIN)/pybabel -q update -i gateway/translations/messages.pot -d gateway/translations -l $$lang --init-missing \
			|| exit 1; done
	$(BIN)/python -c 'from gateway.i18n import tidy_catalogs; tidy_catalogs()'

clean:
	rm -rf $(VENV) $(LATEST_VENV) var .pytest_cache .ruff_cache .import_linter_cache

# The README's docker-compose scenario for real (deploy/compose_test.py): build, up --wait, a DE->FR summary from
# the host, the "it" profile and an IT->FR summary, --profile it down -v. Where there is no engine it provides one
# (Debian, root: docker.io + dockerd, stopped at the end), Compose v2 from requirements/compose.txt and, without
# a registry, a Debian base image. BUILD_CA=<pem> for pip behind a TLS-intercepting proxy (default: $PIP_CERT).
# HA=1: also the "ha" profile (PostgreSQL, two replicas per country behind HAProxy, one killed, audit verified).
.PHONY: compose-test
compose-test: install
	$(BIN)/python deploy/compose_test.py $(if $(BUILD_CA),--build-ca $(BUILD_CA)) $(if $(HA),--ha)
