"""The model registry: immutable, numbered versions of model home folders.

    registry = Registry.default()                 # $PYML_HOME/registry (default ~/.pyml)
    record = registry.create_version("breast_cancer_lr", Path("breast_cancer_lr/"))
    ...                                           # build the image from registry.download(...)
    registry.mark_ready(record.ref, image={...}, validation={...})
    registry.get("breast_cancer_lr")              # the newest ready version

Storage layout (keys of a `Storage`; on disk, files under the registry folder):

    models/<name>/versions/<n>/building.json   the manifest as registered (status "building");
                                               creating it atomically is what claims number n
    models/<name>/versions/<n>/home.tar.gz     the home folder, a deterministic tar.gz
    models/<name>/versions/<n>/manifest.json   the final manifest (status "ready" or "failed"),
                                               created once, atomically: never rewritten

A version is what `manifest.json` says, or `building.json` while there is none. Numbers
grow monotonically and are never reused: a failed version keeps its number and its files.
Readers (the gateway included) call a version deployable only when manifest.json says
"ready" and the archive's sha256 matches it.
"""

from __future__ import annotations

import dataclasses
import gzip
import os
import re
import tarfile
import tempfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from pyml._internal.registry_archive import extract_archive, sha256_of, write_archive
from pyml._internal.registry_errors import (
    ImmutableVersion,
    InvalidName,
    NoValidationData,
    RegistryError,
    TamperedArtifact,
    UnsafeArchive,
    VersionNotFound,
)
from pyml._internal.registry_manifest import (
    Failure,
    Status,
    VersionRecord,
    building_record,
    home_kind,
    utc_now,
    validation_schemas,
)
from pyml._internal.registry_storage import LocalStorage, Storage
from pyml.contract import ModelKind
from pyml_runtime.validation import has_validation

NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
BUILDING, ARCHIVE, MANIFEST = "building.json", "home.tar.gz", "manifest.json"
IMAGE_KEYS = ("id", "digest", "tag", "size_bytes")
MAX_LOG_TAIL = 64 * 1024  # characters: the end of a build log is where its error is
_MAX_CLAIMS = 1000

Ref = str | VersionRecord


def registry_root() -> Path:
    return Path(os.environ.get("PYML_HOME") or "~/.pyml").expanduser() / "registry"


def validate_name(name: str) -> str:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise InvalidName(
            f"model name {name!r}: expected 1-63 characters of lowercase letters, digits, "
            "'_', '.' and '-', starting with a letter or a digit"
        )
    return name


def parse_ref(ref: str) -> tuple[str, int | None]:
    """ "name" → (name, None), "name:3" → (name, 3); "name:latest" means the newest ready."""
    name, _, version = ref.partition(":")
    validate_name(name)
    if not version or version == "latest":
        return name, None
    if not version.isdigit() or int(version) < 1:
        raise InvalidName(f"model reference {ref!r}: version {version!r} (expected: 1, 2, ...)")
    return name, int(version)


