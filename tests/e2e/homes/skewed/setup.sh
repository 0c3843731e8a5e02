#!/usr/bin/env bash
# Makes this image's runtime "another PyML" (tests/e2e/test_version_skew.py): it says it is
# PyML 9.9.0 and speaks sidecar protocol 2. Runs once at image build, as root, like any
# model's setup.sh. The greps fail the build when the constants moved, not the test later.
set -euo pipefail
runtime=$(python -c 'import pathlib, pyml_runtime; print(pathlib.Path(pyml_runtime.__file__).parent)')
sed -i 's/^PROTOCOL_VERSION = [0-9]*$/PROTOCOL_VERSION = 2/' "$runtime/protocol.py"
sed -i 's/^__version__ = ".*"$/__version__ = "9.9.0"/' "$runtime/__init__.py"
grep -q '^PROTOCOL_VERSION = 2$' "$runtime/protocol.py"
grep -q '^__version__ = "9.9.0"$' "$runtime/__init__.py"
# Compiled copies of the old text would be stale; the root filesystem is read-only at run time.
rm -f "$runtime"/__pycache__/protocol.*.pyc "$runtime"/__pycache__/__init__.*.pyc
