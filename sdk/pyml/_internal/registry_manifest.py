"""A registered version's manifest (`VersionRecord`), and what it says about a home folder.

The manifest is JSON, written by `VersionRecord.to_json` and read back (by this module and by
the gateway) as it is. `format` is bumped when a field changes meaning; readers refuse a
format newer than theirs rather than misread it.

The schemas are the text `GetMetadata` shows for the same home: the Arrow schema of the
validation input and expected output, as the runtime's codec encodes them.
"""

from __future__ import annotations

import dataclasses
import getpass
import json
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

import pyml_runtime
from pyml._internal.registry_archive import ArchiveInfo
from pyml._internal.registry_errors import RegistryError
from pyml.contract import ModelKind
from pyml_runtime import codec
from pyml_runtime.batching import MAX_CHECKED_ROWS
from pyml_runtime.config import load_config
from pyml_runtime.errors import PymlError
from pyml_runtime.loader import load_model_class
from pyml_runtime.validation import has_validation, load_validation

MANIFEST_FORMAT = 1
Status = Literal["building", "ready", "failed"]
STATUSES: tuple[Status, ...] = get_args(Status)
KINDS: tuple[ModelKind, ...] = get_args(ModelKind)


@dataclass(frozen=True)
class Failure:
    reason: str
    log_tail: str = ""


@dataclass(frozen=True)
class VersionRecord:
    """One registered version, as its manifest says. `ref` is "name:version"."""

    name: str
    version: int
    status: Status
    kind: ModelKind
    archive_sha256: str
    archive_size_bytes: int
    files: dict[str, str]
    input_schema: str
    output_schema: str
    validation_data: bool
    """False only for a home registered with allow_no_validation=True."""
    runtime_version: str
    python_version: str
    creator: str
    created_at: str
    validation: dict[str, Any] | None = None
    image: dict[str, Any] | None = None
    failure: Failure | None = None
    finished_at: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    """Fields this PyML does not know (written by a newer one of the same format): kept."""

    @property
    def ref(self) -> str:
        return f"{self.name}:{self.version}"

    @property
    def ready(self) -> bool:
        return self.status == "ready"

    def to_dict(self) -> dict[str, Any]:
        """The manifest as a JSON-ready dict (what `to_json` writes)."""
        fields = dataclasses.asdict(self)
        extra = fields.pop("extra")
        return {**extra, "format": MANIFEST_FORMAT, **fields}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> VersionRecord:
        """Parse and type-check a manifest; ValueError says which field is wrong."""
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError(f"manifest is a JSON {type(raw).__name__} (expected: an object)")
        if raw.pop("format", None) != MANIFEST_FORMAT:
            raise ValueError(f"manifest format is not {MANIFEST_FORMAT} (a newer PyML wrote it?)")
        known = {item.name for item in dataclasses.fields(cls)} - {"extra"}
        values = {name: raw.pop(name) for name in known if name in raw}
        for name, expected in _FIELD_TYPES.items():
            if name not in values and name in _REQUIRED:
                raise ValueError(f"manifest has no '{name}'")
            if name in values and not isinstance(values[name], expected):
                raise ValueError(f"manifest '{name}' is {values[name]!r} (expected: {expected})")
        if values["status"] not in STATUSES or values["kind"] not in KINDS:
            raise ValueError(f"manifest status/kind {values['status']!r}/{values['kind']!r}")
        failure = values.pop("failure", None)
        return cls(**values, failure=Failure(**failure) if failure else None, extra=raw)


_NONE = type(None)
_FIELD_TYPES: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "version": int,
    "status": str,
    "kind": str,
    "archive_sha256": str,
    "archive_size_bytes": int,
    "files": dict,
    "input_schema": str,
    "output_schema": str,
    "validation_data": bool,
    "runtime_version": str,
    "python_version": str,
    "creator": str,
    "created_at": str,
    "validation": (dict, _NONE),
    "image": (dict, _NONE),
    "failure": (dict, _NONE),
    "finished_at": (str, _NONE),
}
_REQUIRED = {
    item.name
    for item in dataclasses.fields(VersionRecord)
    if item.default is dataclasses.MISSING and item.default_factory is dataclasses.MISSING
}


def building_record(
    name: str,
    kind: ModelKind,
    archive: ArchiveInfo,
    schemas: tuple[str, str] | None,
    creator: str | None,
) -> VersionRecord:
    """The manifest of a version being registered, before its number is claimed (version 0)."""
    return VersionRecord(
        name=name,
        version=0,
        status="building",
        kind=kind,
        archive_sha256=archive.sha256,
        archive_size_bytes=archive.size_bytes,
        files=archive.files,
        input_schema=schemas[0] if schemas else "",
        output_schema=schemas[1] if schemas else "",
        validation_data=schemas is not None,
        runtime_version=pyml_runtime.__version__,
        python_version=platform.python_version(),
        creator=creator or _current_user(),
        created_at=utc_now(),
    )


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name and no passwd entry (some containers)
        return "unknown"


def home_kind(home: Path) -> ModelKind:
    """The kind the home's validation files imply; model.py decides when they do not."""
    found = [kind for kind in KINDS if has_validation(home, kind)]
    if len(found) == 1:
        return found[0]
    try:
        # Only the class is loaded (its module imported), not instantiated: no weights read.
        return load_model_class(home).kind
    except PymlError as exc:
        raise RegistryError(f"cannot tell the kind of the model in {home}: {exc}") from exc


def validation_schemas(home: Path, kind: ModelKind) -> tuple[str, str]:
    """The input and output schema texts of the home's validation data."""
    try:
        data = load_validation(home, kind)
        return _schema_text(data.input), _schema_text(data.expected)
    except PymlError as exc:
        raise RegistryError(f"{home}: {exc}") from exc


def _schema_text(data: pd.DataFrame | Mapping[str, np.ndarray]) -> str:
    if isinstance(data, pd.DataFrame):
        table = codec.dataframe_to_table(data)
    else:
        table = codec.tensors_to_table(data)
    # Without the pandas metadata blob: the text is for people (as in GetMetadata).
    return str(table.schema.remove_metadata())


def batching_summary(home: Path, kind: ModelKind) -> dict[str, Any]:
    """What the manifest records of adaptive batching for a home whose image built.

    The image build's validation step (`pyml-runtime validate`) predicts the validation rows
    one by one and together when batching is on and fails the build when they differ (or
    when there is no validation data), so a built image passed it.
    """
    try:
        config = load_config(home).batching
        if not config.enabled:
            return {"enabled": False}
        data = load_validation(home, kind).input
    except PymlError as exc:
        raise RegistryError(f"{home}: {exc}") from exc
    rows = len(data) if isinstance(data, pd.DataFrame) else _first_dimension(data)
    return {
        "enabled": True,
        "max_rows": config.max_rows,
        "max_delay_ms": config.max_delay_ms,
        "rows_checked": min(rows, MAX_CHECKED_ROWS),
        "passed": True,
        "check": "validation rows predicted one by one and together agree (image build)",
    }


def _first_dimension(tensors: Mapping[str, np.ndarray]) -> int:
    return max((int(a.shape[0]) for a in tensors.values() if a.ndim), default=0)
