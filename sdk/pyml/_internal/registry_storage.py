"""Where the registry keeps its bytes: a small key/value interface and its local-disk version.

The interface is what an object store offers (S3 and compatibles through pyarrow.fs or
fsspec: get, put, conditional put, list, delete), so a remote store can back the registry
without changing it. Keys are '/'-separated; every segment starts with a letter, a digit or
'_' and holds only letters, digits, '_', '.' and '-', so no key can name '..', an absolute
path or a hidden temporary file.

`write_new` is the one primitive that concurrency rests on: it creates a key only when it does
not exist yet, atomically (S3: a conditional put with ``If-None-Match: *``).
"""

from __future__ import annotations

import builtins
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Protocol

_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# Temporary files start with '.', which no valid key segment does: listings skip them.
_TEMP_PREFIX = ".tmp-"


class Storage(Protocol):
    """Bytes under '/'-separated keys. A missing key raises FileNotFoundError."""

    def read(self, key: str) -> bytes: ...

    def open(self, key: str) -> BinaryIO:
        """The key's bytes as a stream, for artifacts too large to hold in memory."""
        ...

    def write(self, key: str, data: bytes) -> None:
        """Create or atomically replace: readers see the old bytes or the new, never a mix."""
        ...

    def write_stream(self, key: str, source: BinaryIO) -> None:
        """`write` from a stream (read to its end)."""
        ...

    def write_new(self, key: str, data: bytes) -> bool:
        """Create the key atomically; False, and nothing written, when it already exists."""
        ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> builtins.list[str]:
        """Every key under the folder `prefix` ('' for all), sorted."""
        ...

    def delete(self, prefix: str) -> None:
        """Remove the key or every key under the folder `prefix`; missing is not an error."""
        ...


def check_key(key: str) -> str:
    segments = key.split("/")
    if not all(_SEGMENT.match(segment) for segment in segments):
        raise ValueError(
            f"storage key {key!r}: expected '/'-separated segments of letters, digits, "
            "'_', '.' and '-', none empty or starting with '.' or '-'"
        )
    return key


class LocalStorage:
    """Keys as files under `root`; temporary files and renames make every write atomic."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().absolute()

    def __str__(self) -> str:
        return str(self.root)

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def write(self, key: str, data: bytes) -> None:
        path = self._path(key)
        temp = self._write_temp(path.parent, lambda file: file.write(data))
        os.replace(temp, path)

    def write_stream(self, key: str, source: BinaryIO) -> None:
        path = self._path(key)
        temp = self._write_temp(path.parent, lambda file: shutil.copyfileobj(source, file))
        os.replace(temp, path)

    def write_new(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        temp = self._write_temp(path.parent, lambda file: file.write(data))
        try:
            # link(2) never replaces an existing name: it is the atomic "create if absent",
            # and the key appears with its full content (O_EXCL would expose a partial file).
            os.link(temp, path)
        except FileExistsError:
            return False
        finally:
            os.unlink(temp)
        return True

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> builtins.list[str]:
        base = self._path(prefix) if prefix else self.root
        if base.is_file():
            return [prefix]
        keys = []
        for folder, dirs, files in os.walk(base):
            dirs[:] = [name for name in dirs if _SEGMENT.match(name)]
            relative = Path(folder).relative_to(self.root).as_posix()
            for name in files:
                if _SEGMENT.match(name):
                    keys.append(name if relative == "." else f"{relative}/{name}")
        return sorted(keys)

    def delete(self, prefix: str) -> None:
        path = self._path(prefix)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)

    def _path(self, key: str) -> Path:
        path = self.root.joinpath(*check_key(key).split("/"))
        # The key is clean; a symlink planted inside the root could still lead out of it.
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise ValueError(f"storage key {key!r} leads outside {self.root}")
        return path

    def _write_temp(self, folder: Path, fill: _Fill) -> str:
        folder.mkdir(parents=True, exist_ok=True)
        descriptor, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=folder)
        try:
            with os.fdopen(descriptor, "wb") as file:
                fill(file)
                file.flush()
                os.fsync(file.fileno())  # durable before it becomes visible under its key
            os.chmod(temp, 0o644)  # mkstemp makes 0600; the gateway may run as another user
        except BaseException:
            os.unlink(temp)
            raise
        return temp


class _Fill(Protocol):
    def __call__(self, file: BinaryIO, /) -> object: ...
