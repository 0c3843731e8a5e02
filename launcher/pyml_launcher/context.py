"""The build context of a model image, assembled in a temporary folder.

    Dockerfile            rendered from the BuildSpec (dockerfile.py)
    model/                the home folder's files (no __pycache__, .git or *.pyc), with modes
                          made readable for everyone: the image runs as uid 65534
    .pyml/constraints.txt the runtime's dependencies pinned to the host's versions
    .pyml/pyml-*.whl      PyML itself (cached wheel, byte-identical between builds)
    .pyml/ca.pem          the host's CA bundle for pip, when PIP_CERT, REQUESTS_CA_BUNDLE or
                          SSL_CERT_FILE names a file (a proxy or a private index works inside
                          the build as it does on the host); used by the pip RUN steps and
                          setup.sh only, never set in the image's environment

pip settings passed as build args when set on the host: PIP_INDEX_URL, PIP_EXTRA_INDEX_URL,
PIP_TRUSTED_HOST; and the proxy variables Docker predefines (HTTP_PROXY, ...). Other PIP_*
variables (PIP_FIND_LINKS naming a host folder, for instance) are deliberately not passed.
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyml_launcher.base_image import resolve_base_image
from pyml_launcher.dockerfile import BuildSpec, render_dockerfile
from pyml_launcher.errors import ImageBuildError
from pyml_launcher.materials import MaterialsError, constraints_text, pyml_wheel, runtime_pins
from pyml_launcher.requirements import REQUIREMENTS, pinned_requirements

CA_VARIABLES = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
PIP_BUILD_ARGS = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST")
# Docker predefines these build args: no ARG line needed, and they stay out of the cache key.
PROXY_BUILD_ARGS = (
    *("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY"),
    *("http_proxy", "https_proxy", "no_proxy"),
)
SKIPPED = ("__pycache__", ".git", ".ipynb_checkpoints")
# Debian package names (policy 5.6.1), optionally with =version or :arch.
_DEBIAN_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?(=[A-Za-z0-9.+~:-]+)?$")
_DOCKER_NAME = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")


@dataclass(frozen=True)
class BuildContext:
    path: Path
    spec: BuildSpec
    build_args: dict[str, str]
    # The model's own requirements as the image installs them: pinned to this environment's
    # versions (normalized name -> version), recorded in the manifest.
    requirements: dict[str, str] = field(default_factory=dict)


def image_tag(name: str, version: int) -> str:
    if not _DOCKER_NAME.match(name):
        raise ImageBuildError(
            f"model name {name!r} cannot name a Docker image: use lowercase letters, digits "
            "and '.', '_' or '-' between them",
            stage="home",
        )
    return f"{image_prefix()}/{name}:{version}"


def image_prefix() -> str:
    """The repository namespace of model images: `PYML_IMAGE_PREFIX`, default `pyml`.

    An organisation's registry path (`registry.example/ml`) or, in tests, one per session
    so that parallel sessions never untag each other's images.
    """
    return os.environ.get("PYML_IMAGE_PREFIX", "").strip().rstrip("/") or "pyml"


def assemble_context(
    home: Path,
    folder: Path,
    *,
    name: str,
    version: int,
    content_sha256: str,
    base_image: str | None = None,
    allow_no_validation: bool = False,
) -> BuildContext:
    """Fill `folder` with the build context of `home`; checks the home first."""
    if not (home / "model.py").is_file():
        raise ImageBuildError(
            f"no model.py in {home}: a model home needs a model.py with a class deriving "
            "from pyml.DataFrameModel or pyml.TensorModel",
            stage="home",
        )
    has_validation = (home / "validation").is_dir() and any((home / "validation").iterdir())
    if not has_validation and not allow_no_validation:
        raise ImageBuildError(
            f"no validation data in {home}/validation: write it with pyml.save_validation, "
            "or build with allow_no_validation=True to skip the output check",
            stage="home",
        )
    materials = folder / ".pyml"
    materials.mkdir(parents=True)
    _copy_home(home, folder / "model")
    pinned = pinned_requirements(home)
    if (home / REQUIREMENTS).is_file():
        (folder / "model" / REQUIREMENTS).write_text(pinned.text)
    wheel = _materials(materials)
    ca_bundle = _copy_ca_bundle(materials)
    build_args = pip_build_args()
    spec = BuildSpec(
        base_image=base_image or resolve_base_image(_configured_base(home)),
        name=name,
        version=version,
        content_sha256=content_sha256,
        wheel_file=wheel.name,
        packages=tuple(name for _, name in read_packages(home / "packages.txt")),
        has_requirements=(home / "requirements.txt").is_file(),
        has_setup=(home / "setup.sh").is_file(),
        check_outputs=has_validation,
        ca_bundle=ca_bundle,
        build_args=tuple(k for k in PIP_BUILD_ARGS if k in build_args),
    )
    (folder / "Dockerfile").write_text(render_dockerfile(spec))
    return BuildContext(folder, spec, build_args, pinned.pins)


def read_packages(path: Path) -> list[tuple[int, str]]:
    """(line number, package) for each package of a packages.txt; [] when there is none."""
    if not path.is_file():
        return []
    found = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        for word in line.split("#", 1)[0].split():
            if not _DEBIAN_PACKAGE.match(word):
                raise ImageBuildError(
                    f"packages.txt:{number}: {word!r} is not a Debian package name",
                    stage="packages",
                )
            found.append((number, word))
    return found


def pip_ca_bundle() -> Path | None:
    """The CA bundle the host's pip trusts, when the environment names one."""
    for variable in CA_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value and Path(value).is_file():
            return Path(value)
    return None


