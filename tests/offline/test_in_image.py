"""The job in the model's own image (same image id as online), and parity with the online
sidecar: the same rows give bit-for-bit the same outputs (the point of the feature).

Each containerized job costs a JVM and metastore start (tens of seconds here), so the
parity job covers both data sets in one table, told apart by a key column.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pyml.model import Model
from pyml.v1 import payload_pb2, runtime_pb2_grpc
from pyml.version import ModelVersion
from pyml_launcher.local import run_model_container
from pyml_offline.runner import OFFLINE_LABEL
from pyml_runtime import codec
from tests.conftest import REPO
from tests.offline.make_tables import parity_rows

NOISY_ROWS = 100_000
CHUNK_ROWS = 10_000  # per online request: well under gRPC's message limits
PYML_CLI = str(Path(sys.executable).parent / "pyml")


@pytest.fixture(scope="module")
def offline_home() -> Iterator[Path]:
    """$PYML_HOME for these tests (registry, caches, warehouse); short, for the socket path."""
    import os
    import shutil
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="pyml-off-", dir="/tmp"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYML_HOME", str(home))
        # Its own registry numbers versions from 1 again: its own image namespace too, or its
        # teardown would untag the session's shared `breast_cancer_lr:1` image.
        patch.setenv("PYML_IMAGE_PREFIX", os.environ.get("PYML_IMAGE_PREFIX", "pyml") + "-offline")
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
def source_tables(offline_home: Path, cancer_home: Path) -> None:
    argv = [sys.executable, "-m", "tests.offline.make_tables", str(offline_home / "warehouse")]
    argv += [str(cancer_home), str(NOISY_ROWS)]
    subprocess.run(argv, check=True, cwd=REPO, capture_output=True)


@pytest.fixture(scope="module")
def parity(
    version: ModelVersion, source_tables: None, offline_home: Path, cancer_home: Path
) -> tuple[pa.Table, dict[str, str], pa.Table]:
    """The offline table (read from the host), its properties, and the online outputs."""
    version.predict_offline(
        "SELECT * FROM parity.rows", "parity.predictions", key_columns=["part", "id"]
    )
    out = offline_home / "read"
    out.mkdir()
    argv = [sys.executable, "-m", "tests.offline.read_table", str(offline_home / "warehouse")]
    subprocess.run([*argv, str(out), "parity.predictions"], check=True, cwd=REPO)
    offline = pq.read_table(out / "parity.predictions.parquet")
    properties = json.loads((out / "parity.predictions.json").read_text())
    rows = parity_rows(cancer_home, NOISY_ROWS)
    online = _online(version, codec.dataframe_to_table(rows.drop(columns=["part", "id"])), out)
    keys = pa.table({"part": rows["part"].tolist(), "id": rows["id"].tolist()})
    online = pa.table(
        [*keys.columns, *online.columns], names=keys.column_names + online.column_names
    )
    return offline, properties, online


def _online(version: ModelVersion, rows: pa.Table, socket_dir: Path) -> pa.Table:
    """The rows through the sidecar in a container of the same image (the online path)."""
    parts = []
    with run_model_container(str(version.image["tag"]), socket_dir / "s") as container:
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


def _part(table: pa.Table, part: str) -> pa.Table:
    return table.filter(pc.equal(table["part"], part)).sort_by("id")


@pytest.mark.parametrize(("part", "rows"), [("validation", 57), ("noisy", NOISY_ROWS)])
def test_offline_in_the_image_equals_online_bit_for_bit(
    parity: tuple[pa.Table, dict[str, str], pa.Table], part: str, rows: int
) -> None:
    offline, _, online = parity
    assert offline.column_names == ["part", "id", "malignant_proba", "malignant"]
    got, want = _part(offline, part), _part(online, part)
    assert got.num_rows == want.num_rows == rows
    assert got.column("id").equals(want.column("id"))
    for name in ("malignant_proba", "malignant"):
        # Arrow equality on float64 is exact: the same bits, not merely close values.
        assert got.column(name).combine_chunks().equals(want.column(name).combine_chunks())


def test_table_records_model_version_image_and_archive(
    parity: tuple[pa.Table, dict[str, str], pa.Table], version: ModelVersion
) -> None:
    _, properties, _ = parity
    assert properties["pyml.model.name"] == version.name
    assert properties["pyml.model.version"] == str(version.version)
    assert properties["pyml.image.id"] == version.image["id"]  # the online image, by content
    assert properties["pyml.model.archive_sha256"] == version.record.archive_sha256


def test_cli_runs_the_job_then_refuses_the_existing_table(
    version: ModelVersion, source_tables: None
) -> None:
    argv = [PYML_CLI, "offline", version.ref, "--query", "SELECT * FROM cancer.cells"]
    argv += ["--dest-table", "cancer.cli", "--key", "id"]
    done = subprocess.run(argv, cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "cancer.cli: 569 rows predicted" in done.stdout
    again = subprocess.run(argv, cwd=REPO, capture_output=True, text=True)
    assert again.returncode == 1
    assert "table cancer.cli exists" in again.stdout
