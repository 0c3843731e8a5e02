#!/usr/bin/env bash
# Generates the Python gRPC/protobuf stubs from protos/ into OUT (default sdk/), as
# the package pyml.v1. `--check` regenerates into a temporary folder and fails when the
# committed stubs differ (stale or edited by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}

generate() {
  local out=$1
  mkdir -p "$out/pyml/v1"
  "$PYTHON" -m grpc_tools.protoc -I protos \
    --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" \
    protos/pyml/v1/*.proto
  touch "$out/pyml/v1/__init__.py"
}

if [[ "${1:-}" == "--check" ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  generate "$tmp"
  if ! diff -r -q "$tmp/pyml/v1" sdk/pyml/v1 >/dev/null; then
    diff -r "$tmp/pyml/v1" sdk/pyml/v1 | head -20 >&2
    echo "Python stubs in sdk/pyml/v1 are stale: run 'make protos' and commit the result." >&2
    exit 1
  fi
  echo "Python stubs are up to date."
else
  generate sdk
fi
