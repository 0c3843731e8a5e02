"""Run the offline job inside a registered version's own image (the online image, by id).

    summary = run_offline(record, query="SELECT * FROM cancer.cells",
                          dest_table="cancer.predictions", key_columns=("id",))

The container is the model image with its entrypoint replaced by ``python -m
pyml_offline.job``; Java and pyspark are mounted read-only (see `mounts`), the embedded
warehouse and metastore (``$PYML_HOME/warehouse``) read-write at the same path. Hardened
like the online container, except: it runs as the host user (the warehouse stays the user's
to open with pyspark from the host) and has more memory, processes and /tmp (a JVM).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyml_offline import class_archive
from pyml_offline.errors import OfflineJobError
from pyml_offline.job import RESULT_MARKER
from pyml_offline.mounts import jre_dir, make_atomically, pyml_home, pyspark_dir, shared_cache
from pyml_offline.progress import PROGRESS_MARKER, JobSummary
from pyml_offline.spec import DEFAULT_BATCH_ROWS, JobSpec, WriteMode
from pyml_offline.tables import TableName

if TYPE_CHECKING:
    from pyml.registry import VersionRecord

MODEL_DIR = "/opt/pyml/model"
PYTHON = "/opt/pyml/venv/bin/python"
JRE, SPARK, JOB = "/opt/pyml/jre", "/opt/pyml/spark", "/pyml/job"
OFFLINE_LABEL = "io.pyml.offline"
LOG_TAIL = 40
SPLITS_PER_CORE = 4


@dataclass(frozen=True)
class ContainerSettings:
    cores: int = 2
    memory: str = "3g"
    driver_memory: str = "1g"  # the JVM heap: well inside `memory`, Python workers need room
    timeout_seconds: float = 6 * 3600
    labels: dict[str, str] = field(default_factory=dict)


def model_properties(record: VersionRecord) -> dict[str, str]:
    """What the table records about the model that produced it."""
    image = record.image or {}
    return {
        "pyml.model.name": record.name,
        "pyml.model.version": str(record.version),
        "pyml.model.archive_sha256": record.archive_sha256,
        "pyml.image.id": str(image.get("id", "")),
        "pyml.image.tag": str(image.get("tag", "")),
    }


def warehouse_dir() -> Path:
    return pyml_home() / "warehouse"


def run_offline(
    record: VersionRecord,
    *,
    query: str,
    dest_table: str,
    key_columns: tuple[str, ...] = (),
    mode: WriteMode = "error",
    batch_rows: int = DEFAULT_BATCH_ROWS,
    settings: ContainerSettings | None = None,
    progress: bool = True,
) -> JobSummary:
    """The job in the version's image; OfflineJobError (destination untouched) on failure."""
    settings = settings or ContainerSettings()
    TableName.parse(dest_table)  # a bad name is refused now, not after the container's start-up
    spec = job_spec(
        record,
        settings,
        query=query,
        dest_table=dest_table,
        key_columns=tuple(key_columns),
        mode=mode,
        batch_rows=batch_rows,
    )
    argv = [PYTHON, "-m", "pyml_offline.job", f"{JOB}/spec.json"]
    target = archive_folder()
    if (target / class_archive.ARCHIVE).exists():
        spec = replace(spec, class_archive=f"{class_archive.MOUNT}/{class_archive.ARCHIVE}")
        volumes = {str(target): {"bind": class_archive.MOUNT, "mode": "ro"}}
        output = run_in_image(record, spec, argv, settings, volumes=volumes, progress=progress)
        return _summary(output, record.ref)
    if target.exists():  # an earlier dump failed (see its failed.txt): no archive, no retry
        return _summary(run_in_image(record, spec, argv, settings, progress=progress), record.ref)
    return _recording_classes(record, spec, argv, settings, target, progress)


def archive_folder() -> Path:
    """Where the class archive for the mounted JRE and pyspark is: in the cache every PYML_HOME
    of the machine's user shares, beside them, so it is made once per machine, not per home."""
    return class_archive.archive_dir(shared_cache(), jre_dir(), pyspark_dir())


