#!/usr/bin/env bash
# Makes sure a Docker engine answers: installs Debian's docker.io when no engine is present
# and starts dockerd in the background when none runs (a fresh Debian machine has neither).
# On a laptop with Docker Desktop this finds the engine and does nothing.
set -euo pipefail

LOG=${PYML_DOCKERD_LOG:-/tmp/pyml-dockerd.log}

answers() { docker info >/dev/null 2>&1; }

answers && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if ! command -v dockerd >/dev/null; then
  command -v apt-get >/dev/null || { echo "no Docker engine and no apt-get: install Docker" >&2; exit 1; }
  echo "ensure_docker: installing docker.io"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq docker.io >/dev/null
fi
if ! command -v docker >/dev/null; then
  echo "ensure_docker: dockerd is installed but the docker client is missing" >&2
  exit 1
fi

echo "ensure_docker: starting dockerd (log: $LOG)"
$sudo bash -c "nohup dockerd >'$LOG' 2>&1 &"
for _ in $(seq 1 60); do
  answers && { echo "ensure_docker: engine ready"; exit 0; }
  sleep 0.5
done
echo "ensure_docker: dockerd did not answer within 30 s; last log lines:" >&2
tail -20 "$LOG" >&2
exit 1
