#!/usr/bin/env bash
# `make test`'s two suites side by side: the Java tests (in the background, their output in a
# log) and the Python tests (in front). Most of either is waiting on servers, containers and
# timeouts, so on CI's 2 cores the pair takes about the Python suite's time alone. Both run to
# the end; the exit code fails if either failed, and a failed Java run's log tail is shown.
#
# `mvn test`, not `verify`: the Python tests start gateways from the jar `make setup` built,
# which `verify` would write again under them.
set -uo pipefail
cd "$(dirname "$0")/.."
LOG=gateway-java/target/test-java.log
mkdir -p "$(dirname "$LOG")"
echo "Java tests: running beside the Python tests (output: $LOG)"
mvn -B --no-transfer-progress test >"$LOG" 2>&1 &
java_pid=$!
# Ended with the Python suite (Ctrl-C, a CI timeout): the Maven run goes too.
trap 'kill -- "$java_pid" 2>/dev/null' EXIT
scripts/run_pytest.sh "$@"
python_rc=$?
wait "$java_pid"
java_rc=$?
trap - EXIT
grep -E "^\[(INFO|ERROR|WARNING)\] (Tests run:|BUILD|Total time)" "$LOG" | tail -4
if [ "$java_rc" -ne 0 ]; then
  echo "Java tests failed (exit $java_rc); the end of $LOG:" >&2
  tail -n 80 "$LOG" >&2
fi
[ "$python_rc" -eq 0 ] && [ "$java_rc" -eq 0 ]
