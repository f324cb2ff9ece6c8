#!/usr/bin/env bash
# Runs every test file inside a fresh network namespace where only loopback exists. Nothing a test starts
# can then reach beyond 127.0.0.1/::1, and the nacos npm SDK — which reports the host's first non-loopback
# IPv4 as its clientIP for UDP push — finds none and falls back to 127.0.0.1. Needs root (CI runs as root).
set -euo pipefail
cd "$(dirname "$0")/.."
files=$(find test -name '*.test.ts' | sort | tr '\n' ' ')
# Four files at once on two cores: the end-to-end files spend most of their time waiting for timers (beats,
# detection, graces), so more files keep the cores busy (687 tests: 8 min 20 s with four, 9 min 13 s with three,
# each including npm ci, here).
if [ -z "$files" ]; then echo "no test files found" >&2; exit 1; fi
# Where the concurrent test files claim the ports their nodes will bind (test/support/node-process.ts freePort).
if [ -z "${TS_NACOS_PORT_DIR:-}" ]; then
  TS_NACOS_PORT_DIR=$(mktemp -d)
  export TS_NACOS_PORT_DIR
  trap 'rm -rf "$TS_NACOS_PORT_DIR"' EXIT
fi
run="node --import tsx --test --test-reporter=tap --test-concurrency=${TEST_CONCURRENCY:-4} $files"
# Not exec'd: the claims directory goes when the run ends (the exit status is the run's).
if [ "${TS_NACOS_NETNS:-}" = "1" ]; then $run; exit; fi
if ! unshare -n true 2>/dev/null; then
  echo "cannot create a network namespace (unshare -n needs root): the suite must run loopback-only" >&2
  exit 1
fi
unshare -n env TS_NACOS_NETNS=1 bash -c "ip link set lo up && exec $run"
