#!/usr/bin/env bash
# include/onedrive.abi.json against the header (tools/abi.py, pycparser),
# the bindings' generated declarations against the JSON
# (tools/gen_bindings.py), and the tests of both (tools/tests). Makes
# tools/.venv with tools/requirements.txt (pycparser, pytest) from PyPI.
#   tools/check_abi.sh            the checks and tools/tests
#   tools/check_abi.sh --fresh    only: the committed JSON and generated files equal fresh ones
#   tools/check_abi.sh --write    write the JSON from the header, then the generated files
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
if [ "${1:-}" = --write ]; then
  "$venv/bin/python" "$here/abi.py" --write
  exec "$venv/bin/python" "$here/gen_bindings.py" --write
fi
"$venv/bin/python" "$here/abi.py" --check
"$venv/bin/python" "$here/gen_bindings.py" --check
[ "${1:-}" = --fresh ] && exit 0
exec "$venv/bin/pytest" -q -p no:cacheprovider "$here/tests"
