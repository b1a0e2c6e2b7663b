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

.PHONY: help venv system-deps serve invoke test lint typecheck bench bench-package load test-python test-py313 clean

help:
	@echo "make serve                 run the API at http://127.0.0.1:$(PORT) (embedded DynamoDB)"
	@echo "make invoke EVENT=events/x.json   run the handler on one API Gateway event"
	@echo "make test                  lint, type-check and run the whole test suite"
	@echo "make bench                 benchmark every action on this machine (bench/results.json, .png)"
	@echo "make bench-package         only the artifact's section: size, unzip and import, before/after"
	@echo "make load                  64 keep-alive clients against the runner, 1/2/4 workers (bench/load*)"
	@echo "make test-python PY=python3.x  the test suite on another interpreter (own venv, same lock)"
	@echo "make test-py313            the test suite on Python 3.13, the Lambda runtime's version"
	@echo "make build / make package  the Lambda artifact (arm64, python3.13) / its zip"
	@echo "make sam-validate / sam-build  sam validate --lint / sam build (SAM CLI in its own venv)"

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION)

$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen --python $(PYTHON)
	touch $@

venv: $(VENV)/.synced

system-deps:
	@scripts/install-system-deps.sh

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

# The suite runs on the default python3, then on the template's runtime version where this
# machine has that interpreter (it does here and in CI; elsewhere the note says it did not run).
test: system-deps lint typecheck
	$(VENV)/bin/pytest
	@if [ -x "$(PY313)" ]; then $(MAKE) --no-print-directory test-py313; \
	else echo "note: $(PY313) is not here, so the suite did not run on Python 3.13"; fi
	@[ -d ../shared/vendor-sdk ] || echo "note: ../shared/vendor-sdk is not here, so the Go SDK interop test did not run"

# A virtualenv per interpreter (.venv-py313, ...), synced from the same uv.lock as .venv.
test-python: | $(UV)
	@test -n "$(PY)" || { echo "usage: make test-python PY=/path/to/python3.x"; exit 2; }
	@test -x "$(PY)" || { echo "$(PY): no such interpreter here, so the suite cannot run on it"; exit 2; }
	@env="$(VENV)-$$("$(PY)" -c 'import sys; print("py%d%d" % sys.version_info[:2])')"; \
	echo "test suite on $$("$(PY)" --version) in $$env"; \
	UV_PROJECT_ENVIRONMENT="$$env" $(UV) sync --frozen --python "$(PY)" && "$$env/bin/pytest" $(PYTEST_ARGS)

# The runtime's interpreter runs everything but the long real-engine runs (marker heavy), which
# test the engine and the concurrency of the same code and ran on the default python just before.
test-py313:
	@$(MAKE) --no-print-directory test-python PY=$(PY313) PYTEST_ARGS='-m "not heavy"'
	@echo "note: on Python 3.13 the suite ran without the heavy real-engine runs (marker heavy), which ran on $$($(PYTHON) --version) above"

clean:
	rm -rf $(VENV) $(VENV)-py* $(TOOLS) .cache .aws-sam build .pytest_cache .mypy_cache .ruff_cache .hypothesis

# --- Lambda artifact and SAM --------------------------------------------------------------------
# Absolute, because `sam build` runs the build-<Function> targets from a scratch directory.
REPO := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
PIP_VERSION := 26.3
SAM_CLI_VERSION := 1.170.0
BUILD_PIP_STAMP := $(TOOLS)/pip/.pip-$(PIP_VERSION)
SAM_STAMP := $(TOOLS)/sam/.aws-sam-cli-$(SAM_CLI_VERSION)
SAM := SAM_CLI_TELEMETRY=0 $(TOOLS)/sam/bin/sam
ARTIFACT_DIR ?= build/artifact
ARTIFACT_ZIP ?= build/function.zip

.PHONY: build package build-ConversationApiFunction build-MemberReaperFunction sam-validate sam-build

# The pip that installs the target's wheels, pinned so every machine installs them alike.
$(BUILD_PIP_STAMP): | $(UV)
	rm -rf $(TOOLS)/pip
	$(UV) venv --quiet --python $(PYTHON) $(TOOLS)/pip
	$(UV) pip install --quiet --python $(TOOLS)/pip/bin/python pip==$(PIP_VERSION)
	touch $@

# SAM CLI pins dozens of packages that clash with uv.lock, so it lives in its own virtualenv.
$(SAM_STAMP): | $(UV)
	rm -rf $(TOOLS)/sam
	$(UV) venv --quiet --python $(PYTHON) $(TOOLS)/sam
	$(UV) pip install --quiet --python $(TOOLS)/sam/bin/python aws-sam-cli==$(SAM_CLI_VERSION)
	touch $@

# The Lambda artifact (handler/ + runtime dependencies for arm64 CPython 3.13), no sam needed.
build: $(BUILD_PIP_STAMP)
	$(PYTHON) scripts/build_artifact.py build "$(ARTIFACT_DIR)"

package: build
	$(PYTHON) scripts/build_artifact.py zip "$(ARTIFACT_DIR)" "$(ARTIFACT_ZIP)"

# template.yaml's BuildMethod: makefile hooks; sam sets ARTIFACTS_DIR. Both functions run the same
# artifact (handler/ and its dependencies): the API's handler.app, the reaper's handler.reaper.
build-ConversationApiFunction build-MemberReaperFunction:
	$(MAKE) --no-print-directory -C "$(REPO)" build ARTIFACT_DIR="$(ARTIFACTS_DIR)"

sam-validate: $(SAM_STAMP)
	$(SAM) validate --lint

sam-build: $(SAM_STAMP)
	$(SAM) build

# After the build's variables: the package-size step uses the same pinned pip as `make build`.
# BENCH_ARGS passes options through, e.g. make bench BENCH_ARGS="--iterations 50 --no-package".
bench: system-deps venv $(BUILD_PIP_STAMP)
	$(VENV_PY) -m bench.run $(BENCH_ARGS)

# The package section alone, merged into bench/results.json; no DynamoDB Local needed.
bench-package: venv $(BUILD_PIP_STAMP)
	$(VENV_PY) -m bench.run --package-only $(BENCH_ARGS)

# The runner under load on DynamoDB Local: LOAD_ARGS="--clients 64 --seconds 20 --workers 1 2 4".
load: system-deps venv
	$(VENV_PY) -m bench.load $(LOAD_ARGS)
