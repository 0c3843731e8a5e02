"""The gateway's class archive (`gateway_jvm`), which `make setup` makes beside the
checkout's jar: gateways start mapping it, and a JVM that cannot use it starts without it,
quietly."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pyml._internal.gateway_process import CHECKOUT_JAR, start_gateway
from pyml_launcher import gateway_jvm


@pytest.fixture(scope="module")
def archive() -> Path:
    made = gateway_jvm.archive_of(CHECKOUT_JAR)
    assert made.is_file(), f"no class archive beside {CHECKOUT_JAR}: `make setup` makes it"
    return made


def _cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def test_a_gateway_of_the_checkout_starts_mapping_its_class_archive(
    archive: Path, tmp_path: Path
) -> None:
    # -Xshare:on: a JVM that cannot map the archive refuses to start, so ready means mapped.
    options = [*gateway_jvm.class_archive(CHECKOUT_JAR), "-Xshare:on"]
    gateway = start_gateway(registry_dir=tmp_path / "registry", jvm_options=options)
    try:
        assert f"-XX:SharedArchiveFile={archive}" in _cmdline(gateway.process.pid)
    finally:
        gateway.stop()
    plain = start_gateway(registry_dir=tmp_path / "registry")  # as every launcher starts it
    try:
        assert f"-XX:SharedArchiveFile={archive}" in _cmdline(plain.process.pid)
    finally:
        plain.stop()


def test_an_archive_of_another_jar_is_ignored_quietly(archive: Path, tmp_path: Path) -> None:
    """A jar rebuilt since the archive was made (another size or time) starts without it."""
    jar = tmp_path / "pyml-gateway.jar"
    shutil.copyfile(CHECKOUT_JAR, jar)
    shutil.copyfile(archive, gateway_jvm.archive_of(jar))
    gateway = start_gateway(registry_dir=tmp_path / "registry", jar=jar)
    try:
        said = "\n".join(gateway.output)
    finally:
        gateway.stop()
    assert "archive" not in said.lower() and "cds" not in said.lower(), said


def test_no_archive_no_options(tmp_path: Path) -> None:
    assert gateway_jvm.class_archive(tmp_path / "pyml-gateway.jar") == []
