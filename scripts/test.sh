#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs every check: ruff, mypy, import contracts, pytest.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "== ruff"
ruff check .
ruff format --check .
echo "== mypy"
mypy card jpki terminal simulators
echo "== import contracts"
lint-imports
echo "== pytest"
mkdir -p test-artifacts
pytest "$@"
