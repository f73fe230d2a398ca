#!/usr/bin/env bash
# Starts a standalone onedrive-emulator on ephemeral loopback ports, passes
# its address to a C test program through the environment, runs the program
# (under valgrind when VALGRIND=1) and stops the emulator.
#   tests/c/run.sh EMULATOR_BINARY TEST_BINARY
# RUNNER, when set, is put in front of the test binary (e.g. qemu for arm64,
# wine for Windows); EMULATOR_ARGS are added to the emulator's (--plain-http
# serves http without a CA: OD_TEST_CA_FILE is then empty).
set -euo pipefail
emulator=$1
test_bin=$2
log=$(mktemp)
# A copy of anything under /held-job/ starts a job the emulator holds in
# progress (a hold_job fault): test_api.c times out, aborts and cancels waits
# on it, which must be ended by the caller, never by the job finishing first
# (other copies run as usual). It serves HTTPS with a CA made at start
# (ca_file=): the tests and the examples trust it through od_client_add_ca_file.
"$emulator" --port 0 --monitor-port 0 --token c-test-token \
  --fault '{"method":"POST","path_contains":"/held-job/","action":"hold_job"}' ${EMULATOR_ARGS:-} >"$log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT
for _ in $(seq 1 300); do
  grep -q '^default_drive_id=' "$log" && break
  kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "the emulator exited" >&2; exit 1; }
  sleep 0.1
done
grep -q '^default_drive_id=' "$log" || { cat "$log"; echo "the emulator did not start" >&2; exit 1; }
value() { sed -n "s/^$1=//p" "$log" | head -n1; }
export OD_TEST_BASE_URL=$(value base_url)
export OD_TEST_TOKEN=$(value token)
export OD_TEST_MONITOR_ORIGIN=$(value monitor_origin)
export OD_TEST_CA_FILE=$(value ca_file)
admin_token=$(value admin_token)
# the names the examples read
export ONEDRIVE_BASE_URL=$OD_TEST_BASE_URL ONEDRIVE_TOKEN=$OD_TEST_TOKEN ONEDRIVE_CA_FILE=$OD_TEST_CA_FILE
api_origin=${OD_TEST_BASE_URL%/v1.0}
OD_TEST_SOURCE_URL=$(head -c 200000 /dev/urandom | curl -sf ${OD_TEST_CA_FILE:+--cacert "$OD_TEST_CA_FILE"} -X PUT -H "Authorization: Bearer $admin_token" \
  --data-binary @- "$api_origin/_emulator/static/source.bin" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
export OD_TEST_SOURCE_URL
if [ "${VALGRIND:-1}" = 1 ]; then
  valgrind --quiet --error-exitcode=99 --leak-check=full \
    --suppressions="$(dirname "$0")/valgrind.supp" \
    --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible \
    ${RUNNER:-} "$test_bin"
else
  ${RUNNER:-} "$test_bin"
fi
