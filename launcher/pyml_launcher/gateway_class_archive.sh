#!/bin/sh
# The gateway's class archive (see launcher/pyml_launcher/gateway_jvm.py), for `make setup`
# and the gateway image's build: a gateway started with -XX:ArchiveClassesAtExit, stopped once
# ready (its JVM writes the archive as it exits); a JVM must then map it, checksums checked,
# before it is put in place. The same java as the gateway's, and absolute paths: the archive
# holds for the jar's path.
# Usage: gateway_class_archive.sh JAR ARCHIVE
set -eu
jar=$1
archive=$2
scratch=$(mktemp -d)
java -XX:ArchiveClassesAtExit="$scratch/made.jsa" '-Xlog:cds*=off' -jar "$jar" \
  --grpc-port 0 --thrift-port 0 --oip-port 0 --http-port 0 --gateway-id "class-archive-$$" \
  --work-dir "$scratch/work" --registry-dir "$scratch/registry" --state-dir "$scratch/state" \
  >"$scratch/out" 2>&1 &
gateway=$!
waited=0
until grep -q "pyml-gateway ready" "$scratch/out"; do
  if ! kill -0 "$gateway" 2>/dev/null || [ "$waited" -ge 600 ]; then  # ended, or 60 s
    echo "gateway class archive: the gateway did not start; none made" >&2
    cat "$scratch/out" >&2
    kill -9 "$gateway" 2>/dev/null || true
    rm -rf "$scratch"
    exit 1
  fi
  waited=$((waited + 1))
  sleep 0.1
done
kill -TERM "$gateway"
wait "$gateway" || true
if ! java -Xshare:on -XX:SharedArchiveFile="$scratch/made.jsa" -XX:+VerifySharedSpaces \
  '-Xlog:cds*=off' -XX:ErrorFile="$scratch/crash.log" -XX:-CreateCoredumpOnCrash \
  -cp "$jar" -version >"$scratch/check" 2>&1; then
  echo "gateway class archive: a JVM cannot map the one made; none kept" >&2
  cat "$scratch/check" >&2
  rm -rf "$scratch"
  exit 1
fi
mv "$scratch/made.jsa" "$archive"
rm -rf "$scratch"
echo "gateway class archive: $archive ($(($(wc -c <"$archive") / 1048576)) MB)"