def _recording_classes(
    record: VersionRecord,
    spec: JobSpec,
    argv: list[str],
    settings: ContainerSettings,
    target: Path,
    progress: bool,
) -> JobSummary:
    """The job, recording the classes its JVM loads; then, if it succeeded, the archive."""
    summaries: list[JobSummary] = []

    def record_then_dump(folder: Path) -> None:
        folder.mkdir(mode=0o755)
        # The job runs model code, so it records into a scratch folder of its own, and only
        # what PyML checked of it goes on to the dump (class_archive.take_recording).
        with tempfile.TemporaryDirectory(prefix="pyml-cds-", ignore_cleanup_errors=True) as tmp:
            recording = replace(spec, class_list_dir=class_archive.MOUNT)
            volumes = {tmp: {"bind": class_archive.MOUNT, "mode": "rw"}}
            output = run_in_image(
                record, recording, argv, settings, volumes=volumes, progress=progress
            )
            summaries.append(_summary(output, record.ref))  # a failed job raises: no folder
            try:
                class_path = class_archive.take_recording(Path(tmp), folder, SPARK, pyspark_dir())
            except class_archive.RefusedRecording as refused:
                class_archive.note_failure(folder, str(refused))
                return
        class_archive.note_failure(folder, _dump(folder, class_path, settings, record.ref))

    make_atomically(target, record_then_dump)
    class_archive.drop_superseded([target.parent, pyml_home() / "cache" / "cds"])
    return summaries[0]


def _dump(folder: Path, class_path: str, settings: ContainerSettings, ref: str) -> str:
    """`java -Xshare:dump` into `folder` in PyML's own base image: the archive every later job
    maps is made by no model's code nor image. The container's output."""
    from pyml_launcher import base_image

    if not base_image.image_exists(base_image.DEFAULT_BASE_TAG):
        return f"PyML's base image {base_image.DEFAULT_BASE_TAG} is not here: `pyml images base`"
    volumes = {
        str(folder): {"bind": class_archive.MOUNT, "mode": "rw"},
        str(jre_dir()): {"bind": JRE, "mode": "ro"},
        str(pyspark_dir()): {"bind": SPARK, "mode": "ro"},
    }
    dump = class_archive.dump_argv(class_path, f"{JRE}/bin/java")
    status = "preparing Spark's class archive for later jobs (once, about a minute)"
    return _run_container(base_image.DEFAULT_BASE_TAG, dump, volumes, settings, ref, False, status)


def job_spec(record: VersionRecord, settings: ContainerSettings, **fields: Any) -> JobSpec:
    """The spec of a job in the version's image: its model home, the embedded warehouse."""
    return JobSpec(
        model_home=MODEL_DIR,
        model_name=record.name,
        properties=model_properties(record),
        master=f"local[{settings.cores}]",
        warehouse=str(warehouse_dir().resolve()),
        spark_conf=spark_settings(settings),
        **fields,
    )


def run_in_image(
    record: VersionRecord,
    spec: JobSpec,
    argv: list[str],
    settings: ContainerSettings,
    *,
    volumes: dict[str, dict[str, str]] | None = None,
    progress: bool = False,
) -> str:
    """`argv` in the version's image with the job's mounts and `spec` at /pyml/job/spec.json
    (the job itself, or a benchmark's floor); the container's whole output."""
    image_id = _image_id(record)
    # Mounted at its host path: the metastore stores absolute table locations, which must
    # mean the same folder to the containerized job and to the user's pyspark on the host.
    warehouse = warehouse_dir().resolve()
    warehouse.mkdir(parents=True, exist_ok=True)
    mounts = {
        str(jre_dir()): {"bind": JRE, "mode": "ro"},
        str(pyspark_dir()): {"bind": SPARK, "mode": "ro"},
        str(warehouse): {"bind": str(warehouse), "mode": "rw"},
        **(volumes or {}),
    }
    with tempfile.TemporaryDirectory(prefix="pyml-offline-") as job_dir:
        (Path(job_dir) / "spec.json").write_text(spec.to_json())
        Path(job_dir).chmod(0o755)
        mounts[job_dir] = {"bind": JOB, "mode": "ro"}
        return _run_container(image_id, argv, mounts, settings, record.ref, progress)


def spark_settings(settings: ContainerSettings) -> dict[str, str]:
    """Spark settings for local mode in a container of `settings.cores` cores."""
    return {
        "spark.driver.memory": settings.driver_memory,
        # Spark cuts a scan into about one split a core, so a few uneven files make uneven
        # tasks (measured: 5 tasks on 2 cores, the last wave on one core only). A few splits a
        # core keep both cores busy to the end; a task costs milliseconds once workers exist.
        "spark.sql.files.minPartitionNum": str(SPLITS_PER_CORE * settings.cores),
    }


