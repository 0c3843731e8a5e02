"""PyML's base image: where its packages come from and which base a build starts FROM."""

from __future__ import annotations

import sys

import pytest

from pyml_launcher.base_image import (
    DEFAULT_BASE_TAG,
    DEFAULT_MIRROR,
    _mirror_in,
    debian_mirror,
    resolve_base_image,
)

DEB822 = """\
Types: deb
URIs: http://security.debian.org/debian-security
Suites: bookworm-security

Types: deb
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
"""
ONE_LINE = "# local\ndeb [arch=amd64] http://ftp.example/debian bookworm main\n"


def test_mirror_is_read_from_either_sources_format_skipping_security() -> None:
    assert _mirror_in(DEB822) == "http://mirror.example/debian"
    assert _mirror_in(ONE_LINE) == "http://ftp.example/debian"
    assert _mirror_in("# nothing here\n") is None


def test_mirror_override_and_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYML_DEBIAN_MIRROR", "http://near.example/debian")
    assert debian_mirror() == "http://near.example/debian"
    monkeypatch.delenv("PYML_DEBIAN_MIRROR")
    assert debian_mirror().startswith("http")  # this machine's apt sources, or the default
    assert DEFAULT_MIRROR == "http://deb.debian.org/debian"


def test_default_tag_names_the_suite_and_the_host_python() -> None:
    major, minor = sys.version_info[:2]
    assert DEFAULT_BASE_TAG.split(":") == ["pyml/base", f"bookworm-py{major}.{minor}"]


def test_base_image_resolution_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYML_BASE_IMAGE", "mine:1")
    assert resolve_base_image("from-toml:2") == "mine:1"
    monkeypatch.delenv("PYML_BASE_IMAGE")
    assert resolve_base_image("from-toml:2") == "from-toml:2"
