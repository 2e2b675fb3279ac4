# Two set-up commands: `make demo` (the main job) and `make test` (the whole suite).
# Each builds .venv and installs what it needs by itself.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench venv clean locale

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/digiweetjes demo

lint: $(STAMP)
	$(VENV)/bin/ruff check .

# pytest exits 5 when it collected no tests; that is a failure here, not a pass.
test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

# Click's own messages in Dutch: compile the catalog after editing the .po (the .mo is committed).
LOCALE := digiweetjes/cli/locale/nl/LC_MESSAGES/digiweetjes_cli
locale: $(STAMP)
	$(PY) -c 'from babel.messages import mofile, pofile; \
	  mofile.write_mo(open("$(LOCALE).mo", "wb"), pofile.read_po(open("$(LOCALE).po", "rb")))'

bench: $(STAMP)
	$(VENV)/bin/digiweetjes bench all

clean:
	rm -rf $(VENV) site outbox subscribers.db .pytest_cache
