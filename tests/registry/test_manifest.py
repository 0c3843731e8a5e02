"""What a version's manifest records about DataFrame and Tensor homes."""

from __future__ import annotations

import getpass
import hashlib
import json
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

import pyml_runtime
from pyml.registry import NoValidationData, Registry, RegistryError, VersionRecord
from tests.registry.homes import DATAFRAME_MODEL, version_file, write_home


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_dataframe_manifest(registry: Registry, registry_root: Path, df_home: Path) -> None:
    record = registry.create_version("scaler", df_home)
    assert (record.name, record.version, record.status, record.kind) == (
        "scaler",
        1,
        "building",
        "dataframe",
    )
    assert record.input_schema == "x: double\nname: large_string"
    assert record.output_schema == "y: double\nlabel: large_string"
    assert record.validation_data is True
    assert sorted(record.files) == [
        "factor.txt",
        "model.py",
        "validation/expected.parquet",
        "validation/input.parquet",
    ]
    assert all(record.files[name] == _sha(df_home / name) for name in record.files)
    archive = version_file(registry_root, "scaler", 1)
    assert record.archive_sha256 == _sha(archive)
    assert record.archive_size_bytes == archive.stat().st_size
    assert record.runtime_version == pyml_runtime.__version__
    assert record.python_version == platform.python_version()
    assert record.creator == getpass.getuser()
    created = datetime.fromisoformat(record.created_at)
    assert created.tzinfo is not None and created.utcoffset() == UTC.utcoffset(None)
    assert record.image is None and record.validation is None and record.failure is None


def test_tensor_manifest(registry: Registry, tensors_home: Path) -> None:
    record = registry.create_version("doubler", tensors_home, creator="ci-bot")
    assert record.kind == "tensors" and record.creator == "ci-bot"
    assert record.input_schema.startswith("x: extension<arrow.fixed_shape_tensor")
    assert "value_type=float" in record.input_schema
    assert record.output_schema.startswith("doubled: extension<arrow.fixed_shape_tensor")
    assert set(record.files) == {"model.py", "validation/input.npz", "validation/expected.npz"}


def test_the_stored_manifest_is_the_record(
    registry: Registry, registry_root: Path, df_home: Path
) -> None:
    record = registry.create_version("scaler", df_home)
    image = {"id": "sha256:1", "digest": None, "tag": "pyml/scaler:1", "size_bytes": 5, "x": 1}
    ready = registry.mark_ready(record.ref, image=image, validation={"passed": True, "rows": 3})
    stored = json.loads(version_file(registry_root, "scaler", 1, "manifest.json").read_text())
    assert stored["format"] == 1
    assert stored["status"] == "ready" and stored["image"] == image
    assert stored["validation"] == {"passed": True, "rows": 3}
    assert stored["archive_sha256"] == record.archive_sha256
    assert VersionRecord.from_json(ready.to_json()) == ready
    building = version_file(registry_root, "scaler", 1, "building.json").read_text()
    assert VersionRecord.from_json(building) == record  # the claim keeps the first state


def test_corrupt_manifests_are_reported(registry_root: Path, registry: Registry) -> None:
    path = version_file(registry_root, "scaler", 1, "building.json")
    path.parent.mkdir(parents=True)
    path.write_text('{"format": 1, "name": "scaler", "version": "one"}')
    with pytest.raises(RegistryError, match="scaler:1: unreadable manifest"):
        registry.get("scaler", 1)
    with pytest.raises(ValueError, match="format"):
        VersionRecord.from_json('{"format": 99}')


def test_a_home_without_validation_data_is_refused_unless_allowed(
    registry: Registry, tmp_path: Path
) -> None:
    home = write_home(tmp_path / "bare", DATAFRAME_MODEL, **{"factor.txt": "1"})
    with pytest.raises(NoValidationData, match=r"no validation data.*allow_no_validation=True"):
        registry.create_version("bare", home)
    assert registry.names() == []
    record = registry.create_version("bare", home, allow_no_validation=True)
    assert record.validation_data is False and record.kind == "dataframe"
    assert (record.input_schema, record.output_schema) == ("", "")


def test_a_folder_without_model_py_is_not_a_home(registry: Registry, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(RegistryError, match="is not a model home"):
        registry.create_version("empty", tmp_path / "empty", allow_no_validation=True)


def test_the_registry_imports_without_docker() -> None:
    # None in sys.modules makes any `import docker` fail, as it would where it is not installed.
    code = "import sys; sys.modules['docker'] = None; import pyml.registry"
    subprocess.run([sys.executable, "-c", code], check=True)
