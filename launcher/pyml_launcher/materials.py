"""PyML's own build materials: the pinned runtime constraints and the PyML wheel.

Constraints: the runtime's requirements (``pyml``'s dependencies without extras) and their
transitive dependencies, each pinned ``==`` to the version installed on this host, read with
`importlib.metadata`. The image then computes with the same pyarrow/pandas/numpy/grpcio as
the host that validated the model. Sorted and timestamp-free: the same host gives the same
bytes, so Docker's cache keeps the pip layers.

Wheel: the image gets the very PyML the packaging environment runs, found in one of three ways:

- ``PYML_WHEEL`` names a ready wheel;
- an installed PyML (``pip install pyml``, no source tree): its files, as pip's RECORD lists
  them (each checked against the hash recorded at install), are packed back into the wheel
  they came from with ``wheel pack`` (the ``docker`` extra brings it). Timestamps are fixed,
  so the same install gives the same bytes;
- a checkout (an editable install): built from the source tree with ``pip wheel --no-deps
  --no-build-isolation`` on a copy of the packaged files.

Either way it is cached under ``$PYML_HOME/cache/wheels/<digest of its files>/``: a wheel is a
zip with timestamps, so building it again would change its bytes and break the cache of every
layer after it.
"""

from __future__ import annotations

import base64
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
from collections.abc import Iterator, Mapping
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
    """PyML's wheel: PYML_WHEEL, or the installed PyML packed again, or built from the source
    tree; made once per content and cached."""
    given = os.environ.get("PYML_WHEEL", "").strip()
    if given:
        path = Path(given)
        if not path.is_file():
            raise MaterialsError(f"PYML_WHEEL={given}: no such file")
        return path
    cache = cache_dir or pyml_home() / "cache" / "wheels"
    installed = installed_distribution()
    if installed is not None:
        return _packed_wheel(installed, cache)
    root = source_root()
    files = source_files(root)
    target = cache / _digest(root, files)[:24]
    cached = sorted(target.glob("*.whl"))
    if cached:
        return cached[0]
    return _build_wheel(root, files, target)


# --- an installed PyML, packed again ----------------------------------------------------------

# pip writes these at install time; the wheel never had them (RECORD is made again by the pack).
_INSTALL_ONLY = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
# Fixed zip timestamps (the earliest a zip can hold): the same files give the same bytes.
_ZIP_EPOCH = "315532800"


def installed_distribution() -> metadata.Distribution | None:
    """The installed `pyml` distribution when the imported package is its files (a regular
    install); None for an editable install or a checkout on the path."""
    try:
        distribution = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    spec = importlib.util.find_spec(DISTRIBUTION)
    if spec is None or spec.origin is None:
        return None
    imported = Path(spec.origin).resolve()
    for file in distribution.files or []:
        if file.as_posix() == f"{DISTRIBUTION}/__init__.py":
            return distribution if Path(str(file.locate())).resolve() == imported else None
    return None


def _packed_wheel(distribution: metadata.Distribution, cache: Path) -> Path:
    files = [file for file in distribution.files or [] if _in_wheel(file)]
    digest = hashlib.sha256()
    for file in sorted(files, key=lambda f: f.as_posix()):
        digest.update(f"{file.as_posix()}\0{file.hash.value if file.hash else ''}\0".encode())
    target = cache / f"installed-{digest.hexdigest()[:24]}"
    cached = sorted(target.glob("*.whl"))
    if cached:
        return cached[0]
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="pyml-wheel-", dir=cache) as tmp:
        unpacked, out = Path(tmp) / "unpacked", Path(tmp) / "out"
        for file in files:
            _copy_checked(file, unpacked / file.as_posix())
        out.mkdir()
        _pack(unpacked, out)
        with contextlib.suppress(OSError):  # atomic: a concurrent build that won keeps its wheel
            out.rename(target)
    _prune(cache, keep=KEPT_WHEELS)
    return sorted(target.glob("*.whl"))[0]


def _in_wheel(file: metadata.PackagePath) -> bool:
    parts = file.parts
    if file.is_absolute() or ".." in parts:
        return False  # console scripts (pip makes them again from entry_points.txt), data files
    if "__pycache__" in parts or file.suffix == ".pyc":
        return False
    return not (parts[0].endswith(".dist-info") and file.name in _INSTALL_ONLY)


def _copy_checked(file: metadata.PackagePath, dest: Path) -> None:
    """Copy an installed file, refusing one changed since pip wrote it: the image must get
    the PyML that was installed, not a local edit of it."""
    source = Path(str(file.locate()))
    data = source.read_bytes()
    if file.hash is not None and file.hash.mode == "sha256":
        found = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        if found != file.hash.value:
            raise MaterialsError(
                f"the installed PyML file {source} differs from what pip installed: "
                "reinstall it (pip install --force-reinstall pyml) or set PYML_WHEEL"
            )
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)


def _pack(unpacked: Path, out: Path) -> None:
    if importlib.util.find_spec("wheel") is None:
        raise MaterialsError(
            "packing the installed PyML into the image needs the 'wheel' package: "
            "pip install 'pyml[docker]'"
        )
    argv = [sys.executable, "-m", "wheel", "pack", "--dest-dir", str(out), str(unpacked)]
    env = {**os.environ, "SOURCE_DATE_EPOCH": _ZIP_EPOCH}
    result = subprocess.run(argv, capture_output=True, text=True, env=env)
    if result.returncode != 0 or not list(out.glob("*.whl")):
        raise MaterialsError(f"packing the installed PyML failed:\n{result.stderr[-3000:]}")


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
        out = Path(tmp) / "out"
        build_wheel({path.relative_to(root).as_posix(): path for path in files}, out)
        with contextlib.suppress(OSError):  # atomic: a concurrent build that won keeps its wheel
            out.rename(target)
    _prune(target.parent, keep=KEPT_WHEELS)
    return sorted(target.glob("*.whl"))[0]


def build_wheel(files: Mapping[str, Path], out: Path) -> Path:
    """The wheel of the source tree made of `files` ({path in the tree: file}), in `out`.

    Built from a copy of exactly those files: the wheel matches what was hashed, and the build
    leaves no build/ or egg-info behind in the user's tree. Zip timestamps follow
    SOURCE_DATE_EPOCH when it is set (`make dist`), else they are fixed: the same files give
    the same bytes, so every PYML_HOME's images share the layers of PyML's install and of the
    validation run (with the build's time in its METADATA and RECORD, each new home built
    them again, 6-8 s an image).
    """
    with tempfile.TemporaryDirectory(prefix="pyml-wheel-src-") as tmp:
        source = Path(tmp)
        for name, path in files.items():
            copy = source / name
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, copy)
        argv = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        argv += ["--quiet", "--wheel-dir", str(out), str(source)]
        epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip() or _ZIP_EPOCH
        env = {**os.environ, "SOURCE_DATE_EPOCH": epoch}
        result = subprocess.run(argv, capture_output=True, text=True, env=env)
    wheels = sorted(out.glob("*.whl"))
    if result.returncode != 0 or len(wheels) != 1:
        raise MaterialsError(f"building a wheel failed:\n{result.stderr[-3000:]}")
    return wheels[0]


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
