# One entry point for people and CI. `make test` is the README's test command; `make` alone lists
# the targets from their `## target: what it does` lines (one line each) and installs nothing.
VENV ?= venv
PY := $(VENV)/bin/python
STACK ?= dev
HELM := .cache/helm-v3.17.3/helm
# The real-pachd test tier's programs, built from Pachyderm's Go module (scripts/build_pachd.py).
# PACHYDERM_OKTA_SKIP_REAL_PACHD=1 opts out of the tier (no Go needed); otherwise it is built.
# Its login tests sign in at a stand-in Okta, a Node.js package installed from its lock file.
PACHD_BUILD := .cache/pachd-v2.12.2
OKTA_STANDIN := testkit/okta_standin/node_modules/.package-lock.json
REAL_PACHD := $(if $(PACHYDERM_OKTA_SKIP_REAL_PACHD),,$(PACHD_BUILD)/pachd $(OKTA_STANDIN))
# The real-CLI test tier's Pulumi CLI, built from Pulumi's Go module (scripts/build_pulumi.py).
# PACHYDERM_OKTA_SKIP_REAL_CLI=1 opts out of the tier (no Go needed); otherwise it is built.
PULUMI_BUILD := .cache/pulumi-v3.274.0
REAL_CLI := $(if $(PACHYDERM_OKTA_SKIP_REAL_CLI),,$(PULUMI_BUILD)/pulumi)
# A Pulumi CLI of your own for the deploying targets (`make up PULUMI=/path/to/pulumi`): scripts/lib.sh
# uses it instead of looking on PATH or installing one.
PULUMI ?=
export PULUMI

.DEFAULT_GOAL := help
.PHONY: help check test lint typecheck pytest format up bench clean

## help: list these targets (also what `make` alone prints); installs nothing
help:
	@echo 'make <target> [STACK=dev] [ARGS="<pulumi flags>"] [PULUMI=/path/to/pulumi] [PYTHON=python3.11]'
	@awk '/^## [a-z-]+: / { line = substr($$0, 4); name = substr(line, 1, index(line, ":") - 1); \
	  printf "  %-20s %s\n", name, substr(line, length(name) + 3) }' $(firstword $(MAKEFILE_LIST))

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## test: format check, lint, type check and the test suite, side by side (creates the dev venv if needed)
# Each one's report is printed whole when it ends; any failure fails `make test`
# (docs/testing.md, "How long make test takes").
test: $(VENV)/.installed $(HELM) $(REAL_PACHD) $(REAL_CLI)
	@$(MAKE) --no-print-directory --jobs=3 --output-sync=target lint typecheck pytest

## lint: the format check and the linter (ruff)
lint: $(VENV)/.installed
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .

## typecheck: mypy with the pydantic plugin
typecheck: $(VENV)/.installed
	$(PY) -m mypy .

## pytest: the test suite alone, one worker per core
# Each test file runs whole on one pytest-xdist worker, so a module's shared fixtures (a provider
# host, the rendered charts, a recorded `up`) are built once.
pytest: $(VENV)/.installed $(HELM) $(REAL_PACHD) $(REAL_CLI)
	$(PY) -m pytest -q -n auto --dist loadfile

# The real-Helm test tier's binary (tests/test_helm_render.py): fetched once, pinned by version and
# sha256, verified with `helm version` (scripts/fetch_helm.py); the tests never download anything.
$(HELM): scripts/fetch_helm.py | $(VENV)/.installed
	$(PY) scripts/fetch_helm.py $@

# The real-pachd tier's pachd and pachctl: built once from the Go module proxy with Pachyderm's
# release flags, then reused (Go's caches make a rebuild after `make clean` a link).
$(PACHD_BUILD)/pachd: scripts/build_pachd.py scripts/go_build.py testkit/realpachd/go.mod testkit/realpachd/go.sum | $(VENV)/.installed
	$(PY) -m scripts.build_pachd $(PACHD_BUILD)

# The real-CLI tier's pulumi: built once from the Go module proxy, version-stamped, then reused.
$(PULUMI_BUILD)/pulumi: scripts/build_pulumi.py scripts/go_build.py testkit/realcli/go.mod testkit/realcli/go.sum | $(VENV)/.installed
	$(PY) -m scripts.build_pulumi $(PULUMI_BUILD)

