#!/usr/bin/env bash
# Installs everything mynaterm and its tests need on a fresh Debian 12 machine:
# Debian packages (PC/SC stack, OpenSC, PostgreSQL, Chromium, fonts, openssl) and a
# Python virtual environment in .venv with the project installed editable.
# Idempotent: re-running skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  pcscd libpcsclite-dev vsmartcard-vpcd opensc swig gcc   # real PC/SC stack + pyscard build
  postgresql                                              # shared store tests
  chromium fonts-noto-cjk                                 # browser tests (Japanese glyphs)
  openssl procps                                          # CMS/CRL/OCSP cross-checks; pkill
  libopenjp2-tools                                        # opj_decompress: checks the card photo
)

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
  # Where the package's own scripts start the system pcscd right away, stop it: the
  # tests run a pcscd of their own with private vpcd readers, and there is one per machine.
  if [[ " ${missing[*]} " == *" pcscd "* ]] && pgrep -x pcscd >/dev/null; then
    echo "setup: stopping the pcscd the package just started"
    $SUDO pkill -x pcscd || true
  fi
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.mynaterm-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "setup: installing Python packages"
  .venv/bin/pip install -q --upgrade pip
  .venv/bin/pip install -q -e ".[test,postgres,pcsc]"
  touch "$stamp"
fi
echo "setup: ready"
