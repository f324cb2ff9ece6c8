#!/usr/bin/env bash
# Proves gen/ is exactly what `buf generate` makes from proto/: regenerates and fails on any difference,
# including generated files that are not committed.
set -euo pipefail
cd "$(dirname "$0")/.."
npx buf generate
changes=$(git status --porcelain -- gen)
if [ -n "$changes" ]; then
  echo "gen/ does not match proto/ (run 'npm run gen' and commit the result):" >&2
  echo "$changes" >&2
  git --no-pager diff --stat -- gen >&2
  exit 1
fi
