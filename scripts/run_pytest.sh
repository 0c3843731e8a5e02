#!/usr/bin/env bash
# Runs the Python suite. pytest's exit code 5 ("no tests collected") is a failure here:
# a suite that ran nothing proves nothing.
set -uo pipefail
cd "$(dirname "$0")/.."
# The slowest steps close the report: where the suite's 20-minute budget goes.
.venv/bin/pytest --durations=15 "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
fi
exit "$rc"
