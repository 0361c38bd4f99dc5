#!/usr/bin/env bash
# Installs Flask (PyPI) into a venv under the portcullis cache for the differential suite
# (test/differential). Idempotent: a venv that already imports Flask is kept as it is.
# Works on a fresh Debian machine as root without stdin (installs python3-venv when missing).
set -euo pipefail

CACHE="${PORTCULLIS_CACHE:-$HOME/.cache/portcullis}"
VENV="$CACHE/venv-flask"
FLASK_SPEC='flask>=3.1,<4'

log() { printf '[install-flask] %s\n' "$*" >&2; }

if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c 'import flask' >/dev/null 2>&1; then
  log "Flask already in $VENV"
  exit 0
fi

if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
  log "installing python3 and python3-venv (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null >/dev/null
  apt-get install -y -qq --no-install-recommends python3 python3-venv </dev/null >/dev/null
fi

mkdir -p "$CACHE"
rm -rf "$VENV"
log "creating $VENV"
python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "$FLASK_SPEC" </dev/null
"$VENV/bin/python" -c 'import flask, importlib.metadata as m; print("[install-flask] Flask", m.version("flask"))' >&2
