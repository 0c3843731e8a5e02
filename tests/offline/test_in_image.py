"""The job in the model's own image (same image id as online), and parity with the online
sidecar: the same rows give bit-for-bit the same outputs (the point of the feature).

Each containerized job costs a container, a JVM and a metastore start (about a minute on a
busy machine), so the module runs two jobs, once, and its tests assert on their results:

- the parity job (`pyml offline`): the validation input and 100,000 noisy rows in one table,
  told apart by a key column, compared with the online sidecar;
- a job into the same table whose query does not fit the model: refused in the image, in the
  registered model's name, and the table's files are the same bytes after it. (A destination
  that exists is refused by the same check on the host's Spark: test_job.py, and the CLI's
  words for it: test_table_import.py.)

The host's pyspark reads the table, and the online sidecar predicts the same rows, while the
parity job's CLI makes Spark's class archive (the first job with a cache does, after its job).

Bad input the runner refuses before starting a container needs no job. The failure modes
inside a job (query, columns, model errors, modes, atomic reruns) are `run_job`'s and run on
the host's Spark in test_job.py, one session for all of them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from pyml.model import Model
from pyml.v1 import payload_pb2, runtime_pb2_grpc
from pyml.version import ModelVersion
from pyml_launcher.local import run_model_container
from pyml_offline import class_archive, runner
from pyml_offline.errors import OfflineJobError
from pyml_offline.mounts import jre_dir, pyspark_dir, shared_cache
from pyml_runtime import codec
from tests.conftest import REPO
from tests.offline.make_tables import parity_rows

NOISY_ROWS = 100_000
VALIDATION_ROWS = 57
CHUNK_ROWS = 10_000  # per online request: well under gRPC's message limits
PYML_CLI = str(Path(sys.executable).parent / "pyml")
DEST = "parity.predictions"
# A string where the model wants a number.
MISFIT = "SELECT id, CAST(`mean texture` AS STRING) AS `mean texture` FROM parity.rows"
# The first job's CLI, once the job has ended, while it makes Spark's class archive.
DUMPING = "preparing Spark's class archive"
PARITY_JOB = [
    *("--query", "SELECT * FROM parity.rows", "--dest-table", DEST),
    *("--key", "part", "--key", "id"),
]


@pytest.fixture(scope="module")
def offline_home() -> Iterator[Path]:
    """$PYML_HOME for these tests (registry, caches, warehouse); short, for the socket path."""
    home = Path(tempfile.mkdtemp(prefix="pyml-off-", dir="/tmp"))
    # The mounted JRE and pyspark (890 MB; `pip install --target` alone takes most of a
    # minute) live in the machine's shared cache (mounts.shared_cache), made once for every
    # PYML_HOME. The rest of the home (registry, wheels, warehouse) stays this module's own.
    # Spark's class archive lives in that cache too, where an earlier run made it: this
    # module's cache links the machine's JRE and pyspark but has no archive, so its first job
    # records the classes and dumps the archive, as the first job on a machine does.
    cache = home / "machine-cache"
    cache.mkdir()
    for part in ("jre", "spark"):
        (shared_cache() / part).mkdir(parents=True, exist_ok=True)
        (cache / part).symlink_to(shared_cache() / part)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYML_HOME", str(home))
        patch.setenv("PYML_CACHE", str(cache))
        # Its own registry numbers versions from 1 again: its own image namespace too, or its
        # teardown would untag the session's shared `breast_cancer_lr:1` image.
        patch.setenv("PYML_IMAGE_PREFIX", os.environ.get("PYML_IMAGE_PREFIX", "pyml") + "-offline")
        yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def source_tables(offline_home: Path, cancer_home: Path) -> Iterator[subprocess.Popen[str]]:
    """The source tables, made by the host's pyspark in its own process (Derby: one JVM at a
    time). Started, not awaited: it needs nothing of the image build that follows it."""
    argv = [sys.executable, "-m", "tests.offline.make_tables", str(offline_home / "warehouse")]
    argv += [str(cancer_home), str(NOISY_ROWS)]
    process = subprocess.Popen(
        argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    yield process
    if process.poll() is None:  # a fixture before `jobs` failed: do not leave it behind
        process.kill()
        process.communicate()


@pytest.fixture(scope="module")
def version(offline_home: Path, cancer_home: Path) -> Iterator[ModelVersion]:
    packaged = Model.from_home(cancer_home).package(progress=False)
    yield packaged
    import docker

    # Leftovers only (the runner removes its containers), and only this module's: the label
    # names the version, and every session's own registry numbers versions from 1, so a
    # concurrent session's job has the same label. Its warehouse mount is ours alone.
    home = f"{offline_home.resolve()}/"
    client = docker.from_env()
    for container in client.containers.list(all=True, filters={"label": runner.OFFLINE_LABEL}):
        mounts = container.attrs.get("Mounts", [])
        if any(str(mount.get("Source", "")).startswith(home) for mount in mounts):
            container.remove(force=True)
    client.images.remove(str(packaged.image["tag"]), force=True)


@dataclass(frozen=True)
class Jobs:
    first: subprocess.CompletedProcess[str]  # the parity job, through the CLI
    again: subprocess.CompletedProcess[str]  # a query that does not fit, into DEST: refused
    offline: pa.Table  # the destination as the host's pyspark reads it, after the first run
    properties: dict[str, str]
    online: pa.Table  # the same rows through the online sidecar, with their keys
    table_files_kept: bool  # DEST's files, byte for byte, before and after the refused run


@pytest.fixture(scope="module")
def jobs(
    source_tables: subprocess.Popen[str],  # first: it runs while the image builds
    version: ModelVersion,
    offline_home: Path,
    cancer_home: Path,
) -> Jobs:
    jre_dir()  # the mounted caches, if cold, while the tables are still being made
    pyspark_dir()
    output, _ = source_tables.communicate()
    assert source_tables.returncode == 0, f"making the source tables failed:\n{output[-3000:]}"
    out = offline_home / "read"
    out.mkdir()
    rows = parity_rows(cancer_home, NOISY_ROWS)
    # The parity job's CLI dumps the class archive after the job (about 40 s of one core, in
    # PyML's base image): meanwhile the host's pyspark reads the table and the online sidecar
    # predicts the same rows.
    first = _Cli(DUMPING, "offline", version.ref, *PARITY_JOB)
    assert first.reached.wait(timeout=600)
    reader = _read_tables(offline_home / "warehouse", out)
    try:
        online = _online(version, codec.dataframe_to_table(rows.drop(columns=["part", "id"])), out)
    finally:
        output, _ = reader.communicate()
    done = first.result()
    assert done.returncode == 0, done.stdout + done.stderr
    assert reader.returncode == 0, f"reading {DEST} failed:\n{output[-3000:]}"
    table_files = offline_home / "warehouse" / "tables" / "parity.db" / "predictions"
    before = _file_digests(table_files)
    again = _cli("offline", version.ref, "--query", MISFIT, "--dest-table", DEST)
    keys = pa.table({"part": rows["part"].tolist(), "id": rows["id"].tolist()})
    return Jobs(
        first=done,
        again=again,
        offline=pq.read_table(out / f"{DEST}.parquet"),
        properties=json.loads((out / f"{DEST}.json").read_text()),
        online=pa.table(
            [*keys.columns, *online.columns], names=keys.column_names + online.column_names
        ),
        table_files_kept=before != {} and _file_digests(table_files) == before,
    )


def _read_tables(warehouse: Path, out: Path) -> subprocess.Popen[str]:
    """DEST and its properties, read by the host's pyspark in its own process."""
    argv = [sys.executable, "-m", "tests.offline.read_table", str(warehouse), str(out), DEST]
    return subprocess.Popen(
        argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _file_digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


class _Cli:
    """`pyml` running; `reached` is set once a line of its progress (stderr) holds `mark`, or
    once it has ended."""

    def __init__(self, mark: str, *args: str) -> None:
        self._process = subprocess.Popen(
            [PYML_CLI, *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_cli_env(),
        )
        self._mark = mark
        self._stderr: list[str] = []
        self.reached = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self._stderr.append(line)
            if self._mark in line:
                self.reached.set()
        self.reached.set()

    def result(self) -> subprocess.CompletedProcess[str]:
        stdout, _ = self._process.communicate(timeout=600)
        self._reader.join(timeout=60)
        stderr = "".join(self._stderr)
        return subprocess.CompletedProcess(
            self._process.args, self._process.returncode, stdout, stderr
        )


def _cli_env() -> dict[str, str]:
    # Wide: Rich wraps a non-terminal's lines at 80 columns, inside the messages asserted on.
    return {**os.environ, "COLUMNS": "400"}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [PYML_CLI, *args]
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, env=_cli_env())


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


def test_cli_job_predicts_every_row_into_the_table(jobs: Jobs, version: ModelVersion) -> None:
    assert f"{version.ref} → {DEST}: 100,057 rows predicted (100,057 read)" in jobs.first.stdout
    # A plain scan: the workers in the image read the table's files (parquet_scan).
    assert "rows read by: Parquet files read by the Python workers" in jobs.first.stdout
    # Plain output columns: the workers write the table's files too (parquet_write).
    assert "rows written by: the Python workers (Parquet files)" in jobs.first.stdout
    assert jobs.offline.num_rows == NOISY_ROWS + VALIDATION_ROWS


@pytest.mark.parametrize(("part", "rows"), [("validation", VALIDATION_ROWS), ("noisy", NOISY_ROWS)])
def test_offline_in_the_image_equals_online_bit_for_bit(jobs: Jobs, part: str, rows: int) -> None:
    assert jobs.offline.column_names == ["part", "id", "malignant_proba", "malignant"]
    got, want = _part(jobs.offline, part), _part(jobs.online, part)
    assert got.num_rows == want.num_rows == rows
    assert got.column("id").equals(want.column("id"))
    for name in ("malignant_proba", "malignant"):
        # Arrow equality on float64 is exact: the same bits, not merely close values.
        assert got.column(name).combine_chunks().equals(want.column(name).combine_chunks())


def test_table_records_model_version_image_and_archive(jobs: Jobs, version: ModelVersion) -> None:
    assert jobs.properties["pyml.model.name"] == version.name
    assert jobs.properties["pyml.model.version"] == str(version.version)
    assert jobs.properties["pyml.image.id"] == version.image["id"]  # the online image, by content
    assert jobs.properties["pyml.model.archive_sha256"] == version.record.archive_sha256


def test_a_refused_run_names_the_registered_model_and_keeps_the_table(
    jobs: Jobs, version: ModelVersion
) -> None:
    """In the image the home is /opt/pyml/model: errors said model 'model' (issue 15)."""
    assert jobs.again.returncode == 1, jobs.again.stdout + jobs.again.stderr
    message = f"model '{version.name}': the query's columns do not fit the model"
    assert message in jobs.again.stdout
    assert "model 'model'" not in jobs.again.stdout + jobs.again.stderr
    # The table's files, byte for byte, are the first run's (their values: the parity tests).
    assert jobs.table_files_kept


def test_the_first_job_leaves_a_class_archive_the_jvm_maps(
    jobs: Jobs, version: ModelVersion, offline_home: Path
) -> None:
    # The parity job was the first with this cache: it recorded its classes, then the archive
    # was dumped; the refused run after it started its JVM with the archive.
    [folder] = [path for path in (offline_home / "machine-cache" / "cds").iterdir()]
    failed = folder / class_archive.FAILED
    assert not failed.exists(), failed.read_text()
    assert (folder / class_archive.ARCHIVE).stat().st_size > 0
    # -Xshare:on: a JVM that cannot map the archive for the job's class path refuses to start.
    java = [f"{runner.JRE}/bin/java", "-Xshare:on"]
    java += [f"-XX:SharedArchiveFile={class_archive.MOUNT}/{class_archive.ARCHIVE}"]
    java += ["-cp", (folder / class_archive.CLASS_PATH).read_text().strip(), "-version"]
    settings = runner.ContainerSettings()
    spec = runner.job_spec(version.record, settings, query="SELECT 1", dest_table=DEST)
    mounts = {str(folder): {"bind": class_archive.MOUNT, "mode": "ro"}}
    output = runner.run_in_image(version.record, spec, java, settings, volumes=mounts)
    assert "sharing" in output, output
    assert "error" not in output.lower(), output


def test_bad_input_is_refused_before_any_container(
    version: ModelVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_container(*args: Any) -> str:
        raise AssertionError("a container was started for input refused up front")

    monkeypatch.setattr(runner, "_run_container", no_container)
    unbuilt = dataclasses.replace(version.record, status="failed", image=None)
    with pytest.raises(OfflineJobError, match=r"failed with no image: package it first"):
        runner.run_offline(unbuilt, query="SELECT 1", dest_table=DEST)
    with pytest.raises(OfflineJobError, match=r"table name 'cancer.bad name': expected db.table"):
        runner.run_offline(version.record, query="SELECT 1", dest_table="cancer.bad name")
    upsert: Any = "upsert"
    with pytest.raises(ValueError, match=r"mode 'upsert': expected one of error, overwrite"):
        runner.run_offline(version.record, query="SELECT 1", dest_table=DEST, mode=upsert)
    refused = _cli("offline", version.ref, *PARITY_JOB, "--mode", "upsert")
    assert refused.returncode == 2
    assert "--mode upsert: expected one of error, overwrite, append" in refused.stdout
