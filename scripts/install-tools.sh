#!/usr/bin/env bash
# Installs the real counterparts that the tests start themselves, when they are absent (Debian):
# Go (conformance plugins, standard library only), Python with grpcio (conformance plugins),
# promtool (checks the Prometheus exposition), redis-server (cluster mode), chromium (status page).
# Run by `npm test` and `.ci/run`; does nothing when everything is there. Needs root and apt-get
# to install; otherwise it names what is missing and the tests that need it fail saying so.
set -euo pipefail

missing=()
command -v go >/dev/null || missing+=(golang-go)
/usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null || missing+=(python3-grpcio python3-grpc-tools)
command -v promtool >/dev/null || missing+=(prometheus)
command -v redis-server >/dev/null || missing+=(redis-server)
command -v chromium >/dev/null || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "plugwire tests need these Debian packages: ${missing[*]} (run as root: apt-get install ${missing[*]})" >&2
  exit 0
fi
echo "== installing ${missing[*]}"
apt-get update -q
DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