class Registry:
    """Versions of models in a `Storage`; `Registry.default()` is the embedded one."""

    parse_ref = staticmethod(parse_ref)

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    @classmethod
    def default(cls) -> Registry:
        return cls(LocalStorage(registry_root()))

    def __repr__(self) -> str:
        return f"Registry({self.storage!r})"

    # --- registering ---------------------------------------------------------------------------

    def create_version(
        self,
        name: str,
        home: Path,
        creator: str | None = None,
        *,
        kind: ModelKind | None = None,
        allow_no_validation: bool = False,
    ) -> VersionRecord:
        """Archive `home` as the next version of `name`, status "building"."""
        validate_name(name)
        home = Path(home).resolve()
        if not (home / "model.py").is_file():
            raise RegistryError(f"{home} is not a model home (expected: {home / 'model.py'})")
        kind = kind or home_kind(home)
        validated = has_validation(home, kind)
        if not validated and not allow_no_validation:
            raise NoValidationData(
                f"model home {home} has no validation data in validation/ (write it with "
                "pyml.save_validation(home, input), or pass allow_no_validation=True)"
            )
        schemas = validation_schemas(home, kind) if validated else None
        with tempfile.TemporaryFile(prefix="pyml-home-", suffix=".tar.gz") as archive:
            info = write_archive(home, archive)
            record = self._claim(building_record(name, kind, info, schemas, creator))
            archive.seek(0)
            self._store_archive(record, archive)
        return record

    def _claim(self, record: VersionRecord) -> VersionRecord:
        """Take the next free number: atomic create of building.json, retried on conflict."""
        for _ in range(_MAX_CLAIMS):
            numbers = self._numbers(record.name)
            claimed = dataclasses.replace(record, version=max(numbers, default=0) + 1)
            if self.storage.write_new(self._key(claimed, BUILDING), claimed.to_json().encode()):
                return claimed
        raise RegistryError(f"model '{record.name}': no version number after {_MAX_CLAIMS} tries")

    def _store_archive(self, record: VersionRecord, archive: BinaryIO) -> None:
        try:
            self.storage.write_stream(self._key(record, ARCHIVE), archive)
        except BaseException as exc:
            # The number stays taken (never reused); the version says why it has no archive.
            self.mark_failed(record, f"storing the archive failed: {type(exc).__name__}: {exc}")
            raise

    def mark_ready(
        self, ref: Ref, image: Mapping[str, Any], validation: Mapping[str, Any]
    ) -> VersionRecord:
        """Seal a building version as ready with its image and validation summary."""
        missing = [key for key in IMAGE_KEYS if key not in image]
        if missing or not image.get("id"):
            raise RegistryError(f"image {dict(image)!r}: expected keys {', '.join(IMAGE_KEYS)}")
        return self._seal(ref, "ready", image=dict(image), validation=dict(validation))

    def mark_failed(self, ref: Ref, reason: str, log_tail: str = "") -> VersionRecord:
        """Seal a building version as failed; its number is never given to another version."""
        return self._seal(ref, "failed", failure=Failure(reason, log_tail[-MAX_LOG_TAIL:]))

    def _seal(self, ref: Ref, status: Status, **changes: Any) -> VersionRecord:
        record = self._exact(ref, f"mark it {status}")
        if record.status != "building":
            raise ImmutableVersion(_immutable(record, status))
        final = dataclasses.replace(record, status=status, finished_at=utc_now(), **changes)
        try:
            text = final.to_json()
        except (TypeError, ValueError) as exc:
            raise RegistryError(f"{record.ref}: cannot store {status} details: {exc}") from exc
        if not self.storage.write_new(self._key(final, MANIFEST), text.encode()):
            raise ImmutableVersion(_immutable(self._read(record.name, record.version), status))
        return final

    # --- finding ---------------------------------------------------------------------------------

    def names(self) -> list[str]:
        return sorted({key.split("/")[1] for key in self.storage.list("models")})

    def versions(self, name: str) -> list[VersionRecord]:
        return [self._read(name, number) for number in self._numbers(validate_name(name))]

    def get(self, name: str, version: int | None = None) -> VersionRecord:
        """That version (any status), or the newest ready one when `version` is None."""
        numbers = self._numbers(validate_name(name))
        if version is not None and version in numbers:
            return self._read(name, version)
        if version is None:
            for number in reversed(numbers):
                record = self._read(name, number)
                if record.ready:
                    return record
        raise VersionNotFound(self._not_found(name, version, numbers))

    def resolve(self, ref: Ref) -> VersionRecord:
        """A "name[:version]" reference (or a record, re-read) as the stored record."""
        if isinstance(ref, VersionRecord):
            return self.get(ref.name, ref.version)
        return self.get(*parse_ref(ref))

    def _exact(self, ref: Ref, action: str) -> VersionRecord:
        if isinstance(ref, str) and parse_ref(ref)[1] is None:
            raise InvalidName(f"to {action}, name a version ('{ref}:3'), not just '{ref}'")
        return self.resolve(ref)

    def _not_found(self, name: str, version: int | None, numbers: list[int]) -> str:
        if not numbers:
            known = ", ".join(self.names()) or "none"
            return f"no model '{name}' in the registry at {self.storage} (models: {known})"
        listed = ", ".join(f"{n} {self._read(name, n).status}" for n in numbers)
        wanted = f"no version {version}" if version is not None else "no ready version"
        return f"model '{name}' has {wanted} (versions: {listed})"

    # --- integrity -------------------------------------------------------------------------------

    def verify(self, ref: Ref) -> VersionRecord:
        """The record, once the stored archive's sha256 matched the manifest's."""
        record = self.resolve(ref)
        try:
            with self.storage.open(self._key(record, ARCHIVE)) as stream:
                digest = sha256_of(stream)
        except FileNotFoundError:
            raise TamperedArtifact(
                record.ref, ARCHIVE, f"{record.ref}: archive {ARCHIVE} is missing from the registry"
            ) from None
        if digest != record.archive_sha256:
            raise TamperedArtifact(
                record.ref,
                ARCHIVE,
                f"model '{record.name}' version {record.version}: archive {ARCHIVE} has sha256 "
                f"{digest} (expected: {record.archive_sha256}); the stored artifact was "
                "changed, refusing it",
            )
        return record

    def download(self, ref: Ref, dest: Path) -> Path:
        """Verify, then extract the version's home folder into `dest` (absent or empty)."""
        record = self.verify(ref)
        with self.storage.open(self._key(record, ARCHIVE)) as stream:
            try:
                return extract_archive(stream, Path(dest), record.files, record.ref)
            except (tarfile.TarError, gzip.BadGzipFile, zlib.error, EOFError) as exc:
                raise TamperedArtifact(
                    record.ref, ARCHIVE, f"{record.ref}: archive {ARCHIVE} is unreadable: {exc}"
                ) from exc

    # --- storage keys ----------------------------------------------------------------------------

    def _numbers(self, name: str) -> list[int]:
        """The version numbers of `name` that exist (claimed), ascending."""
        numbers = set()
        for key in self.storage.list(f"models/{name}/versions"):
            number = key.split("/")[3]
            if number.isdigit():
                numbers.add(int(number))
        return sorted(numbers)

    def _read(self, name: str, version: int) -> VersionRecord:
        for file in (MANIFEST, BUILDING):
            key = f"models/{name}/versions/{version}/{file}"
            try:
                text = self.storage.read(key)
            except FileNotFoundError:
                continue
            try:
                record = VersionRecord.from_json(text)
            except (ValueError, TypeError) as exc:
                raise RegistryError(f"{name}:{version}: unreadable manifest {key}: {exc}") from exc
            if (record.name, record.version) != (name, version):
                raise RegistryError(f"{key} holds the manifest of {record.ref}")
            return record
        raise VersionNotFound(f"{name}:{version}: no manifest in the registry at {self.storage}")

    @staticmethod
    def _key(record: VersionRecord, file: str) -> str:
        return f"models/{record.name}/versions/{record.version}/{file}"


def _immutable(record: VersionRecord, wanted: str) -> str:
    return (
        f"{record.ref} is already {record.status} and cannot be marked {wanted}: a registered "
        "version never changes (package the home again for a new version)"
    )


__all__ = [
    "Failure",
    "ImmutableVersion",
    "InvalidName",
    "LocalStorage",
    "NoValidationData",
    "Registry",
    "RegistryError",
    "Storage",
    "TamperedArtifact",
    "UnsafeArchive",
    "VersionNotFound",
    "VersionRecord",
    "parse_ref",
    "registry_root",
    "validate_name",
]
