#!/usr/bin/env bash
# Generates the Python stubs from protos/ into OUT (default sdk/): the gRPC/protobuf ones as
# the package pyml.v1, the Thrift ones (Debian's thrift compiler) as pyml.thrift_v1. `--check`
# regenerates into a temporary folder and fails when the committed stubs differ (stale or
# edited by hand).
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
  # The Thrift compiler writes __init__.py files for every level of the namespace (pyml/
  # included): generate aside and keep only pyml/thrift_v1. The -remote script is not code
  # the SDK uses.
  command -v thrift >/dev/null || { echo "thrift compiler missing: run 'make tools'" >&2; exit 1; }
  local aside
  aside=$(mktemp -d)
  thrift --gen py -out "$aside" protos/pyml/v1/prediction.thrift
  rm -f "$aside"/pyml/thrift_v1/prediction/*-remote
  rm -rf "$out/pyml/thrift_v1"
  cp -r "$aside/pyml/thrift_v1" "$out/pyml/thrift_v1"
  rm -rf "$aside"
}

if [[ "${1:-}" == "--check" ]]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  generate "$tmp"
  for package in v1 thrift_v1; do
    if ! diff -r -q -x __pycache__ "$tmp/pyml/$package" "sdk/pyml/$package" >/dev/null; then
      diff -r -x __pycache__ "$tmp/pyml/$package" "sdk/pyml/$package" | head -20 >&2
      echo "Python stubs in sdk/pyml/$package are stale: run 'make protos' and commit the result." >&2
      exit 1
    fi
  done
  echo "Python stubs are up to date."
else
  generate sdk
fi
