# Two commands on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 5000
# Empty: gunicorn.conf.py's count, one worker a core.
WORKERS ?=
# The app reads them too: with PUBLIC_BASE_URL unset, plates link to where it serves (config.py).
export HOST PORT
export FLASK_APP := webapp:create_app

.PHONY: run test check deps dev-deps system-deps translations migrate seed clean

$(VENV)/.deps: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-deps: requirements-dev.txt $(VENV)/.deps
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

# Front-end libraries (Leaflet; axe-core for the browser tests, TypeScript for the JS type check)
# from package-lock.json; Flask serves the allow-listed files from node_modules (webapp/vendor).
# npm ci only in this folder.
node_modules/.installed: package-lock.json package.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

deps: $(VENV)/.deps translations node_modules/.installed
dev-deps: $(VENV)/.dev-deps translations node_modules/.installed

system-deps:
	bash scripts/system-deps.sh

# Compiled catalogues are build output (not committed).
translations: $(VENV)/.deps
	$(VENV)/bin/pybabel compile --statistics -d webapp/translations

migrate: deps
	$(VENV)/bin/flask db upgrade heads

seed: migrate
	$(VENV)/bin/flask seed-demo --if-empty

# Migrations run once here, before the workers start: never in each worker.
run: seed
	@echo ""
	@echo "  Gridwalk: http://$(HOST):$(PORT)/"
	@echo "  Plates and the app link: $${PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}"
	@$(VENV)/bin/flask demo-logins
	@echo ""
	$(VENV)/bin/gunicorn --bind $(HOST):$(PORT) $(if $(WORKERS),--workers $(WORKERS)) --access-logfile - "webapp:create_app()"

# System packages first: npm (for node_modules) may be among them.
test: system-deps dev-deps
	$(PY) -m pytest

# The fast loop while changing code (CONTRIBUTING.md): SQLite only, no browser, nothing slow.
check: dev-deps
	GRIDWALK_TEST_BACKENDS=sqlite $(PY) -m pytest -q -x -n 2 -m "not slow and not e2e"

clean:
	rm -rf $(VENV) instance .pytest_cache

# Benchmarks (issue 7): every figure against its limit on SQLite and PostgreSQL → BENCHMARKS.md.
# Not part of `make test` (tests/test_bench_smoke.py runs a tiny version there). About 7 min with the
# districts kept in instance/bench/, 10 min for a first run that generates them. See BENCHMARKS.md.
# Then figure 8 (issue 15, ~1.5 min): the field app's unlock and search with sealed records, and
# figure 9 (issue 16, under a minute with the demo kept): the offline map; and figure 10 (issue 17,
# about a minute): a sync on the wire, protocol 1 and 2, bytes with headers, requests, connections;
# and figure 11 (issue 17, about two minutes): a phone's pull against its area's history; each its
# own section of the BENCHMARKS.md just written.
.PHONY: bench
bench: dev-deps system-deps
	$(PY) -m bench.run
	$(PY) -m bench.fieldapp_search
	$(PY) -m bench.fieldapp_map
	$(PY) -m bench.wire --write
	$(PY) -m bench.wire --backend postgresql --write
	$(PY) -m bench.pull_history --write
	$(PY) -m bench.sqlite_writers --write

# Reliability (issue 8): the long runs; their latest figures are in RELIABILITY.md.
# `make test` runs short versions (tests/test_fuzz_api.py ~200 cases, tests/test_faults.py 10 kills).
.PHONY: load fuzz faults
# Then the open model (issue 17): syncs arriving at fixed rates, the highest with p99 < 500 ms.
load: dev-deps system-deps
	$(PY) -m scripts.load --devices 200 --seconds 60 --workers 8
	$(PY) -m scripts.load_open --phones 64 --rates 10,20,30,40,60,80,100,130,160,200,215,230 --step 15 $(if $(WORKERS),--workers $(WORKERS))
fuzz: dev-deps system-deps
	FUZZ_CASES=2400 $(PY) -m pytest -q -p no:cacheprovider tests/test_fuzz_api.py
faults: dev-deps system-deps
	FAULT_TRIALS=200 FAULT_FULL_RESTART_EVERY=10 $(PY) -m pytest -q -p no:cacheprovider tests/test_faults.py
