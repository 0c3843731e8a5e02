"""PyML's own build materials: the pinned runtime constraints and the PyML wheel.

Constraints: the runtime's requirements (``pyml``'s dependencies without extras) and their
transitive dependencies, each pinned ``==`` to the version installed on this host, read with
`importlib.metadata`. The image then computes with the same pyarrow/pandas/numpy/grpcio as
the host that validated the model. Sorted and timestamp-free: the same host gives the same
bytes, so Docker's cache keeps the pip layers.

Wheel: built from the source tree the installed ``pyml`` package lives in (an editable
install or a checkout), with ``pip wheel --no-deps --no-build-isolation`` on a copy of the
packaged files, and cached under ``$PYML_HOME/cache/wheels/<sha256 of those files>/``:
a wheel is a zip with timestamps, so building it again would change its bytes and break the
cache of every layer after it. ``PYML_WHEEL`` names a ready wheel instead (for installs that
have no source tree).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata as metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from pathlib import Path

DISTRIBUTION = "pyml"
KEPT_WHEELS = 5
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*['"]([^'"]+)['"]""")


class MaterialsError(RuntimeError):
    """PyML's wheel or constraints could not be prepared."""


def normalize(name: str) -> str:
    """PEP 503 name: what pip compares (scikit_learn == Scikit-Learn == scikit-learn)."""
    return re.sub(r"[-_.]+", "-", name).lower()


# --- constraints ------------------------------------------------------------------------------


def runtime_pins(distribution: str = DISTRIBUTION) -> dict[str, str]:
    """{normalized name: host version} for the runtime's dependency closure."""
    pins: dict[str, str] = {}
    seen: set[tuple[str, frozenset[str]]] = set()
    pending = list(_requirements(distribution, frozenset()))
    while pending:
        name, extras = pending.pop()
        key = (normalize(name), extras)
        if key in seen:
            continue
        seen.add(key)
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # not installed here: a dependency for another platform or Python
        pins[normalize(name)] = version
        pending.extend(_requirements(name, extras))
    pins.pop(distribution, None)
    return pins


def constraints_text(pins: dict[str, str]) -> str:
    lines = [f"{name}=={version}" for name, version in sorted(pins.items())]
    header = "# PyML runtime dependencies, pinned to the versions of the host that validates."
    return "\n".join([header, *lines]) + "\n"


def _requirements(
    distribution: str, extras: frozenset[str]
) -> Iterator[tuple[str, frozenset[str]]]:
    for text in metadata.requires(distribution) or []:
        requirement, _, marker = text.partition(";")
        wanted = set(_EXTRA_MARKER.findall(marker))
        # A dependency of an extra counts only when that extra was asked for; other markers
        # (platform, Python version) are settled by whether the package is installed here.
        if wanted and not wanted & extras:
            continue
        match = _NAME.match(requirement)
        if match:
            asked = frozenset(e.strip() for e in (match[2] or "").split(",") if e.strip())
            yield match[1], asked


# --- wheel ------------------------------------------------------------------------------------


def pyml_home() -> Path:
    return Path(os.environ.get("PYML_HOME", "~/.pyml")).expanduser()


def pyml_wheel(cache_dir: Path | None = None) -> Path:
    """PyML's wheel: PYML_WHEEL, or built from the source tree once per content and cached."""
    given = os.environ.get("PYML_WHEEL", "").strip()
    if given:
        path = Path(given)
        if not path.is_file():
            raise MaterialsError(f"PYML_WHEEL={given}: no such file")
        return path
    root = source_root()
    files = source_files(root)
    target = (cache_dir or pyml_home() / "cache" / "wheels") / _digest(root, files)[:24]
    cached = sorted(target.glob("*.whl"))
    if cached:
        return cached[0]
    return _build_wheel(root, files, target)


def source_root() -> Path:
    """The folder of the pyproject.toml that packages the imported `pyml`."""
    spec = importlib.util.find_spec(DISTRIBUTION)
    origin = Path(spec.origin).resolve() if spec and spec.origin else None
    for folder in origin.parents if origin else []:
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _project_name(pyproject) == DISTRIBUTION:
            return folder
    raise MaterialsError(
        f"cannot find PyML's source tree (a pyproject.toml above {origin}) to build its wheel: "
        "set PYML_WHEEL to a PyML wheel file"
    )


def source_files(root: Path) -> list[Path]:
    """The files the wheel is made of: pyproject.toml, the readme and the package folders."""
    pyproject = tomllib.loads((root / "pyproject.toml").read_text())
    readme = pyproject.get("project", {}).get("readme")
    files = [root / "pyproject.toml"]
    if isinstance(readme, str) and (root / readme).is_file():
        files.append(root / readme)
    package_dirs = pyproject.get("tool", {}).get("setuptools", {}).get("package-dir", {})
    for folder in sorted(set(package_dirs.values())):
        files.extend(_tree(root / folder))
    return sorted(set(files))


def _tree(folder: Path) -> Iterator[Path]:
    for path in folder.rglob("*"):
        parts = path.relative_to(folder).parts
        # Caches and hidden tool folders are not part of the package.
        if any(p == "__pycache__" or p.startswith(".") for p in parts) or path.suffix == ".pyc":
            continue
        if path.is_file():
            yield path


def _digest(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _build_wheel(root: Path, files: list[Path], target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pyml-wheel-", dir=target.parent) as tmp:
        # A copy of exactly the hashed files: the wheel matches its cache key, and the
        # build leaves no build/ or egg-info behind in the user's tree.
        source, out = Path(tmp) / "src", Path(tmp) / "out"
        for path in files:
            copy = source / path.relative_to(root)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
        argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        argv += ["--quiet", "--wheel-dir", str(out), str(source)]
        result = subprocess.run(argv, capture_output=True, text=True)
        wheels = sorted(out.glob("*.whl"))
        if result.returncode != 0 or not wheels:
            raise MaterialsError(f"building PyML's wheel failed:\n{result.stderr[-3000:]}")
        with contextlib.suppress(OSError):  # atomic: a concurrent build that won keeps its wheel
            out.rename(target)
    _prune(target.parent, keep=KEPT_WHEELS)
    return sorted(target.glob("*.whl"))[0]


def _prune(cache: Path, keep: int) -> None:
    """Keep the newest `keep` cached wheels: each source edit makes a new one."""
    folders = sorted(
        (p for p in cache.iterdir() if p.is_dir() and not p.name.startswith("pyml-wheel-")),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    for folder in folders[keep:]:
        shutil.rmtree(folder, ignore_errors=True)


def _project_name(pyproject: Path) -> str | None:
    try:
        name = tomllib.loads(pyproject.read_text()).get("project", {}).get("name")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return name if isinstance(name, str) else None
