"""Every test file is one pytest collects. pytest skips folders matching its `norecursedirs`
(by default build, dist, venv, .* and more) without a word: the first release tests lived in
tests/dist and ran nowhere."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent


def test_no_test_file_lies_in_a_folder_pytest_skips(request: pytest.FixtureRequest) -> None:
    skipped = [str(pattern) for pattern in request.config.getini("norecursedirs")]
    hidden = [
        path.relative_to(TESTS).as_posix()
        for path in TESTS.rglob("test_*.py")
        if any(
            fnmatch.fnmatch(part, pattern)
            for part in path.relative_to(TESTS).parts[:-1]
            for pattern in skipped
        )
    ]
    assert hidden == [], f"pytest never collects these (norecursedirs {skipped}): {hidden}"
