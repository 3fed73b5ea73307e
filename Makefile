# The README's two commands: `make run` and `make test`. Both set up .venv first (once).
PY := .venv/bin/python

.PHONY: run test setup lint typecheck pytest train lock clean

run: setup
	$(PY) -m launcher run

test: setup lint typecheck pytest

setup:
	@bash scripts/bootstrap.sh

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: setup
	$(PY) -m mypy

pytest: setup
	$(PY) -m pytest

train: setup
	$(PY) -m launcher train

# Re-resolve requirements.in into requirements.lock (needs the package registry).
lock:
	rm -rf .lock-venv && python3.10 -m venv .lock-venv
	.lock-venv/bin/pip install --quiet -r requirements.in
	.lock-venv/bin/pip freeze --exclude-editable > requirements.lock
	rm -rf .lock-venv

clean:
	rm -rf .venv models var .mypy_cache .ruff_cache .pytest_cache
