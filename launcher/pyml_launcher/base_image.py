"""PyML's own base image, built from Debian packages where no container registry is reachable.

`ensure_base_image()` runs ``debootstrap --variant=minbase`` (Debian bookworm with python3,
python3-venv, python3-pip and ca-certificates, from the mirror of this machine's apt sources),
drops the downloaded .deb files and apt lists, and imports the tree with the Docker API (the
equivalent of ``tar -C DIR -c . | docker import``) as ``pyml/base:bookworm-py3.11``, with
``PATH`` and ``LANG`` set (an imported image has no config) and the label ``io.pyml.base=1``.
Its Python minor version must be the host's: model images pin the host's packages (wheels
for the host's Python), so a mismatch fails here, clearly, instead of at the first pip step.

`resolve_base_image()` decides what a model image starts FROM: ``PYML_BASE_IMAGE``, else the
home's ``pyml.toml`` ``[image] base``, else PyML's base image when it exists locally, else
``python:3.X-slim`` (the host's minor; needs a reachable registry).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from pyml_launcher._progress import StepDisplay, step_display

SUITE = "bookworm"
DEFAULT_BASE_TAG = f"pyml/base:{SUITE}-py{sys.version_info[0]}.{sys.version_info[1]}"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
BASE_LABEL = "io.pyml.base"
INCLUDE = ("python3", "python3-venv", "python3-pip", "ca-certificates")
IMAGE_ENV = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    f"LABEL {BASE_LABEL}=1",
)
SOURCES_FILES = (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list"))


class BaseImageError(RuntimeError):
    """PyML's base image could not be built; the message says what to do instead."""


def host_python_slim() -> str:
    return f"python:{sys.version_info[0]}.{sys.version_info[1]}-slim"


def resolve_base_image(home_config_base: str | None = None) -> str:
    """The image a model build starts FROM (see the module docstring for the order)."""
    from_env = os.environ.get("PYML_BASE_IMAGE", "").strip()
    if from_env:
        return from_env
    if home_config_base:
        return home_config_base
    if image_exists(DEFAULT_BASE_TAG):
        return DEFAULT_BASE_TAG
    return host_python_slim()


def ensure_base_image(
    tag: str = DEFAULT_BASE_TAG, rebuild: bool = False, progress: bool = True
) -> str:
    """Return `tag`, building PyML's Debian base image under that tag when it is missing."""
    if not rebuild and image_exists(tag):
        return tag
    _check_tools()
    started = time.monotonic()
    with step_display(progress) as display, tempfile.TemporaryDirectory(prefix="pyml-base-") as tmp:
        rootfs = Path(tmp) / "rootfs"
        _debootstrap(rootfs, debian_mirror(), display)
        _check_python(rootfs)
        _slim(rootfs)
        display.status(f"importing {rootfs} into Docker as {tag}")
        _import(rootfs, tag)
        seconds = time.monotonic() - started
        display.note(f"[green]✓[/green] base image {tag} built in {seconds:.0f} s")
    return tag


def debian_mirror() -> str:
    """The Debian mirror of this machine's apt sources (PYML_DEBIAN_MIRROR overrides it)."""
    override = os.environ.get("PYML_DEBIAN_MIRROR", "").strip()
    if override:
        return override
    for path in SOURCES_FILES:
        try:
            text = path.read_text()
        except OSError:
            continue
        mirror = _mirror_in(text)
        if mirror:
            return mirror
    return DEFAULT_MIRROR


def _mirror_in(sources: str) -> str | None:
    # deb822 ("URIs: ...") or one-line ("deb [opts] URI suite ...") format; the security
    # archive is not a full mirror, so it is skipped.
    uris = re.findall(r"^URIs:\s*(\S+)", sources, flags=re.MULTILINE)
    uris += re.findall(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+)", sources, flags=re.MULTILINE)
    return next((uri for uri in uris if "security" not in uri), None)


def _check_tools() -> None:
    if shutil.which("debootstrap") is None:
        raise BaseImageError(
            "debootstrap is not installed: `apt-get install debootstrap`, or set PYML_BASE_IMAGE "
            f"to an image that has python{_host_minor()} (e.g. {host_python_slim()})"
        )
    if os.geteuid() != 0:
        raise BaseImageError(
            "building PyML's base image runs debootstrap, which needs root: run it as root "
            "(`sudo pyml images base`), or set PYML_BASE_IMAGE"
        )


def _debootstrap(rootfs: Path, mirror: str, display: StepDisplay) -> None:
    argv = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(INCLUDE)}",
        SUITE,
        str(rootfs),
        mirror,
    ]
    display.status(f"debootstrap {SUITE} from {mirror} (about 40 s)")
    lines: list[str] = []
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        for line in _lines(process.stdout):
            lines.append(line)
            display.status(f"debootstrap: {line[:90]}")
    if process.returncode != 0:
        tail = "\n".join(lines[-15:])
        raise BaseImageError(f"debootstrap failed (exit {process.returncode}):\n{tail}")


def _lines(stream: IO[str] | None) -> Iterator[str]:
    if stream is None:
        return
    for raw in stream:
        line = raw.rstrip()
        if line:
            yield line


def _check_python(rootfs: Path) -> None:
    """Fail unless the rootfs's python3 has the host's major.minor version."""
    result = subprocess.run(
        ["chroot", str(rootfs), "python3", "--version"], capture_output=True, text=True
    )
    found = re.search(r"Python (\d+)\.(\d+)(\.\d+)?", result.stdout + result.stderr)
    if found is None:
        raise BaseImageError(f"the {SUITE} rootfs has no working python3: {result.stderr.strip()}")
    if (int(found[1]), int(found[2])) != sys.version_info[:2]:
        raise BaseImageError(
            f"Debian {SUITE} has Python {found[0].split()[1]} but this host runs "
            f"Python {_host_minor()}: model images pin the host's packages, so the minor "
            f"versions must match. Set PYML_BASE_IMAGE (e.g. {host_python_slim()})"
        )


def _slim(rootfs: Path) -> None:
    # debootstrap leaves the downloaded .debs and the package lists: ~100 MB nobody needs
    # (builds that install packages.txt run apt-get update first).
    for folder in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for path in (rootfs / folder).glob("*"):
            if path.is_file():
                path.unlink()


def _import(rootfs: Path, tag: str) -> None:
    repository, _, version = tag.rpartition(":")
    if not repository or "/" in version:
        repository, version = tag, "latest"
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    try:
        _docker().api.import_image(
            src=tar.stdout,
            repository=repository,
            tag=version,
            changes=list(IMAGE_ENV),
            stream_src=True,
        )
    finally:
        if tar.stdout is not None:
            tar.stdout.close()
        code = tar.wait()
    if code != 0:
        raise BaseImageError(f"tar of {rootfs} failed (exit {code})")


def image_exists(tag: str) -> bool:
    import docker.errors

    try:
        _docker().api.inspect_image(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def _docker() -> Any:
    from pyml_launcher.engine import docker_client

    return docker_client()


def _host_minor() -> str:
    return f"{sys.version_info[0]}.{sys.version_info[1]}"
