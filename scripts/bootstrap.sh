#!/usr/bin/env bash
# Installs the machine-level tools PyML's build needs when they are missing (Debian/Ubuntu,
# as root or with sudo): Python 3 with venv, a JDK 17+, Maven, the Thrift compiler, PostgreSQL's
# server (the Java tests start their own), Chromium and its driver (the console's browser
# tests), systemd's analyzer (the gateway unit's check). Idempotent and quiet when everything
# is present. Docker is scripts/ensure_docker.sh's job.
set -euo pipefail

missing=()
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv python3-pip)
if ! command -v javac >/dev/null || ! javac -version 2>&1 | grep -qE 'javac (1[7-9]|[2-9][0-9])'; then
  missing+=(openjdk-17-jdk-headless)
fi
command -v mvn >/dev/null || missing+=(maven)
# The base image is made from Debian packages when no container registry is reachable.
command -v debootstrap >/dev/null || missing+=(debootstrap)
# The Thrift IDL is compiled at every build (gateway Java sources, Python stub check).
command -v thrift >/dev/null || missing+=(thrift-compiler)
# The identity store's tests run against Debian's PostgreSQL server in a temporary folder
# (gateway-java/src/test/.../identity/PostgresServer.java): its binaries, not a running service.
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
# The console's browser tests drive Debian's headless Chromium (nothing downloads a browser).
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
# The gateway's systemd unit (docs/systemd) is checked with systemd-analyze verify.
command -v systemd-analyze >/dev/null || missing+=(systemd)

if ((${#missing[@]})); then
  echo "bootstrap: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if ! command -v apt-get >/dev/null; then
    echo "bootstrap: missing ${missing[*]} and no apt-get here: install them and re-run" >&2
    exit 1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