def pip_build_args() -> dict[str, str]:
    names = (*PIP_BUILD_ARGS, *PROXY_BUILD_ARGS)
    return {name: os.environ[name] for name in names if os.environ.get(name, "").strip()}


def _materials(materials: Path) -> Path:
    try:
        wheel = pyml_wheel()
        (materials / "constraints.txt").write_text(constraints_text(runtime_pins()))
    except MaterialsError as exc:
        raise ImageBuildError(str(exc), stage="pyml") from exc
    # copy2 keeps the cached wheel's mtime too: identical bytes and metadata every build.
    shutil.copy2(wheel, materials / wheel.name)
    return wheel


def _copy_ca_bundle(materials: Path) -> bool:
    bundle = pip_ca_bundle()
    if bundle is None:
        return False
    shutil.copyfile(bundle, materials / "ca.pem")
    (materials / "ca.pem").chmod(0o644)
    return True


def _copy_home(home: Path, target: Path) -> None:
    shutil.copytree(home, target, ignore=_ignored)
    # The image runs as uid 65534: everything must be readable (and folders enterable) by
    # others, whatever the user's umask was; executables stay executable.
    for path in [target, *target.rglob("*")]:
        mode = path.stat().st_mode
        if path.is_dir() or mode & 0o100:
            path.chmod(0o755)
        else:
            path.chmod(0o644)


def _ignored(folder: str, names: list[str]) -> set[str]:
    return {n for n in names if n in SKIPPED or n.endswith(".pyc")}


def _configured_base(home: Path) -> str | None:
    """`[image] base` of the home's pyml.toml, if any."""
    path = home / "pyml.toml"
    if not path.is_file():
        return None
    try:
        raw: dict[str, Any] = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ImageBuildError(f"pyml.toml: invalid TOML: {exc}", stage="home") from exc
    image = raw.get("image", {})
    base = image.get("base") if isinstance(image, dict) else None
    if base is not None and (not isinstance(base, str) or not base.strip()):
        raise ImageBuildError(
            f"pyml.toml: [image] base is {base!r} (expected: an image name)", stage="home"
        )
    return base.strip() if isinstance(base, str) else None
