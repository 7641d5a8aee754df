#!/usr/bin/env bash
# Sets up (scripts/setup.sh) and runs the demo on embedded defaults: SQLite, software
# cards, test PKI with CRL and OCSP, symbol core, service on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/mynaterm demo "$@"
