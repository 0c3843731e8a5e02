"""A runtime worker gives freed large blocks back to the kernel (pyml_runtime.memory)."""

from __future__ import annotations

import subprocess
import sys

from pyml_runtime.memory import return_freed_memory

# One process: a 24 MB block freed (glibc's mmap threshold grows to its size), then eight
# 20 MB blocks, seven of them freed while the last one is kept: what RSS the process keeps.
_PROGRAM = """
import sys
from pyml_runtime.memory import return_freed_memory

def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096

if sys.argv[1] == "tuned":
    assert return_freed_memory()
start = rss()
first = b"\\x01" * 24_000_000
del first
blocks = [b"\\x02" * 20_000_000 for _ in range(8)]
kept = blocks.pop()
del blocks
print(rss() - start)
"""


def _kept_bytes(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, mode], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def test_freed_large_blocks_go_back_to_the_kernel() -> None:
    # Every runtime runs on glibc (PyML's Debian base image, as this suite's machine): the
    # tuning must take effect, not be skipped.
    assert return_freed_memory(), "mallopt is not available: the runtime is not on glibc"
    # glibc's defaults keep the seven freed blocks (140 MB) under the kept one.
    assert _kept_bytes("default") > 100_000_000
    # Tuned, only the kept block (20 MB) stays.
    assert _kept_bytes("tuned") < 40_000_000
