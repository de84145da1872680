# Relais — the README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
DATA ?= var/demo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-fast lint bench install chromium xvfb dovecot i18n bundle clean fuzz screens

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## Start Relais with demo data in ./var/demo (opens the browser).
run: $(STAMP)
	$(VENV)/bin/relais --data-dir $(DATA) serve --demo

## Debian's chromium drives the browser tests (Playwright cannot download browsers here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium; }

## The tray test runs its own X server (Xvfb); pystray's X11 backend needs nothing more from Debian.
xvfb:
	@command -v Xvfb >/dev/null 2>&1 || { \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq xvfb; }

## The mailbox tests run Debian's dovecot as a real IMAP server (tests/imap_server.py); the package's
## own service is not needed and may stay stopped.
dovecot:
	@test -x /usr/sbin/dovecot || { \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq dovecot-imapd; }

## PyInstaller builds for this machine: dist/onefile/relais and dist/onedir/relais/relais (skipped when
## nothing changed since the last build).
bundle: $(STAMP)
	$(PY) bundle/build.py

lint: $(STAMP)
	$(VENV)/bin/ruff check webapp tests benchmarks tools bundle
	$(VENV)/bin/ruff format --check webapp tests benchmarks tools bundle
	$(VENV)/bin/mypy

test: $(STAMP) chromium xvfb dovecot lint bundle
	$(VENV)/bin/pytest

## Every test but the browser, bundle and slow ones (markers: pyproject.toml, tests/conftest.py),
## on two processes (pytest-xdist); `make test` stays on one.
test-fast: $(STAMP) xvfb dovecot
	$(VENV)/bin/pytest -n 2 -m "not browser and not bundle and not slow"

## Property-based fuzzing (tests/test_fuzz_*.py) with 100,000 inputs per property; Hypothesis
## prints each one's count of inputs. `make test` runs the same suites with a few hundred each.
fuzz: $(STAMP)
	RELAIS_FUZZ_PROFILE=long $(VENV)/bin/pytest -p no:cacheprovider -q --timeout=0 \
	  --hypothesis-show-statistics tests/test_fuzz_*.py

## One script per job; the other modules of benchmarks/ are their parts (data, servers).
BENCHMARKS := startup scrada backoffice backoffice_ui econnector econnector_mappings econnector_shop \
  pos ui

bench: $(STAMP)
	@for name in $(BENCHMARKS); do echo "== benchmarks/$$name.py"; $(PY) benchmarks/$$name.py || exit 1; done

## Screenshots of each main page in French and Dutch (docs/screens/), from a demo office and register.
screens: $(STAMP) chromium
	$(PY) tools/screens.py

i18n: $(STAMP)
	$(PY) tools/i18n.py

clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache
