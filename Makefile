# Every target sets up what it needs: a fresh machine needs only python3 (3.11+) and make.
# The virtualenv is built from uv.lock, so every machine gets the same pinned versions.

PYTHON ?= python3
UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
VENV_PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_PYTHON_DOWNLOADS := never
PORT ?= 3000
# The Lambda runtime's Python, where this machine has it (pyenv); PY= names any other.
PY313 ?= /root/.pyenv/versions/3.13.0/bin/python3

.PHONY: help venv serve invoke test lint typecheck test-python test-py313 clean

help:
	@echo "make serve                 run the API at http://127.0.0.1:$(PORT) (embedded DynamoDB)"
	@echo "make invoke EVENT=events/x.json   run the handler on one API Gateway event"
	@echo "make test                  lint, type-check and run the whole test suite"
	@echo "make test-python PY=python3.x  the test suite on another interpreter (own venv, same lock)"
	@echo "make test-py313            the test suite on Python 3.13, the Lambda runtime's version"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

venv: $(VENV)/.synced

serve: venv
	PORT=$(PORT) $(VENV_PY) scripts/local_server.py

invoke: venv
	@test -n "$(EVENT)" || { echo "usage: make invoke EVENT=events/<file>.json"; exit 2; }
	$(VENV_PY) scripts/invoke.py $(EVENT)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy

test: lint typecheck
	$(VENV)/bin/pytest

# A virtualenv per interpreter (.venv-py313, ...), synced from the same uv.lock as .venv.
test-python: | $(UV)
	@test -n "$(PY)" || { echo "usage: make test-python PY=/path/to/python3.x"; exit 2; }
	@test -x "$(PY)" || { echo "$(PY): no such interpreter here, so the suite cannot run on it"; exit 2; }
	@env="$(VENV)-$$("$(PY)" -c 'import sys; print("py%d%d" % sys.version_info[:2])')"; \
	echo "test suite on $$("$(PY)" --version) in $$env"; \
	UV_PROJECT_ENVIRONMENT="$$env" $(UV) sync --frozen --python "$(PY)" && "$$env/bin/pytest"

test-py313:
	@$(MAKE) --no-print-directory test-python PY=$(PY313)

clean:
	rm -rf $(VENV) $(VENV)-py* $(TOOLS) .cache .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
