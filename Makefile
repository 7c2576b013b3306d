# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.lock pyproject.toml | cksum | cut -d' ' -f1)
PORT ?= 5000
TRANSLATIONS := platform/engpass/translations
MO_FILES := $(patsubst %.po,%.mo,$(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po))

.PHONY: install run test lint format lock messages clean bench

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	rm -f $(VENV)/.installed-*
	touch $@

%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile --statistics -i $< -o $@

install: $(STAMP) $(MO_FILES)

run: install
	$(BIN)/engpass db upgrade
	$(BIN)/engpass demo
	@echo "Engpass on http://127.0.0.1:$(PORT)  (Ctrl-C stops web, worker and scheduler)"
	@# The e-mails' links point to the port the web listens on, unless ENGPASS_BASE_URL says otherwise. Set
	@# here, not from PORT in the app: honcho gives the worker and beat ports of their own (PORT+100, +200).
	ENGPASS_BASE_URL="$${ENGPASS_BASE_URL:-http://127.0.0.1:$(PORT)}" PORT=$(PORT) \
	  exec $(BIN)/honcho --procfile deploy/Procfile.dev --app-root . start --port $(PORT)

# The OpenID provider the single sign-on tests start (tests/support/oidc/, Node 20).
OIDC_PROVIDER := tests/support/oidc/node_modules/.package-lock.json
$(OIDC_PROVIDER): tests/support/oidc/package-lock.json
	npm ci --prefix tests/support/oidc --no-audit --no-fund

test: install $(OIDC_PROVIDER)
	$(BIN)/pytest $(PYTEST_ARGS)

# Not part of `make test`: 1,000 organizations, the real workers, gunicorn under wrk (docs/performance.md).
# PostgreSQL when ENGPASS_TEST_DATABASE_URL is set, SQLite otherwise; BENCH_ORGS=100 for a quick run.
bench: install
	$(BIN)/python bench/run.py

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-extract the translatable strings; then translate the new ones in messages.po.
messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o $(TRANSLATIONS)/messages.pot platform templates
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching

# Pin every dependency to the versions a fresh environment resolves today.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet '.[dev]'
	.lock-venv/bin/python -m pip freeze --exclude engpass > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