def _image_id(record: VersionRecord) -> str:
    image_id = (record.image or {}).get("id")
    if record.status != "ready" or not image_id:
        raise OfflineJobError(f"{record.ref} is {record.status} with no image: package it first")
    return str(image_id)


def _environment(settings: ContainerSettings) -> dict[str, str]:
    return {
        "JAVA_HOME": JRE,
        "PATH": f"/opt/pyml/venv/bin:{JRE}/bin:/usr/local/bin:/usr/bin:/bin",
        "PYTHONPATH": SPARK,
        "SPARK_HOME": f"{SPARK}/pyspark",
        "PYSPARK_PYTHON": PYTHON,
        "PYSPARK_DRIVER_PYTHON": PYTHON,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "HOME": "/tmp",
        "PYML_PROGRESS": "lines",
    }


def _run_container(
    image_id: str,
    argv: list[str],
    volumes: dict[str, dict[str, str]],
    settings: ContainerSettings,
    ref: str,
    progress: bool,
    status: str = "starting Spark…",
) -> str:
    from pyml_launcher.container_policy import hardened_run_options
    from pyml_launcher.engine import docker_client

    container = docker_client().containers.run(
        image_id,  # the exact image the online path serves, by content id (or PyML's base)
        entrypoint=argv,
        detach=True,
        environment=_environment(settings),
        # No network (local mode talks over loopback only), read-only root, no capabilities,
        # no-new-privileges, a capped log: as every model container; and what the job needs
        # unlike a runtime (the caller's uid, hostname "localhost" since without a network
        # the container's own name resolves nowhere, an executable /tmp, pids for the JVM's
        # threads), named in container_policy.json's "offline" section.
        **hardened_run_options("offline"),
        mem_limit=settings.memory,
        memswap_limit=settings.memory,
        nano_cpus=int(settings.cores * 1e9),
        volumes=volumes,
        labels={**settings.labels, OFFLINE_LABEL: ref},
    )
    try:
        return _follow(container, settings.timeout_seconds, ref, progress, status)
    finally:
        container.remove(force=True)


def _follow(container: Any, timeout: float, ref: str, progress: bool, first: str) -> str:
    """Wait for the container, showing its progress; its whole output at the end.

    On a terminal the progress is one status line that changes; otherwise (a log, CI, a
    pipe) it is printed as lines, one when it changes and at most every LINES_EVERY_SECONDS,
    so that a long job still shows it is alive.
    """
    from rich.console import Console

    console = Console(stderr=True)
    title = f"offline job with {ref}: "
    deadline = time.monotonic() + timeout
    with contextlib.ExitStack() as stack:
        show: Callable[[str], None]
        if console.is_terminal:
            show = stack.enter_context(console.status(title + first)).update
        else:
            show = _ProgressLines(console)
            show(title + first)
        while time.monotonic() < deadline:
            container.reload()
            if container.status in ("exited", "dead"):
                break
            if progress:
                show(title + _last_progress(container))
            time.sleep(1.0)
        else:
            container.kill()
            raise OfflineJobError(f"offline job with {ref} did not finish in {timeout:.0f} s")
    return bytes(container.logs(stdout=True, stderr=True)).decode(errors="replace")


LINES_EVERY_SECONDS = 5.0


class _ProgressLines:
    """Progress as printed lines: a new text at most every LINES_EVERY_SECONDS."""

    def __init__(self, console: Any) -> None:
        self._console = console
        self._last = ""
        self._at = -LINES_EVERY_SECONDS

    def __call__(self, text: str) -> None:
        now = time.monotonic()
        if text != self._last and now - self._at >= LINES_EVERY_SECONDS:
            self._console.print(text, highlight=False, markup=False, soft_wrap=True)
            self._last, self._at = text, now


def _last_progress(container: Any) -> str:
    tail = bytes(container.logs(stdout=True, stderr=False, tail=20)).decode(errors="replace")
    lines = [line for line in tail.splitlines() if line.startswith(PROGRESS_MARKER)]
    return lines[-1][len(PROGRESS_MARKER) :] if lines else "running…"


def _summary(output: str, ref: str) -> JobSummary:
    for line in reversed(output.splitlines()):
        if line.startswith(RESULT_MARKER):
            outcome = json.loads(line[len(RESULT_MARKER) :])
            if "error" in outcome:
                raise OfflineJobError(str(outcome["error"]))
            return JobSummary(**outcome["summary"])
    tail = "\n".join(output.splitlines()[-LOG_TAIL:])
    raise OfflineJobError(f"offline job with {ref} ended without a result:\n{tail}")