$(OKTA_STANDIN): testkit/okta_standin/package.json testkit/okta_standin/package-lock.json
	cd testkit/okta_standin && npm ci --no-audit --no-fund --loglevel=error

## format: format the code and apply lint fixes (ruff)
format: $(VENV)/.installed
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

## check: validate Pulumi.<STACK>.yaml offline, as `pulumi up` would (no Pulumi CLI, no cloud call)
check: $(VENV)/.runtime-installed
	$(PY) -m scripts.check_stack $(STACK)

# `make up` checks everything it can before it downloads anything (scripts/up): the shell's checks,
# then the runtime and the stack file (`make check`) and the kube context, then the Pulumi CLI (on
# PATH, PULUMI=, or the pinned version installed into .pulumi-cli) and the backend.
## up: check everything, then `pulumi up` on STACK (README Quickstart)
up:
	STACK=$(STACK) ARGS="$(ARGS)" PYTHON=$(PYTHON) VENV=$(VENV) MAKE="$(MAKE)" ./scripts/up

## bench: print the benchmark table (docs/benchmarks.md)
bench: $(VENV)/.installed
	$(PY) -m bench

# Never the project-local state in .pulumi-state.
## clean: remove what set-up made (the venv, the fetched Helm and built pachd, the stand-in Okta's packages, the project-local Pulumi CLI, caches)
clean:
	rm -rf $(VENV) .cache .pulumi-cli .pytest_cache .mypy_cache .ruff_cache testkit/okta_standin/node_modules

# --- Deploying (README "Quickstart" and "Day-2 operations") ---------------------------------------
# Each target acts on STACK (default dev) through scripts/pulumi: the Pulumi CLI and backend
# `make up` uses. ARGS adds flags, e.g. `make destroy ARGS=--yes`.
PYTHON ?= python3
ARGS ?=
.PHONY: preview outputs root-token refresh destroy rotate-okta-secret rotate-root-token rotate-robot

# Runtime only (requirements.txt), in the virtualenv Pulumi.yaml names: what Pulumi runs the
# program and the dynamic provider host with. The dev toolchain installs on top of it.
$(VENV)/.runtime-installed: requirements.txt
	@test -x $(PY) || $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "error: $(PYTHON) is $$($(PYTHON) -V 2>&1); this project needs Python 3.11 or newer (make up PYTHON=python3.11)" >&2; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

# The policy pack's own requirements (pulumi-policy), for `make preview` only.
$(VENV)/.policy-installed: policy/requirements.txt $(VENV)/.runtime-installed
	$(PY) -m pip install --quiet -r policy/requirements.txt
	touch $@

## preview: `pulumi preview` with the policy pack (policy/): what `make up` would change
preview: $(VENV)/.policy-installed
	./scripts/pulumi preview --stack $(STACK) --policy-pack policy $(ARGS)

## outputs: the stack outputs (pachctl connect address, Okta issuer, ...), the root token hidden
outputs:
	./scripts/pulumi stack output --stack $(STACK) $(ARGS)

## root-token: print the cluster's root token (a secret: keep it out of logs)
root-token:
	./scripts/pulumi stack output rootToken --show-secrets --stack $(STACK)

## refresh: read the real state of every resource (Okta, Kubernetes, pachd) into the stack
refresh: $(VENV)/.runtime-installed
	./scripts/pulumi refresh --stack $(STACK) $(ARGS)

## destroy: delete what the stack created (auth stays active; docs/operations.md, "What destroy does and leaves")
destroy: $(VENV)/.runtime-installed
	./scripts/pulumi destroy --stack $(STACK) $(ARGS)

## rotate-okta-secret: replace the Okta app (new client id and secret), then update the connector
rotate-okta-secret: $(VENV)/.runtime-installed
	STACK=$(STACK) ARGS="$(ARGS)" ./scripts/replace okta:app/oAuth:OAuth

## rotate-root-token: set a new random root token as the stack's secret rootToken and rotate pachd's to it
rotate-root-token: $(VENV)/.runtime-installed
	STACK=$(STACK) ARGS="$(ARGS)" ./scripts/rotate-root-token

## rotate-robot: a new token for robot NAME now (its rotation in the stack config raised), then up
rotate-robot: $(VENV)/.runtime-installed
	STACK=$(STACK) NAME=$(NAME) ARGS="$(ARGS)" ./scripts/rotate-robot
