#!/usr/bin/env bash
# include/onedrive.abi.json against the header, and the planted-fault tests
# of the three bindings' checks (tools/tests). Makes tools/.venv with
# tools/requirements.txt (pycparser, pytest) from PyPI.
#   tools/check_abi.sh            both
#   tools/check_abi.sh --fresh    only: the committed JSON equals a fresh one
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=${PYTHON:-python3}
venv=$here/.venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import pip' 2>/dev/null; then
  rm -rf "$venv"
  if ! "$PYTHON" -m venv "$venv" >/dev/null 2>&1; then
    rm -rf "$venv"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      "$PYTHON" -m venv "$venv"
    else
      echo "check_abi.sh: '$PYTHON -m venv' failed: apt-get install python3-venv" >&2; exit 1
    fi
  fi
fi
"$venv/bin/python" -m pip --disable-pip-version-check -q install -r "$here/requirements.txt"
"$venv/bin/python" "$here/abi.py" --check
[ "${1:-}" = --fresh ] && exit 0
exec "$venv/bin/pytest" -q -p no:cacheprovider "$here/tests"
