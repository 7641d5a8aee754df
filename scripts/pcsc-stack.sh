#!/bin/sh
# Run pcscd with vsmartcard-vpcd virtual readers in the foreground until Ctrl-C:
#   scripts/pcsc-stack.sh [--entries N] [--install] [--debug-apdus]
# Each entry gives two readers ("Virtual PCD 00 00" on TCP 35963, "... 00 01" on 35964,
# then "Virtual PCD 2 00 00" on 35965, ...). Plug a software card in another terminal:
#   mynaterm emulator serve --card CARD_FILE
# For a pcscd that keeps running in the background: mynaterm pcsc-stack up|down|status.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
python="$here/.venv/bin/python"
[ -x "$python" ] || python=python3
cd "$here"
exec "$python" -m simulators.pcsc_stack "$@"
