# Kerwen: the two commands are `make run` and `make test`. See README.md.
#
#   make run                  the whole system with demo data on http://127.0.0.1:$(PORT) (PORT=8000)
#   make test [ARGS="-k x"]   the whole test suite, pytest -n auto, against PostgreSQL and Redis
#   make lint                 ruff, import-linter, manage.py check, missing migrations
#   make messages             update and compile the Russian and Turkmen translations
#   make bench                tariff and declarations benchmarks, printed figures (bench-finder: 1M rows)
#   make totp                 the current second-factor code of the demo staff
#   make clean CONFIRM=yes    delete var/ (embedded database, Redis data, secret key, media)
#
# Without DATABASE_URL / REDIS_URL, run/test/lint use an embedded PostgreSQL and Redis (in var/):
# customs/devstack.py starts and stops them.

PYTHON ?= python3
PORT ?= 8000
ARGS ?=

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements.lock.installed
DEVSTACK := $(PY) -m customs.devstack

.PHONY: run test venv lint messages totp bench bench-finder bench-risk clean

run: venv
	@PORT=$(PORT) $(DEVSTACK) run

test: venv
	@$(DEVSTACK) test -- $(ARGS)

venv: $(STAMP)

$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Kerwen needs Python 3.11 or newer; $(PYTHON) is older (make PYTHON=python3.12 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV) \
		|| { rm -rf $(VENV); echo "Could not create $(VENV). On Debian/Ubuntu: apt-get install python3-venv"; exit 1; }

# Reinstall only when requirements.lock is newer than the stamp.
$(STAMP): requirements.lock | $(PY)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.lock
	@touch $(STAMP)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(DEVSTACK) exec -- sh -c '$(PY) manage.py check && $(PY) manage.py makemigrations --check --dry-run \
		&& $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null'

messages: venv
	$(DEVSTACK) exec -- sh -c '$(PY) manage.py makemessages -l ru -l tk --no-obsolete --ignore .venv --ignore var --ignore tests --ignore benchmarks \
		&& $(PY) manage.py compilemessages --ignore .venv'

bench: venv
	$(DEVSTACK) exec -- $(PY) -m benchmarks.tariff
	$(DEVSTACK) exec -- $(PY) -m benchmarks.declarations lodgement api
	$(DEVSTACK) exec -- $(PY) -m benchmarks.exchange

# Long: generates declarations up to a million (manage.py declarations_generate), then times the finder.
bench-finder: venv
	$(DEVSTACK) exec -- $(PY) -m benchmarks.declarations finder

# Risk: criteria evaluation in process against 1,000 criteria; scoring with the database; lodgement to
# lane through a real Celery worker at 50 declarations/s for a minute.
bench-risk: venv
	$(DEVSTACK) exec -- $(PY) -m benchmarks.risk all

totp: venv
	@$(PY) -m customs.demo_secrets

clean:
	@if [ "$(CONFIRM)" != "yes" ]; then \
		echo "This deletes var/: the embedded PostgreSQL and Redis data, the secret key, media, static files."; \
		echo "Stop 'make run' first, then: make clean CONFIRM=yes"; \
		exit 1; \
	fi
	@if [ -f var/postgres/postmaster.pid ]; then \
		echo "The embedded PostgreSQL in var/postgres is running (var/postgres/postmaster.pid): stop 'make run' first."; \
		exit 1; \
	fi
	rm -rf var
