"""`make dist`: what a release of PyML ships, built reproducibly into dist/ with one version.

- ``pyml-<v>-py3-none-any.whl``: the SDK, the CLI and the runtime (model images install this
  same wheel, without its extras);
- ``pyml_gateway-<v>-py3-none-any.whl``: the gateway jar as a Python distribution
  (``pip install 'pyml[gateway]'``), so `pyml gateway` runs without a checkout;
- ``pyml-gateway-<v>.jar``: the same jar, for ``java -jar`` on a server;
- ``SHA256SUMS``; and with ``--image``, the gateway image tagged ``pyml/gateway:<v>``.

Every version (pyproject, the poms, the runtime, the gateway distribution) must be the same:
the script refuses to build otherwise. Zip timestamps come from SOURCE_DATE_EPOCH (the last
commit's time when unset), so the same commit gives byte-identical wheels; the jar's come from
the pom's ``project.build.outputTimestamp``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from xml.etree import ElementTree

from pyml_launcher.materials import build_wheel, source_files

ROOT = Path(__file__).resolve().parents[1]
GATEWAY_PROJECT = ROOT / "gateway-java" / "python"
JAR = ROOT / "gateway-java" / "target" / "pyml-gateway.jar"
POM_NAMESPACE = {"m": "http://maven.apache.org/POM/4.0.0"}
# The earliest time a zip can hold: the fallback when there is no git history to date from.
ZIP_EPOCH = 315532800


class DistError(RuntimeError):
    pass


def versions() -> dict[str, str]:
    """Every place a PyML version is written, and what it says."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    gateway = tomllib.loads((GATEWAY_PROJECT / "pyproject.toml").read_text())
    extra = " ".join(pyproject["project"]["optional-dependencies"]["gateway"])
    return {
        "pyproject.toml": pyproject["project"]["version"],
        "pyproject.toml [gateway] extra": extra.partition("==")[2],
        "pom.xml": _pom_version(ROOT / "pom.xml", "project"),
        "gateway-java/pom.xml (parent)": _pom_version(ROOT / "gateway-java/pom.xml", "parent"),
        "gateway-java/python/pyproject.toml": gateway["project"]["version"],
        "pyml_gateway.__version__": _assigned_version(GATEWAY_PROJECT / "pyml_gateway"),
        "pyml_runtime.__version__": _assigned_version(ROOT / "python-runtime" / "pyml_runtime"),
    }


def _pom_version(pom: Path, element: str) -> str:
    """The <version> of a pom's project, or of its <parent>."""
    root = ElementTree.parse(pom).getroot()
    owner = root if element == "project" else root.find("m:parent", POM_NAMESPACE)
    version = owner.find("m:version", POM_NAMESPACE) if owner is not None else None
    return (version.text or "?").strip() if version is not None else "?"


def _assigned_version(package: Path) -> str:
    found = re.search(r'^__version__ = "([^"]+)"', (package / "__init__.py").read_text(), re.M)
    return found[1] if found else "?"


def the_version() -> str:
    found = versions()
    if len(set(found.values())) != 1:
        lines = "\n".join(f"  {place}: {version}" for place, version in found.items())
        raise DistError(f"PyML's versions differ; make them one:\n{lines}")
    return next(iter(found.values()))


def source_date_epoch() -> str:
    given = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if given:
        return given
    done = subprocess.run(
        ["git", "-C", str(ROOT), "log", "-1", "--format=%ct"], capture_output=True, text=True
    )
    return done.stdout.strip() if done.returncode == 0 and done.stdout.strip() else str(ZIP_EPOCH)


def build(out: Path, image: bool) -> list[Path]:
    version = the_version()
    if not JAR.is_file():
        raise DistError(f"{JAR} is missing: make gateway-jar")
    os.environ["SOURCE_DATE_EPOCH"] = source_date_epoch()
    out.mkdir(parents=True, exist_ok=True)
    made = [
        _wheel({f.relative_to(ROOT).as_posix(): f for f in source_files(ROOT)}, out),
        _wheel(_gateway_files(), out),
        _copy(JAR, out / f"pyml-gateway-{version}.jar"),
    ]
    (out / "SHA256SUMS").write_text(
        "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.name}\n" for p in made)
    )
    if image:
        _gateway_image(version)
    return made


def _gateway_files() -> dict[str, Path]:
    files = {
        path.relative_to(GATEWAY_PROJECT).as_posix(): path
        for path in sorted(GATEWAY_PROJECT.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    files["pyml_gateway/pyml-gateway.jar"] = JAR
    return files


def _wheel(files: dict[str, Path], out: Path) -> Path:
    with tempfile.TemporaryDirectory(prefix="pyml-dist-") as tmp:
        wheel = build_wheel(files, Path(tmp))
        return _copy(wheel, out / wheel.name)


def _copy(source: Path, dest: Path) -> Path:
    shutil.copyfile(source, dest)
    return dest


def _gateway_image(version: str) -> None:
    from pyml_launcher.engine import docker_client
    from pyml_launcher.gateway_image import GATEWAY_REPOSITORY, build_gateway_image

    built = build_gateway_image(JAR)
    docker_client().images.get(built.tag).tag(GATEWAY_REPOSITORY, version)
    print(f"image {GATEWAY_REPOSITORY}:{version} ({built.tag})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "dist")
    parser.add_argument("--image", action="store_true", help="also tag pyml/gateway:<version>")
    args = parser.parse_args()
    try:
        made = build(args.out, args.image)
    except DistError as error:
        print(f"✗ {error}", file=sys.stderr)
        return 1
    for path in made:
        print(f"{path}  ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
