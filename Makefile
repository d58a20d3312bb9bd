# One entry point for people and CI. `make test` is the README's test command.
VENV ?= venv
PY := $(VENV)/bin/python
STACK ?= dev
HELM := .cache/helm-v3.17.3/helm

.PHONY: test check format lint typecheck unit up bench clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

## test: create the venv if needed, then format check, lint, type check and the test suite
test: $(VENV)/.installed $(HELM)
	$(PY) -m ruff format --check .
	$(PY) -m ruff check .
	$(PY) -m mypy .
	$(PY) -m pytest -q

# The real-Helm test tier's binary (tests/test_helm_render.py): fetched once, pinned by version and
# sha256, verified with `helm version` (scripts/fetch_helm.py); the tests never download anything.
$(HELM): scripts/fetch_helm.py | $(VENV)/.installed
	$(PY) scripts/fetch_helm.py $@

format: $(VENV)/.installed
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

## up: `pulumi up` on a stack (default dev) with a local file backend; see README quickstart
up: $(VENV)/.installed
	STACK=$(STACK) ./scripts/up

## bench: print the benchmark table (README "Performance")
bench: $(VENV)/.installed
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
