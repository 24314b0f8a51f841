#!/usr/bin/env bash
# The one test command (README, CI): installs what is missing, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/ensure-system-deps.sh
[[ -d node_modules ]] || npm ci
npm run --silent build
npx tsc -p test/tsconfig.json --noEmit
npx vitest run "$@"
