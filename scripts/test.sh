#!/usr/bin/env bash
# The test command behind `make test` (and so behind .ci/run):
#   1. install Debian's chromium for the dashboard's browser tests, if missing and we may;
#   2. lint (ruff) and type-check (mypy);
#   3. run pytest — its session fixture builds and starts a real Neo4j 5.26 from Maven
#      Central artifacts on 127.0.0.1 and stops it at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "== installing chromium (Debian) for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

echo "== ruff"
$BIN/ruff check .
echo "== mypy"
$BIN/mypy
echo "== pytest"
set +e
$BIN/pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: that is a failure" >&2
    exit 1
fi
exit "$status"
