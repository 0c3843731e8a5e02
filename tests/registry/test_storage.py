"""LocalStorage: atomic create, keys that cannot escape the root, listings without temp files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyml.registry import LocalStorage


def test_write_new_creates_once_and_never_overwrites(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    assert storage.write_new("a/b/claim.json", b"first")
    assert not storage.write_new("a/b/claim.json", b"second")
    assert storage.read("a/b/claim.json") == b"first"
    assert os.listdir(tmp_path / "a" / "b") == ["claim.json"]  # no temporary file left


def test_write_replaces_and_streams(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.write("k", b"one")
    storage.write("k", b"two")
    assert storage.read("k") == b"two"
    with (tmp_path / "source").open("wb") as file:
        file.write(b"x" * 3_000_000)
    with (tmp_path / "source").open("rb") as file:
        storage.write_stream("big/blob", file)
    with storage.open("big/blob") as stream:
        assert stream.read() == b"x" * 3_000_000


@pytest.mark.parametrize(
    "key", ["../x", "a/../../x", "/etc/passwd", "a//b", "", ".hidden", "a/.tmp-1", "a\\b", "-x"]
)
def test_keys_that_could_escape_are_refused(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path / "root")
    with pytest.raises(ValueError, match="storage key"):
        storage.write(key, b"x")
    assert not (tmp_path / "x").exists()


def test_a_symlink_inside_the_root_does_not_lead_out(tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    (tmp_path / "outside").mkdir()
    (tmp_path / "root" / "link").symlink_to(tmp_path / "outside")
    with pytest.raises(ValueError, match="outside"):
        LocalStorage(tmp_path / "root").write("link/file", b"x")
    assert list((tmp_path / "outside").iterdir()) == []


def test_list_exists_delete(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    for key in ["m/a/1", "m/a/2", "m/ab/1", "n/1"]:
        storage.write(key, b"x")
    (tmp_path / "m" / "a" / ".tmp-half-written").write_bytes(b"x")
    assert storage.list("m/a") == ["m/a/1", "m/a/2"]
    assert storage.list() == ["m/a/1", "m/a/2", "m/ab/1", "n/1"]
    assert storage.list("missing") == []
    assert storage.exists("n/1") and not storage.exists("n/2") and not storage.exists("m")
    storage.delete("m")
    storage.delete("missing/too")
    assert storage.list() == ["n/1"]
    with pytest.raises(FileNotFoundError):
        storage.read("m/a/1")
