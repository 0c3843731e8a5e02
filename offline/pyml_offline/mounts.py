"""Spark supplied to a model image at run time, never baked into it: a JRE and pyspark,
prepared once on the host and mounted read-only. They live in one cache a machine's (user's)
every ``$PYML_HOME`` shares (`shared_cache`: ``$PYML_CACHE``, else ``$XDG_CACHE_HOME/pyml``,
else ``~/.cache/pyml``): about 890 MB, which each PYML_HOME used to make again.

- ``jre/<digest of the JDK's release file>``: a copy of the host's Java with its
  symlinks resolved (Debian's point into /etc, which the container does not have).
- ``spark/<pyspark version>``: ``pip install --target`` of the host's pyspark and py4j
  versions (pure Python + jars: the same folder serves any Python ≥ 3.10 in the image).
- ``cds/<jre>-<pyspark>-checked``: the class-data-sharing archive of the two
  (`class_archive`), made from what the first job that runs with them records.

Each is made in a temporary sibling and renamed into place: a half-made cache never counts.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from pyml_offline.errors import OfflineJobError

DEFAULT_JAVA_HOME = "/usr/lib/jvm/java-17-openjdk-amd64"
# Not needed to run a JVM; the bulk of a JDK folder.
_JDK_EXTRAS = ("jmods", "include", "man", "legal", "docs", "demo", "src.zip")


def pyml_home() -> Path:
    return Path(os.environ.get("PYML_HOME") or "~/.pyml").expanduser()


def shared_cache() -> Path:
    """The JRE and pyspark cache every PYML_HOME of this user shares (see the docstring)."""
    given = os.environ.get("PYML_CACHE", "").strip()
    if given:
        return Path(given).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    return (Path(xdg).expanduser() if xdg else Path("~/.cache").expanduser()) / "pyml"


def host_java_home() -> Path:
    """JAVA_HOME, or the java on PATH, or Debian's OpenJDK 17."""
    if os.environ.get("JAVA_HOME"):
        return Path(os.environ["JAVA_HOME"])
    java = shutil.which("java")
    home = Path(java).resolve().parent.parent if java else Path(DEFAULT_JAVA_HOME)
    if not (home / "bin" / "java").exists():
        raise OfflineJobError(
            f"no Java found (JAVA_HOME unset, {home}/bin/java missing): the offline job needs "
            "Java 17 on the host, mounted into the model image (apt-get install openjdk-17-jre)"
        )
    return home


def jre_dir(cache: Path | None = None) -> Path:
    """The host's Java, copied with resolved symlinks (made once)."""
    source = host_java_home()
    release = source / "release"
    stamp = release.read_bytes() if release.exists() else str(source).encode()
    target = (cache or shared_cache()) / "jre" / hashlib.sha256(stamp).hexdigest()[:16]
    if not target.exists():
        make_atomically(target, lambda tmp: _copy_jre(source, tmp))
    return target


def _copy_jre(source: Path, dest: Path) -> None:
    shutil.copytree(
        source,
        dest,
        symlinks=False,
        ignore=shutil.ignore_patterns(*_JDK_EXTRAS),
        ignore_dangling_symlinks=True,
    )


def pyspark_dir(cache: Path | None = None) -> Path:
    """pyspark and py4j at the host's versions, installed with ``pip --target`` (made once)."""
    versions = {name: _installed(name) for name in ("pyspark", "py4j")}
    target = (cache or shared_cache()) / "spark" / versions["pyspark"]
    if not target.exists():
        pins = [f"{name}=={version}" for name, version in versions.items()]
        make_atomically(target, lambda tmp: _pip_target(tmp, pins))
    return target


def _installed(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        raise OfflineJobError(
            f"{name} is not installed here: pip install 'pyml[spark]' (the offline job mounts "
            "the host's pyspark version into the model image)"
        ) from None


def _pip_target(dest: Path, pins: list[str]) -> None:
    argv = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target"]
    done = subprocess.run([*argv, str(dest), *pins], capture_output=True, text=True)
    if done.returncode != 0:
        raise OfflineJobError(f"pip install {' '.join(pins)} failed:\n{done.stderr[-2000:]}")


def make_atomically(target: Path, make: Callable[[Path], None]) -> None:
    """`make(folder)` makes a folder that is then renamed to `target`: a half-made cache
    never counts, and `make` raising leaves no `target`."""
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        make(scratch / "content")
        os.replace(scratch / "content", target)  # loses to a concurrent maker: theirs is equal
    except OSError:
        if not target.exists():
            raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
