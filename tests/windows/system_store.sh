#!/usr/bin/env bash
# HTTPS trusting the Windows certificate store alone, under Wine (part of
# tests/windows/run.sh): no CA given to the client.
#
# The emulator's own certificate cannot serve here: it carries no revocation
# information, and Wine 8.0's SSL policy then answers CERT_E_REVOCATION_FAILURE
# although the platform verifier asks it to ignore an unknown revocation
# status (Windows honours that). So this makes a CA and a certificate for
# 127.0.0.1 (openssl) whose CRL distribution point is a CRL served on loopback
# (python3 -m http.server), and the emulator serves that certificate
# (--tls-cert). The name is in the certificate twice, as an IP address and as
# a DNS name: Wine's policy matches DNS names only.
#   1. the CA unknown to Windows: the quickstart must fail with OD_ERR_TLS;
#   2. the CA in the Wine prefix's LocalMachine\Root store (add_root.exe): the
#      quickstart uploads and copies; the CA is taken out again.
#
#   tests/windows/system_store.sh EMULATOR QUICKSTART_EXE ADD_ROOT_EXE
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
emulator=$1
quickstart=$2
add_root=$3
wine=$here/wine.sh
pki=$(mktemp -d)
http_pid=
cleanup() {
  [ -z "$http_pid" ] || { kill "$http_pid" 2>/dev/null || true; wait "$http_pid" 2>/dev/null || true; }
  rm -rf "$pki"
}
trap cleanup EXIT

# ---- the CA, its CRL on loopback, the server's certificate --------------------------
# The CRL's server first, on an ephemeral port (its URL goes into the certificate).
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$pki" >"$pki/http.log" 2>&1 &
http_pid=$!
port=
for _ in $(seq 1 100); do
  port=$(sed -n 's/^Serving HTTP on .* port \([0-9]*\) .*/\1/p' "$pki/http.log")
  [ -n "$port" ] && break
  kill -0 "$http_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$port" ] || { cat "$pki/http.log"; echo "system_store.sh: the CRL server did not start" >&2; exit 1; }
cd "$pki"
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj "/CN=onedrive-native test root $$" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:127.0.0.1" "extendedKeyUsage=serverAuth" "basicConstraints=CA:FALSE" \
  "crlDistributionPoints=URI:http://127.0.0.1:$port/ca.crl" >leaf.ext
openssl req -newkey rsa:2048 -nodes -keyout leaf.key -out leaf.csr -subj "/CN=127.0.0.1" 2>/dev/null
openssl x509 -req -in leaf.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -extfile leaf.ext -out leaf.pem 2>/dev/null
printf '%s\n' "[ca]" "default_ca = d" "[d]" "database = index.txt" "crlnumber = crlnumber" "default_md = sha256" \
  "default_crl_days = 1" >ca.cnf
: >index.txt
echo 01 >crlnumber
openssl ca -gencrl -config ca.cnf -keyfile ca.key -cert ca.pem -out ca.crl.pem 2>/dev/null
openssl crl -in ca.crl.pem -outform DER -out ca.crl
cd - >/dev/null

# ---- the runs --------------------------------------------------------------------------
# RUNNER for tests/c/run.sh: the quickstart with no CA of its own (curl, which
# puts the source file, trusts the CA through CURL_CA_BUNDLE).
emulate() {  # emulate RUNNER
  env CURL_CA_BUNDLE="$pki/ca.pem" EMULATOR_ARGS="--tls-cert $pki/leaf.pem --tls-key $pki/leaf.key" \
    RUNNER="$1" VALGRIND=0 "$here/../c/run.sh" "$emulator" "$quickstart"
}
out=$pki/out.txt
if emulate "env ONEDRIVE_CA_FILE= $wine" >"$out" 2>&1; then
  cat "$out" >&2
  echo "system_store.sh: the CA was trusted before it was in the Windows store" >&2
  exit 1
fi
grep -q "OD_ERR_TLS" "$out" || { cat "$out" >&2; echo "system_store.sh: not a TLS failure" >&2; exit 1; }
echo "system_store.sh: CA not in the Windows store: OD_ERR_TLS (as it must)"

"$wine" "$add_root" add "$pki/ca.pem"
trap '"$wine" "$add_root" remove "$pki/ca.pem" || true; cleanup' EXIT
emulate "env ONEDRIVE_CA_FILE= $wine"
grep -q "GET /ca.crl" "$pki/http.log" || { echo "system_store.sh: Windows never fetched the CRL" >&2; exit 1; }
echo "system_store.sh: CA in LocalMachine\\Root: trusted through the Windows store (its CRL fetched)"
