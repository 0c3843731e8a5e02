"""Archives: deterministic, tamper-evident, and extracted safely whatever they contain."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tarfile
from pathlib import Path

import pytest

from pyml.registry import Registry, RegistryError, TamperedArtifact, UnsafeArchive, VersionRecord
from tests.registry.homes import entry, store_raw_version, tar_gz, version_file


def test_the_same_folder_gives_the_same_archive(
    registry: Registry, df_home: Path, tmp_path: Path
) -> None:
    first = registry.create_version("scaler", df_home)
    copy = Path(shutil.copytree(df_home, tmp_path / "elsewhere" / "copy"))
    for path in copy.rglob("*"):
        os.utime(path, (1_000_000, 1_000_000))
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "model.cpython-311.pyc").write_bytes(b"cache")
    (copy / "stale.pyc").write_bytes(b"cache")
    (copy / ".git").mkdir()
    (copy / ".git" / "HEAD").write_text("ref: refs/heads/main")
    second = registry.create_version("scaler", copy)
    assert second.archive_sha256 == first.archive_sha256
    assert second.files == first.files
    (copy / "factor.txt").write_text("2.6")
    assert registry.create_version("scaler", copy).archive_sha256 != first.archive_sha256


def test_download_gives_back_the_home(registry: Registry, df_home: Path, tmp_path: Path) -> None:
    (df_home / "setup.sh").write_text("#!/bin/sh\necho hi\n")
    (df_home / "setup.sh").chmod(0o755)
    (df_home / "data" / "empty").mkdir(parents=True)
    (df_home / "__pycache__").mkdir()
    (df_home / "__pycache__" / "x.pyc").write_bytes(b"cache")
    record = registry.create_version("scaler", df_home)
    dest = registry.download(record.ref, tmp_path / "out" / "home")
    got = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*"))
    assert got == sorted([*record.files, "validation", "data", "data/empty"])
    for name in record.files:
        assert (dest / name).read_bytes() == (df_home / name).read_bytes()
    assert os.access(dest / "setup.sh", os.X_OK) and not os.access(dest / "model.py", os.X_OK)
    assert sorted(os.listdir(tmp_path / "out")) == ["home"]  # no staging folder left
    empty = tmp_path / "empty"
    empty.mkdir()
    assert registry.download(record.ref, empty) == empty.absolute()
    with pytest.raises(RegistryError, match="exists and is not empty"):
        registry.download(record.ref, dest)


def test_a_changed_byte_in_the_archive_is_refused(
    registry: Registry, registry_root: Path, df_home: Path, tmp_path: Path
) -> None:
    registry.create_version("scaler", df_home)
    record = registry.mark_ready(
        "scaler:1", image={"id": "i", "digest": None, "tag": "t", "size_bytes": 1}, validation={}
    )
    archive = version_file(registry_root, "scaler", 1)
    data = bytearray(archive.read_bytes())
    data[len(data) // 2] ^= 0x01
    archive.write_bytes(bytes(data))
    for call in (
        lambda: registry.verify("scaler"),
        lambda: registry.download(record, tmp_path / "d"),
    ):
        with pytest.raises(
            TamperedArtifact, match=r"model 'scaler' version 1: archive home.tar.gz"
        ):
            call()
    assert not (tmp_path / "d").exists()
    archive.unlink()
    with pytest.raises(TamperedArtifact, match="missing") as caught:
        registry.verify("scaler:1")
    assert (caught.value.ref, caught.value.artifact) == ("scaler:1", "home.tar.gz")


def test_a_file_whose_hash_differs_from_the_manifest_is_refused(
    registry: Registry, registry_root: Path, df_home: Path, tmp_path: Path
) -> None:
    # The archive is intact but the manifest's hash of one file is not: extraction checks both.
    template = registry.create_version("scaler", df_home)
    archive = version_file(registry_root, "scaler", 1).read_bytes()
    files = {**template.files, "factor.txt": hashlib.sha256(b"2.6").hexdigest()}
    ref = store_raw_version(registry_root, "forged", archive, files, template)
    with pytest.raises(TamperedArtifact, match=r"forged:1: file 'factor.txt' has sha256") as caught:
        registry.download(ref, tmp_path / "d")
    assert caught.value.artifact == "factor.txt"
    assert not (tmp_path / "d").exists()
    missing = {**template.files, "weights.bin": "0" * 64}
    ref = store_raw_version(registry_root, "missing", archive, missing, template)
    with pytest.raises(TamperedArtifact, match=r"file 'weights\.bin' of the manifest is not in"):
        registry.download(ref, tmp_path / "d")
    fewer = {name: sha for name, sha in template.files.items() if name != "factor.txt"}
    ref = store_raw_version(registry_root, "fewer", archive, fewer, template)
    with pytest.raises(TamperedArtifact, match=r"file 'factor\.txt' is not in the manifest"):
        registry.download(ref, tmp_path / "d")


OK_FILE = (entry("model.py"), b"x = 1\n")
OK_SHA = {"model.py": hashlib.sha256(b"x = 1\n").hexdigest()}


def _unsafe_archives(outside: Path) -> dict[str, tuple[bytes, str]]:
    """Archive → the words the refusal must say; `outside` is where an escape would write."""
    return {
        "dotdot": (tar_gz(OK_FILE, (entry("../outside/x"), b"evil")), "'../outside/x'"),
        "nested-dotdot": (tar_gz((entry("a/../../outside/x"), b"evil")), "not a plain"),
        "absolute": (tar_gz((entry(f"{outside}/abs"), b"evil")), "not a plain relative"),
        "etc": (tar_gz((entry("/etc/x"), b"evil")), "'/etc/x'"),
        "symlink": (
            tar_gz(OK_FILE, (entry("passwd", tarfile.SYMTYPE, "/etc/passwd"), None)),
            "'passwd' is a symbolic link",
        ),
        "symlink-then-write": (
            tar_gz((entry("dir", tarfile.SYMTYPE, str(outside)), None), (entry("dir/x"), b"evil")),
            "'dir' is a symbolic link",
        ),
        "hardlink": (
            tar_gz(OK_FILE, (entry("hard", tarfile.LNKTYPE, "/etc/passwd"), None)),
            "'hard' is a hard link",
        ),
        "hardlink-relative": (
            tar_gz(OK_FILE, (entry("hard", tarfile.LNKTYPE, "model.py"), None)),
            "'hard' is a hard link",
        ),
        "device": (tar_gz((entry("null", tarfile.CHRTYPE), None)), "a character device"),
        "fifo": (tar_gz((entry("pipe", tarfile.FIFOTYPE), None)), "'pipe' is a fifo"),
        "twice": (tar_gz(OK_FILE, OK_FILE), "'model.py' appears twice"),
    }


@pytest.mark.parametrize("case", list(_unsafe_archives(Path("/x"))))
def test_unsafe_archives_write_nothing(
    registry: Registry, registry_root: Path, df_home: Path, tmp_path: Path, case: str
) -> None:
    template = registry.create_version("scaler", df_home)
    outside = tmp_path / "outside"
    outside.mkdir()
    archive, words = _unsafe_archives(outside)[case]
    ref = store_raw_version(registry_root, "evil", archive, OK_SHA, template)
    registry.verify(ref)  # the archive is the registered one: only extraction can catch it
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(UnsafeArchive, match=re.escape(words)):
        registry.download(ref, tmp_path / "dest")
    assert list(outside.iterdir()) == []
    assert sorted(os.listdir(tmp_path)) == before  # no dest, no staging folder
    assert Path("/etc/passwd").read_bytes() != b"evil" and not Path("/etc/x").exists()


def test_a_damaged_archive_with_a_matching_manifest_is_refused(
    registry: Registry, registry_root: Path, df_home: Path, tmp_path: Path
) -> None:
    template: VersionRecord = registry.create_version("scaler", df_home)
    ref = store_raw_version(registry_root, "junk", b"not a tar.gz", OK_SHA, template)
    with pytest.raises(TamperedArtifact, match=r"junk:1: archive home\.tar\.gz is unreadable"):
        registry.download(ref, tmp_path / "dest")
    assert not (tmp_path / "dest").exists()


def test_links_and_special_files_in_a_home(
    registry: Registry, df_home: Path, tmp_path: Path
) -> None:
    (tmp_path / "weights.bin").write_bytes(b"\x00\x01weights")
    (df_home / "weights.bin").symlink_to(tmp_path / "weights.bin")
    record = registry.create_version("scaler", df_home)
    dest = registry.download(record.ref, tmp_path / "out")
    assert not (dest / "weights.bin").is_symlink()  # a linked file is stored as its bytes
    assert (dest / "weights.bin").read_bytes() == b"\x00\x01weights"
    (df_home / "shared").symlink_to(tmp_path, target_is_directory=True)
    with pytest.raises(RegistryError, match="symlinked folder"):
        registry.create_version("scaler", df_home)
    (df_home / "shared").unlink()
    os.mkfifo(df_home / "pipe")
    with pytest.raises(RegistryError, match="not a regular file"):
        registry.create_version("scaler", df_home)
    assert [r.version for r in registry.versions("scaler")] == [1]  # refused before claiming
