#!/usr/bin/env bash
# wine with the tests' prefix (make test-windows, test-nupkg, wheel):
# <target>/wine-prefix, made on first use (~15 s); quiet; no Mono or Gecko
# install prompt. An environment that sets WINEPREFIX & co. keeps its own.
#   tests/windows/wine.sh PROGRAM.exe [ARGS...]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export WINEPREFIX=${WINEPREFIX:-${CARGO_TARGET_DIR:-$repo/target}/wine-prefix}
export WINEDEBUG=${WINEDEBUG:--all} WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  echo "wine.sh: making the Wine prefix $WINEPREFIX" >&2
  mkdir -p "$WINEPREFIX"
  wineboot -i >/dev/null 2>&1
fi
exec wine "$@"
