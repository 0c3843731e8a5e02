"""The home folder as a deterministic tar.gz, and its safe extraction.

Deterministic: entries sorted by path, mtime 0, uid/gid 0 without names, modes reduced to
0644/0755, gzip header without name or time; so the same folder always gives the same sha256,
whoever archives it and whenever. `__pycache__`, `.git` and `*.pyc` are left out. A symlink
to a file is stored as the file it points to (the image needs the bytes, not the link); a
symlinked folder or a special file is refused.

Extraction trusts nothing in the archive: only plain files and folders with relative paths
that stay inside the destination are accepted, every file's sha256 must match the manifest,
and everything is written to a staging folder that becomes `dest` only when all of it checked.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import stat
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO

from pyml._internal.registry_errors import RegistryError, TamperedArtifact, UnsafeArchive

SKIPPED_DIRS = frozenset({"__pycache__", ".git"})
SKIPPED_SUFFIXES = (".pyc",)
CHUNK = 1 << 20


@dataclass(frozen=True)
class ArchiveInfo:
    sha256: str
    size_bytes: int
    files: dict[str, str]
    """Relative POSIX path → sha256 of every file in the archive."""


class _HashingWriter:
    """Passes writes through to `target` and hashes them: the archive is hashed as written."""

    def __init__(self, target: BinaryIO) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.target.write(data)

    def flush(self) -> None:
        self.target.flush()


class _HashingReader:
    def __init__(self, source: BinaryIO) -> None:
        self.source = source
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.source.read(size)
        self.digest.update(data)
        return data


def sha256_of(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def write_archive(home: Path, out: BinaryIO) -> ArchiveInfo:
    """Archive the folder `home` into `out` (tar.gz) and hash the archive and every file."""
    writer = _HashingWriter(out)
    files: dict[str, str] = {}
    with (
        gzip.GzipFile(fileobj=writer, mode="wb", filename="", mtime=0, compresslevel=6) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name, path in _home_entries(home):
            files.update(_add_entry(tar, name, path))
    return ArchiveInfo(writer.digest.hexdigest(), writer.size, files)


def _home_entries(home: Path) -> list[tuple[str, Path]]:
    entries = []
    for folder, dirs, names in os.walk(home):
        dirs[:] = [name for name in dirs if name not in SKIPPED_DIRS]
        base = Path(folder)
        for name in dirs:
            if (base / name).is_symlink():
                raise RegistryError(
                    f"{base / name}: a symlinked folder in the home; copy it in instead"
                )
        kept = dirs + [name for name in names if not name.endswith(SKIPPED_SUFFIXES)]
        entries += [((base / name).relative_to(home).as_posix(), base / name) for name in kept]
    return sorted(entries)


def _add_entry(tar: tarfile.TarFile, name: str, path: Path) -> dict[str, str]:
    try:
        info = path.stat()  # follows a symlink: a linked file is stored as its content
    except FileNotFoundError:
        raise RegistryError(f"{path}: a broken symlink in the home") from None
    entry = tarfile.TarInfo(name)
    entry.mtime = 0
    entry.uid = entry.gid = 0
    entry.uname = entry.gname = ""
    entry.mode = 0o755 if stat.S_ISDIR(info.st_mode) or info.st_mode & 0o100 else 0o644
    if stat.S_ISDIR(info.st_mode):
        entry.type = tarfile.DIRTYPE
        tar.addfile(entry)
        return {}
    if not stat.S_ISREG(info.st_mode):
        raise RegistryError(f"{path}: not a regular file or folder (a device, fifo or socket)")
    entry.size = info.st_size
    with path.open("rb") as file:
        reader = _HashingReader(file)
        tar.addfile(entry, reader)
    return {name: reader.digest.hexdigest()}


def extract_archive(source: BinaryIO, dest: Path, files: Mapping[str, str], ref: str) -> Path:
    """Extract the tar.gz stream into `dest` (absent or empty), checking `files` hashes."""
    dest = Path(dest).absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise RegistryError(f"cannot download {ref} into {dest}: it exists and is not empty")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        seen = _extract_members(source, staging.resolve(), files, ref)
        missing = sorted(set(files) - seen)
        if missing:
            raise TamperedArtifact(
                ref, missing[0], f"{ref}: file '{missing[0]}' of the manifest is not in the archive"
            )
        os.chmod(staging, 0o755)  # mkdtemp makes 0700
        os.replace(staging, dest)  # rename(2) replaces an empty folder, atomically
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest


def _extract_members(source: BinaryIO, root: Path, files: Mapping[str, str], ref: str) -> set[str]:
    seen: set[str] = set()
    with tarfile.open(fileobj=source, mode="r|gz") as tar:
        for member in tar:
            target = root / _safe_name(member, root, ref)
            if member.type == tarfile.DIRTYPE:
                target.mkdir(parents=True, exist_ok=True)
                continue
            name = _regular_file_name(member, files, seen, ref)
            target.parent.mkdir(parents=True, exist_ok=True)
            content = tar.extractfile(member)
            assert content is not None  # a regular file always has content
            digest = _write_file(content, target, member.mode)
            if digest != files[name]:
                raise TamperedArtifact(
                    ref,
                    name,
                    f"{ref}: file '{name}' has sha256 {digest} "
                    f"(expected: {files[name]} from the manifest); refusing it",
                )
            seen.add(name)
    return seen


def _safe_name(member: tarfile.TarInfo, root: Path, ref: str) -> str:
    name = member.name
    parts = name.split("/")
    if (
        not name
        or PurePosixPath(name).is_absolute()
        or "\\" in name
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise UnsafeArchive(
            f"{ref}: archive entry '{name}' is not a plain relative path; refusing the archive"
        )
    # Nothing but plain files and folders is ever created, but check where it lands anyway.
    if not Path(os.path.realpath(root / name)).is_relative_to(root):
        raise UnsafeArchive(f"{ref}: archive entry '{name}' leads outside the destination")
    return name


_TYPE_NAMES = {
    tarfile.SYMTYPE: "a symbolic link",
    tarfile.LNKTYPE: "a hard link",
    tarfile.CHRTYPE: "a character device",
    tarfile.BLKTYPE: "a block device",
    tarfile.FIFOTYPE: "a fifo",
}


def _regular_file_name(
    member: tarfile.TarInfo, files: Mapping[str, str], seen: set[str], ref: str
) -> str:
    name = member.name
    if member.type not in (tarfile.REGTYPE, tarfile.AREGTYPE):
        what = _TYPE_NAMES.get(member.type, f"of tar type {member.type!r}")
        raise UnsafeArchive(f"{ref}: archive entry '{name}' is {what}; refusing the archive")
    if name in seen:
        raise UnsafeArchive(f"{ref}: archive entry '{name}' appears twice; refusing the archive")
    if name not in files:
        raise TamperedArtifact(ref, name, f"{ref}: file '{name}' is not in the manifest")
    return name


def _write_file(content: IO[bytes], target: Path, mode: int) -> str:
    # O_EXCL | O_NOFOLLOW: never write through something that is already there.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    descriptor = os.open(target, flags, 0o755 if mode & 0o100 else 0o644)
    digest = hashlib.sha256()
    with os.fdopen(descriptor, "wb") as file:
        while chunk := content.read(CHUNK):
            digest.update(chunk)
            file.write(chunk)
    return digest.hexdigest()
