"""Build failures explained in the user's terms, from real pip / apt / Docker output."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyml_launcher.errors import (
    apt_missing_package,
    describe_failure,
    exit_code,
    package_line,
    pip_missing_package,
    requirement_line,
)

PIP_NOT_FOUND = """\
Requirement already satisfied: numpy in /opt/pyml/venv/lib/python3.11/site-packages (2.4.6)
ERROR: Could not find a version that satisfies the requirement nonexistent-pkg-xyz (from versions: \
none)
ERROR: No matching distribution found for nonexistent-pkg-xyz
"""
APT_NOT_FOUND = """\
Reading package lists...
Building dependency tree...
E: Unable to locate package no-such-debian-package-xyz
"""
DOCKER_ERROR = (
    "The command '/bin/sh -c cd /opt/pyml/model && bash ./setup.sh' returned a non-zero code: 3"
)


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    (tmp_path / "requirements.txt").write_text(
        "# our deps\n--extra-index-url https://example.org/simple\n"
        "scikit-learn>=1.9\nNonexistent_Pkg.XYZ[fast] ==1.0 ; python_version >= '3.8'\n"
    )
    (tmp_path / "packages.txt").write_text(
        "# native\nlibgomp1\nno-such-debian-package-xyz  # OCR\n"
    )
    return tmp_path


def test_pip_missing_package_is_read_from_either_pip_message() -> None:
    assert pip_missing_package(PIP_NOT_FOUND) == "nonexistent-pkg-xyz"
    only_first = (
        "ERROR: Could not find a version that satisfies the requirement foo==9.9 (from ...)"
    )
    assert pip_missing_package(only_first) == "foo==9.9"
    assert pip_missing_package("Successfully installed numpy") is None


def test_requirement_line_matches_names_as_pip_does(home: Path) -> None:
    path = home / "requirements.txt"
    assert requirement_line(path, "nonexistent-pkg-xyz") == 4
    assert requirement_line(path, "scikit_learn>=1.9") == 3
    assert requirement_line(path, "pandas") is None


def test_apt_missing_package_and_its_line(home: Path) -> None:
    assert apt_missing_package(APT_NOT_FOUND) == "no-such-debian-package-xyz"
    assert apt_missing_package("E: Package 'python2' has no installation candidate") == "python2"
    assert package_line(home / "packages.txt", "no-such-debian-package-xyz") == 3


def test_requirements_failure_names_the_file_and_line(home: Path) -> None:
    message = describe_failure(
        "requirements", PIP_NOT_FOUND.splitlines(), "returned a non-zero code: 1", home
    )
    assert message == "requirements.txt:4: 'nonexistent-pkg-xyz' is not on the package index"


def test_a_missing_transitive_dependency_names_the_file(home: Path) -> None:
    output = ["ERROR: No matching distribution found for leftpad-native"]
    message = describe_failure("requirements", output, "non-zero code: 1", home)
    assert (
        message == "requirements.txt: 'leftpad-native' (a dependency) is not on the package index"
    )


def test_packages_failure_names_the_file_and_line(home: Path) -> None:
    message = describe_failure("packages", APT_NOT_FOUND.splitlines(), "code: 100", home)
    assert message == "packages.txt:3: Debian package 'no-such-debian-package-xyz' not found"


def test_setup_failure_gives_its_exit_code_and_last_lines(home: Path) -> None:
    output = [f"line {i}" for i in range(40)]
    message = describe_failure("setup", output, DOCKER_ERROR, home)
    assert message.startswith("setup.sh exited with code 3:\n")
    assert message.endswith("line 39") and "line 24" not in message
    assert exit_code(DOCKER_ERROR) == 3


def test_validation_mismatch_shows_the_runtime_diff(home: Path) -> None:
    output = [
        "model 'm': validation FAILED (57 rows)",
        "column 'malignant_proba': 1 of 57 values differ (rtol=1e-06, atol=1e-09)",
        "  row 2: actual 0.0012, expected 0.2512",
    ]
    message = describe_failure("validation", output, "returned a non-zero code: 1", home)
    assert message == "validation failed:\n" + "\n".join(output)


def test_a_model_that_cannot_load_is_not_called_a_mismatch(home: Path) -> None:
    output = ["pyml-runtime: LOAD_ERROR: model.py:3: ModuleNotFoundError: No module named 'x'"]
    message = describe_failure("validation", output, "returned a non-zero code: 2", home)
    assert message.startswith("the model could not be loaded for validation in the image:")
    assert "No module named 'x'" in message


def test_unreachable_index_is_reported_as_a_network_problem(home: Path) -> None:
    output = [
        "WARNING: Retrying (Retry(total=4)) after connection broken by "
        "'NewConnectionError(...: Failed to establish a new connection)': /simple/numpy/",
        "ERROR: No matching distribution found for numpy==2.4.6",
    ]
    message = describe_failure("runtime", output, "non-zero code: 1", home)
    assert message.startswith("pip could not reach the package index")


def test_base_python_mismatch_is_explained(home: Path) -> None:
    output = ["base image has Python 3.12, this PyML host runs 3.11 (its packages are pinned ...)"]
    message = describe_failure("runtime", output, "non-zero code: 1", home)
    assert message.startswith("base image has Python 3.12, this PyML host runs 3.11")


def test_missing_base_image_suggests_the_local_base(home: Path) -> None:
    error = "pull access denied for python, repository does not exist or may require 'docker login'"
    message = describe_failure("base", [], error, home)
    assert "pull access denied" in message and "pyml images base" in message
