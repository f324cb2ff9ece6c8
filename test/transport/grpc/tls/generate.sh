#!/usr/bin/env bash
# Regenerates the test-only PKI: a CA (its key is discarded), a certificate for 127.0.0.1/localhost that
# serves and also identifies a member as a client (mutual TLS), and a client certificate that names no host.
# Valid for a hundred years. Run from anywhere; writes next to this script.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 36500 \
  -subj "/CN=ts-nacos test CA" -keyout "$work/ca.key" -out ca.pem 2>/dev/null
issue() { # name subject extensions
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$2" -keyout "$1.key" -out "$work/$1.csr" 2>/dev/null
  printf '%s\n' "$3" > "$work/$1.ext"
  openssl x509 -req -in "$work/$1.csr" -CA ca.pem -CAkey "$work/ca.key" -CAcreateserial -days 36500 \
    -extfile "$work/$1.ext" -out "$1.pem" 2>/dev/null
}
issue server "/CN=ts-nacos test server" "subjectAltName=IP:127.0.0.1,DNS:localhost
extendedKeyUsage=serverAuth,clientAuth"
issue client "/CN=ts-nacos test client" "extendedKeyUsage=clientAuth"
rm -f ca.srl
