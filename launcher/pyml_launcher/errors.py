"""Why an image build failed, in the user's terms: which file, which line, what to do.

`describe_failure` turns the failing stage, the failing step's output and Docker's error into
one message: ``requirements.txt:2: 'nonexistent-pkg-xyz' is not on the package index``,
``packages.txt:1: Debian package 'X' not found``, ``setup.sh exited with code 3`` + its last
lines, ``validation failed:`` + the runtime's diff, ...
"""

from __future__ import annotations

import re
from pathlib import Path

from pyml_launcher.dockerfile import PYTHON_MISMATCH

SHOWN_LINES = 15
_PIP_MISSING = (
    re.compile(r"No matching distribution found for (\S+)"),
    re.compile(r"Could not find a version that satisfies the requirement (\S+)"),
)
_APT_MISSING = (
    re.compile(r"E: Unable to locate package (\S+)"),
    re.compile(r"E: Package '([^']+)' has no installation candidate"),
    re.compile(r"E: Version '[^']+' for '([^']+)' was not found"),
)
_NETWORK = re.compile(
    r"NewConnectionError|Max retries exceeded|CERTIFICATE_VERIFY_FAILED|SSLError"
    r"|Temporary failure in name resolution|Failed to establish a new connection"
)
_EXIT_CODE = re.compile(r"returned a non-zero code: (\d+)")
_REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class ImageBuildError(RuntimeError):
    """A model image did not build. `stage` names the layer; `log_tail` the build's last lines."""

    def __init__(self, message: str, stage: str, log_tail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.stage = stage
        self.log_tail = log_tail


def describe_failure(stage: str, output: list[str], error: str, home: Path) -> str:
    """The message for a build that failed in `stage` (`output`: the failing step's lines)."""
    text = "\n".join(output)
    code = exit_code(error)
    if stage == "base":
        return base_unavailable(error)
    if stage == "packages":
        return _apt_message(text, home) or f"apt-get install of packages.txt failed: {error}"
    if stage in ("runtime", "requirements"):
        return _pip_message(stage, text, home) or f"pip install failed ({stage} layer): {error}"
    if stage == "setup":
        return f"setup.sh exited with code {code}:\n{_tail(output)}"
    if stage == "validation":
        return _validation_message(code, output)
    return f"{stage} step failed: {error}\n{_tail(output)}".rstrip()


def exit_code(error: str) -> int | None:
    found = _EXIT_CODE.search(error)
    return int(found[1]) if found else None


def pip_missing_package(text: str) -> str | None:
    """The requirement pip could not find, from its output."""
    for pattern in _PIP_MISSING:
        found = pattern.search(text)
        if found:
            return found[1]
    return None


def apt_missing_package(text: str) -> str | None:
    for pattern in _APT_MISSING:
        found = pattern.search(text)
        if found:
            return found[1]
    return None


def requirement_line(path: Path, name: str) -> int | None:
    """The line of a requirements file that names `name` (pip's spelling rules)."""
    asked = _REQUIREMENT_NAME.match(name)
    wanted = _normalize(asked[1] if asked else name)
    for number, line in enumerate(_read_lines(path), start=1):
        stripped = line.split("#", 1)[0].strip()
        match = _REQUIREMENT_NAME.match(stripped)
        if match and not stripped.startswith("-") and _normalize(match[1]) == wanted:
            return number
    return None


def package_line(path: Path, name: str) -> int | None:
    """The line of a packages.txt that names the Debian package `name`."""
    bare = name.split("=", 1)[0]
    for number, line in enumerate(_read_lines(path), start=1):
        words = [w.split("=", 1)[0] for w in line.split("#", 1)[0].split()]
        if bare in words:
            return number
    return None


def _apt_message(text: str, home: Path) -> str | None:
    missing = apt_missing_package(text)
    if missing is None:
        return None
    line = package_line(home / "packages.txt", missing)
    where = f"packages.txt:{line}" if line else "packages.txt"
    return f"{where}: Debian package '{missing}' not found"


def _pip_message(stage: str, text: str, home: Path) -> str | None:
    if PYTHON_MISMATCH in text:
        found = re.search(rf"{PYTHON_MISMATCH}[^\n]*", text)
        return f"{found[0] if found else PYTHON_MISMATCH}: choose a base image with that Python"
    if _NETWORK.search(text):
        return (
            "pip could not reach the package index from the build: check the network "
            "(PYML_BUILD_NETWORK=host), a proxy, or PIP_CERT / PIP_INDEX_URL\n" + _tail(text)
        )
    missing = pip_missing_package(text)
    if missing and stage == "requirements":
        line = requirement_line(home / "requirements.txt", missing)
        if line is None:
            return f"requirements.txt: '{missing}' (a dependency) is not on the package index"
        return f"requirements.txt:{line}: '{missing}' is not on the package index"
    if missing:
        return f"PyML runtime dependency '{missing}' (the host's version) is not on the index"
    if "ResolutionImpossible" in text or "conflicting dependencies" in text:
        return (
            "requirements.txt conflicts with the PyML runtime's pinned versions "
            "(pyarrow, pandas, numpy, grpcio, ... as installed on the host):\n" + _tail(text)
        )
    return None


def _validation_message(code: int | None, output: list[str]) -> str:
    body = "\n".join(line for line in output if line.strip())
    # pyml-runtime validate: 1 = outputs differ (or the model raised), 2 = cannot load.
    if code == 1:
        return f"validation failed:\n{body}"
    if code == 2:
        return f"the model could not be loaded for validation in the image:\n{_tail(output)}"
    return f"validation exited with code {code} (killed? out of memory?):\n{_tail(output)}"


def base_unavailable(error: str) -> str:
    """A build could not start FROM its base image (none can be pulled here)."""
    return (
        f"the base image is not available: {error.strip()}\n"
        "No registry reachable? Build PyML's own base image (`pyml images base`) or set "
        "PYML_BASE_IMAGE to a local image"
    )


def _tail(lines: list[str] | str) -> str:
    if isinstance(lines, str):
        lines = lines.splitlines()
    return "\n".join(lines[-SHOWN_LINES:])


def _read_lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except OSError:
        return []


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
