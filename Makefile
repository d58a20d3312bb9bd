# One entry point for people and CI. `make test` is the README's test command.
VENV ?= venv
PY := $(VENV)/bin/python
STACK ?= dev
HELM := .cache/helm-v3.17.3/helm

.PHONY: test lint typecheck pytest format up bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## test: create the venv if needed, then format check, lint, type check and the test suite
# The three run side by side; each one's report is printed whole when it ends, and any failure
# fails `make test` (docs/testing.md, "How long make test takes").
test: $(VENV)/.installed $(HELM)
	@$(MAKE) --no-print-directory --jobs=3 --output-sync=target lint typecheck pytest

lint: $(VENV)/.installed
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .

typecheck: $(VENV)/.installed
	$(PY) -m mypy .

# One pytest-xdist worker per core; each test file runs whole on one worker, so a module's shared
# fixtures (a provider host, the rendered charts, a recorded `up`) are built once.
pytest: $(VENV)/.installed $(HELM)
	$(PY) -m pytest -q -n auto --dist loadfile

# The real-Helm test tier's binary (tests/test_helm_render.py): fetched once, pinned by version and
# sha256, verified with `helm version` (scripts/fetch_helm.py); the tests never download anything.
$(HELM): scripts/fetch_helm.py | $(VENV)/.installed
	$(PY) scripts/fetch_helm.py $@

format: $(VENV)/.installed
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

## up: `pulumi up` on STACK (default dev): installs the runtime (requirements.txt only) and, if no
## Pulumi CLI of the pinned version or newer is on PATH, that version into .pulumi-cli; README Quickstart
up: $(VENV)/.runtime-installed
	STACK=$(STACK) ARGS="$(ARGS)" ./scripts/up

## bench: print the benchmark table (docs/benchmarks.md)
bench: $(VENV)/.installed
	$(PY) -m bench

## clean: remove what setup made (the venv, the fetched Helm, the project-local Pulumi CLI, caches);
## never the project-local state in .pulumi-state
clean:
	rm -rf $(VENV) .cache .pulumi-cli .pytest_cache .mypy_cache .ruff_cache

# --- Deploying (README "Quickstart" and "Day-2 operations") ---------------------------------------
# Each target acts on STACK (default dev) through scripts/pulumi: the Pulumi CLI and backend
# `make up` uses. ARGS adds flags, e.g. `make destroy ARGS=--yes`.
PYTHON ?= python3
ARGS ?=
.PHONY: preview outputs root-token refresh destroy rotate-okta-secret rotate-root-token

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

## outputs: the stack outputs (pachctl connect address, Okta issuer, ...); the root token stays hidden
outputs:
	./scripts/pulumi stack output --stack $(STACK) $(ARGS)

## root-token: print the cluster's root token (a secret: keep it out of logs)
root-token:
	./scripts/pulumi stack output rootToken --show-secrets --stack $(STACK)

## refresh: read the real state of every resource (Okta, Kubernetes, pachd) into the stack
refresh: $(VENV)/.runtime-installed
	./scripts/pulumi refresh --stack $(STACK) $(ARGS)

## destroy: delete what the stack created (auth stays active; README "What destroy does")
destroy: $(VENV)/.runtime-installed
	./scripts/pulumi destroy --stack $(STACK) $(ARGS)

## rotate-okta-secret: replace the Okta app (new client id and secret), then update the connector
rotate-okta-secret: $(VENV)/.runtime-installed
	STACK=$(STACK) ARGS="$(ARGS)" ./scripts/replace okta:app/oAuth:OAuth

## rotate-root-token: set a new random root token as the stack's secret rootToken and rotate pachd's to it
rotate-root-token: $(VENV)/.runtime-installed
	STACK=$(STACK) ARGS="$(ARGS)" ./scripts/rotate-root-token
