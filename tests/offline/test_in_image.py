"""The job in the model's own image (same image id as online), and parity with the online
sidecar: the same rows give bit-for-bit the same outputs (the point of the feature)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pyml.model import Model
from pyml.v1 import payload_pb2, runtime_pb2_grpc
from pyml.version import ModelVersion
from pyml_launcher.local import run_model_container
from pyml_offline.errors import OfflineJobError
from pyml_offline.runner import OFFLINE_LABEL
from pyml_offline.sample_tables import cancer_rows
from pyml_runtime import codec
from tests.conftest import REPO

NOISY_ROWS = 100_000
PYML_CLI = str(Path(sys.executable).parent / "pyml")
CHUNK_ROWS = 10_000  # per online request: well under gRPC's message limits


@pytest.fixture(scope="module")
def offline_home() -> Iterator[Path]:
    """$PYML_HOME for these tests (registry, caches, warehouse); short, for the socket path."""
    import shutil
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="pyml-off-", dir="/tmp"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYML_HOME", str(home))
        yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def version(offline_home: Path, cancer_home: Path) -> Iterator[ModelVersion]:
    packaged = Model.from_home(cancer_home).package(progress=False)
    yield packaged
    import docker

    client = docker.from_env()
    for container in client.containers.list(all=True, filters={"label": OFFLINE_LABEL}):
        if container.labels.get(OFFLINE_LABEL) == packaged.ref:
            container.remove(force=True)
    client.images.remove(str(packaged.image["tag"]), force=True)


@pytest.fixture(scope="module")
def source_tables(offline_home: Path) -> dict[str, int]:
    """cancer.cells (the dataset) and cancer.noisy (resampled with noise), made by the CLI."""
    made = {"cancer.cells": None, "cancer.noisy": NOISY_ROWS}
    for table, rows in made.items():
        argv = [PYML_CLI, "offline-sample-table", "--table", table]
        argv += ["--rows", str(rows)] if rows else []
        subprocess.run(argv, check=True, cwd=REPO, capture_output=True)
    return {"cancer.cells": len(cancer_rows()), "cancer.noisy": NOISY_ROWS}


def _read(offline_home: Path, table: str, tmp_path: Path) -> tuple[pa.Table, dict[str, str]]:
    argv = [sys.executable, "-m", "tests.offline.read_table", str(offline_home / "warehouse")]
    subprocess.run([*argv, table, str(tmp_path)], check=True, cwd=REPO, capture_output=True)
    properties = json.loads((tmp_path / "properties.json").read_text())
    return pq.read_table(tmp_path / "table.parquet").sort_by("id"), properties


def _online(version: ModelVersion, rows: pa.Table, socket_dir: Path) -> pa.Table:
    """The rows through the sidecar in a container of the same image (the online path)."""
    parts = []
    with run_model_container(str(version.image["tag"]), socket_dir) as container:
        container.wait_ready(timeout=60)
        with grpc.insecure_channel(f"unix:{container.socket_path}") as channel:
            stub = runtime_pb2_grpc.ModelRuntimeStub(channel)  # type: ignore[no-untyped-call]
            for start in range(0, rows.num_rows, CHUNK_ROWS):
                chunk = codec.encode_table(rows.slice(start, CHUNK_ROWS))
                request = payload_pb2.Payload(
                    kind=payload_pb2.PAYLOAD_KIND_DATAFRAME, arrow_ipc=chunk
                )
                reply = stub.Predict(request, timeout=60)
                parts.append(codec.read_table(bytes(reply.arrow_ipc)))
    return pa.concat_tables(parts)


@pytest.mark.parametrize("table", ["cancer.cells", "cancer.noisy"])
def test_offline_in_the_image_equals_online_bit_for_bit(
    version: ModelVersion,
    source_tables: dict[str, int],
    offline_home: Path,
    table: str,
    tmp_path: Path,
) -> None:
    dest = table.replace("cancer.", "cancer.pred_")
    summary = version.predict_offline(
        f"SELECT * FROM {table}", dest, key_columns=["id"], progress=False
    )
    assert summary.rows_predicted == source_tables[table]
    offline, properties = _read(offline_home, dest, tmp_path)
    rows = cancer_rows(None if table == "cancer.cells" else NOISY_ROWS)
    online = _online(version, codec.dataframe_to_table(rows.drop(columns="id")), tmp_path / "s")
    assert offline.column_names == ["id", "malignant_proba", "malignant"]
    assert offline.column("id").to_pylist() == rows["id"].tolist()
    for name in ("malignant_proba", "malignant"):
        # Arrow equality on float64 is exact: the same bits, not merely close values.
        assert offline.column(name).combine_chunks().equals(online.column(name).combine_chunks())
    assert properties["pyml.model.name"] == version.name
    assert properties["pyml.model.version"] == str(version.version)
    assert properties["pyml.image.id"] == version.image["id"]
    assert properties["pyml.model.archive_sha256"] == version.record.archive_sha256


def test_offline_in_the_image_refuses_an_existing_table(
    version: ModelVersion, source_tables: dict[str, int]
) -> None:
    query = "SELECT * FROM cancer.cells WHERE id < 10"
    version.predict_offline(query, "cancer.twice", progress=False)
    with pytest.raises(OfflineJobError, match=r"cancer\.twice exists"):
        version.predict_offline(query, "cancer.twice", progress=False)
    summary = version.predict_offline(query, "cancer.twice", mode="overwrite", progress=False)
    assert summary.rows_predicted == 10


def test_cli_runs_the_job(version: ModelVersion, source_tables: dict[str, int]) -> None:
    argv = [PYML_CLI, "offline", version.ref, "--query"]
    argv += ["SELECT * FROM cancer.cells WHERE id < 20", "--dest-table", "cancer.cli"]
    done = subprocess.run([*argv, "--key", "id"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cancer.cli: 20 rows predicted" in done.stdout
