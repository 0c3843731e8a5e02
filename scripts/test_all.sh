#!/usr/bin/env bash
# `make test` after lint: the Java tests run beside the Python suite, and the run takes the
# longer of the two rather than their sum. The Java tests (`make test-java`, about 1.5 min,
# mostly one core) need nothing of the Python suite (about 16 min, much of it waiting on
# containers and images), and neither builds what the other reads: `mvn test` compiles into
# target/classes and leaves the jar alone. The Java log is printed when both are done;
# either failing fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."

log="$(mktemp -t pyml-test-java.XXXXXX)"
# A process group of its own: stopping this script (Ctrl-C, a failure) stops Maven and its
# test JVM too, and nothing else.
setsid make --no-print-directory test-java >"$log" 2>&1 &
java=$!
trap 'kill -- "-$java" 2>/dev/null' EXIT
echo "Java tests: running beside the Python suite; their log: $log"

make --no-print-directory test-python
python_rc=$?

wait "$java"
java_rc=$?
trap - EXIT
if [ "$java_rc" -eq 0 ]; then
  # Maven's summary of every test class, then its verdict.
  grep -E '^\[(INFO|WARNING)\] Tests run:|BUILD SUCCESS' "$log" | tail -n 2
  echo "Java tests: passed (log: $log)"
else
  cat "$log"
  echo "Java tests: FAILED with exit code $java_rc (log above and in $log)" >&2
fi
[ "$python_rc" -eq 0 ] || echo "Python tests: FAILED with exit code $python_rc" >&2
[ "$java_rc" -eq 0 ] && [ "$python_rc" -eq 0 ]
