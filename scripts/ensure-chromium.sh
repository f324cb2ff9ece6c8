#!/usr/bin/env bash
# The console's browser test (test/e2e/console.test.ts) drives Debian's Chromium at /usr/bin/chromium:
# playwright-core never downloads a browser. On a fresh Debian machine it is missing, so `npm test` installs it
# from Debian's packages when it runs as root, and otherwise stops at once with the one command to run.
# Usage: scripts/ensure-chromium.sh [path] (the path is for this script's own test).
set -euo pipefail
browser=${1:-/usr/bin/chromium}
[ -x "$browser" ] && exit 0
command="apt-get update && apt-get install -y chromium"
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "$browser is missing: the console's browser test needs Debian's Chromium. Install it (as root): $command" >&2
  exit 1
fi
echo "$browser is missing: installing Debian's Chromium ($command)" >&2
apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >&2
if [ ! -x "$browser" ]; then
  echo "apt-get installed chromium but $browser is still missing" >&2
  exit 1
fi
