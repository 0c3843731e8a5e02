"""`pyml doctor`: what this machine has of what PyML uses, each with its version, and what is
missing with the one step that adds it."""

from __future__ import annotations

import importlib.metadata
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Finding:
    """One part: its version (or place) when found, else why not and what to do."""

    part: str
    found: str | None
    missing: str = ""

    @property
    def ok(self) -> bool:
        return self.found is not None


def examine() -> list[Finding]:
    """Every part, each examined on its own: one that fails to answer never hides another."""
    parts: list[tuple[str, Callable[[], str]]] = [
        ("PyML SDK", lambda: _distribution("pyml", "reinstall PyML")),
        ("PyML runtime", _runtime),
        ("gateway jar", _gateway_jar),
        ("Java", _java),
        ("Docker engine", _docker),
        ("Spark (pyspark)", lambda: _distribution("pyspark", "pip install 'pyml[spark]'")),
        ("Thrift client", lambda: _distribution("thrift", "pip install 'pyml[thrift]'")),
    ]
    findings = []
    for part, find in parts:
        try:
            findings.append(Finding(part, find()))
        except LookupError as missing:
            findings.append(Finding(part, None, str(missing)))
    return findings


def _distribution(name: str, hint: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        raise LookupError(f"not installed: {hint}") from None


def _runtime() -> str:
    import pyml_runtime

    return str(pyml_runtime.__version__)


def _gateway_jar() -> str:
    from pyml._internal.gateway_process import GatewayStartError, gateway_jar

    try:
        jar = gateway_jar()
    except GatewayStartError as error:
        raise LookupError(f"{error}: {getattr(error, 'hint', '')}") from None
    version, wanted = jar_version(jar), importlib.metadata.version("pyml")
    if version is not None and version != wanted:
        raise LookupError(
            f"{version} ({jar}), not this PyML's {wanted}: pip install 'pyml-gateway=={wanted}'"
        )
    return f"{version} ({jar})" if version else str(jar)


def jar_version(jar: Path) -> str | None:
    """The Implementation-Version of a jar's manifest (the gateway's Maven version)."""
    try:
        with zipfile.ZipFile(jar) as archive:
            manifest = archive.read("META-INF/MANIFEST.MF").decode("utf-8", "replace")
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    for line in manifest.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Implementation-Version":
            return value.strip()
    return None


def _java() -> str:
    from pyml._internal.gateway_process import JAVA_RELEASE, java_release

    java = shutil.which("java")
    if java is None:
        raise LookupError(
            f"no java on PATH: the gateway and offline jobs need Java {JAVA_RELEASE} "
            "(apt-get install openjdk-17-jre-headless)"
        )
    release, said = java_release(java)
    if release is None and "does not run" in said:
        raise LookupError(said)
    if release is not None and release < JAVA_RELEASE:
        raise LookupError(
            f"{said} ({java}): the gateway and offline jobs need Java {JAVA_RELEASE} or newer "
            "(apt-get install openjdk-17-jre-headless)"
        )
    return f"{said} ({java})"


def _docker() -> str:
    from pyml_launcher.engine import EngineUnavailable, docker_client

    try:
        version = docker_client().version()
    except EngineUnavailable as error:  # its message says what to do
        raise LookupError(str(error)) from None
    return f"{version.get('Version', '?')} (API {version.get('ApiVersion', '?')})"
