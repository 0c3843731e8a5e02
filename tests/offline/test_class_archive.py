"""The class-data-sharing archive's bookkeeping (the real archive is made and checked in the
model's image by test_in_image.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pyml_offline import class_archive
from pyml_offline.mounts import make_atomically


def test_a_job_uses_the_archive_or_records_its_classes_or_neither() -> None:
    archive = class_archive.java_options("/a/spark.jsa", None)
    assert archive == ["-XX:SharedArchiveFile=/a/spark.jsa"]
    assert class_archive.java_options(None, "/rec") == ["-XX:DumpLoadedClassList=/rec/classes.lst"]
    assert class_archive.java_options(None, None) == []


def test_the_folder_is_keyed_by_the_jre_and_pyspark_it_serves(tmp_path: Path) -> None:
    folder = class_archive.archive_dir(tmp_path, Path("/c/jre/0123abcd"), Path("/c/spark/4.3.0"))
    assert folder == tmp_path / "cds" / "0123abcd-4.3.0-checked"


def test_every_pyml_home_on_a_machine_shares_one_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each home made its own (about 40 s of a new home's first job, 7 December)."""
    from pyml_offline import runner

    monkeypatch.setattr(runner, "jre_dir", lambda: tmp_path / "cache" / "jre" / "0123abcd")
    monkeypatch.setattr(runner, "pyspark_dir", lambda: tmp_path / "cache" / "spark" / "4.3.0")
    monkeypatch.setenv("PYML_CACHE", str(tmp_path / "cache"))
    folders = set()
    for home in ("notebook", "project"):
        monkeypatch.setenv("PYML_HOME", str(tmp_path / home))
        folders.add(runner.archive_folder())
    assert folders == {tmp_path / "cache" / "cds" / "0123abcd-4.3.0-checked"}


def test_the_dump_maps_exactly_the_checked_class_path() -> None:
    assert class_archive.dump_argv("/s/a.jar:/s/b.jar", "/jre/bin/java") == [
        "/jre/bin/java",
        "-Xshare:dump",
        f"-XX:SharedClassListFile={class_archive.MOUNT}/classes.lst",
        f"-XX:SharedArchiveFile={class_archive.MOUNT}/spark.jsa",
        "-cp",
        "/s/a.jar:/s/b.jar",
    ]


def _recorded(folder: Path, archive: bytes | None, output: str) -> None:
    folder.mkdir()
    if archive is not None:
        (folder / class_archive.ARCHIVE).write_bytes(archive)
    class_archive.note_failure(folder, output)


def test_a_dump_is_renamed_into_place_and_a_failed_one_says_why(tmp_path: Path) -> None:
    made = tmp_path / "cds" / "made"
    make_atomically(made, lambda folder: _recorded(folder, b"archive", "dumped"))
    assert (made / class_archive.ARCHIVE).read_bytes() == b"archive"
    assert not (made / class_archive.FAILED).exists()
    failed = tmp_path / "cds" / "failed"
    make_atomically(failed, lambda folder: _recorded(folder, None, "Error: out of memory"))
    assert (failed / class_archive.FAILED).read_text() == "Error: out of memory"
    assert not (failed / class_archive.ARCHIVE).exists()
    # A second job's dump loses the race to the first's folder and leaves nothing behind.
    make_atomically(made, lambda folder: _recorded(folder, b"other", "dumped"))
    assert (made / class_archive.ARCHIVE).read_bytes() == b"archive"
    assert sorted(p.name for p in (tmp_path / "cds").iterdir()) == ["failed", "made"]


def test_the_options_reach_the_driver_jvm_after_the_usual_ones() -> None:
    from pyml_offline.session import embedded_settings

    settings = embedded_settings(Path("/w"), ["-XX:SharedArchiveFile=/a/spark.jsa"])
    assert settings["spark.driver.extraJavaOptions"] == (
        "-Dderby.system.home=/w -XX:+UseSerialGC -XX:SharedArchiveFile=/a/spark.jsa"
    )


def test_a_failed_job_leaves_no_folder_so_the_next_job_records_again(tmp_path: Path) -> None:
    def failed_job(folder: Path) -> None:
        folder.mkdir()
        (folder / class_archive.CLASS_LIST).write_text("java/lang/Object\n")
        raise RuntimeError("the job failed")

    with pytest.raises(RuntimeError, match="the job failed"):
        make_atomically(tmp_path / "cds" / "x", failed_job)
    assert list((tmp_path / "cds").iterdir()) == []


# What the recording job writes is the model's to forge: the job runs model code with the
# recording folder mounted read-write. Every later job of every model of the machine's user
# maps the archive made from it, so only what PyML checked may reach it, and the dump runs in
# PyML's own base image, not the model's (7 December: the model's image ran the dump, and a
# model could leave its own spark.jsa in the published folder).

SPARK_MOUNT = "/opt/pyml/spark"
GOOD_LIST = "# NOTE: Do not modify this file.\njava/lang/Object\norg/apache/spark/SparkContext\n"
GOOD_LIST += "@lambda-proxy java/util/stream/Collectors apply ()Ljava/util/function/Function;\n"
GOOD_PATH = f"{SPARK_MOUNT}/pyspark/conf:{SPARK_MOUNT}/pyspark/jars/spark-core.jar"


@dataclass
class Containers:
    recorded_into: list[Path] = field(default_factory=list)
    dumped_in: list[tuple[str, dict[str, dict[str, str]]]] = field(default_factory=list)


def _archive_runner(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: Callable[[Path], None]
) -> Containers:
    """The runner with both containers faked: the job runs `model` on its read-write
    recording folder; the dump writes an archive into the folder it is given."""
    from pyml_launcher import base_image
    from pyml_offline import runner

    spark = tmp_path / "cache" / "spark" / "4.3.0"
    (spark / "pyspark" / "jars").mkdir(parents=True)  # no conf folder, as pip's pyspark
    (spark / "pyspark" / "jars" / "spark-core.jar").write_bytes(b"PK")
    monkeypatch.setattr(runner, "jre_dir", lambda: tmp_path / "cache" / "jre" / "0123abcd")
    monkeypatch.setattr(runner, "pyspark_dir", lambda: spark)
    monkeypatch.setenv("PYML_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(base_image, "image_exists", lambda tag: True)
    seen = Containers()

    def job(record: Any, spec: Any, argv: Any, settings: Any, **kwargs: Any) -> str:
        [recording] = [Path(host) for host, how in kwargs["volumes"].items() if how["mode"] == "rw"]
        seen.recorded_into.append(recording)
        model(recording)
        return "done"

    def dump(image: str, argv: list[str], volumes: dict[str, dict[str, str]], *rest: Any) -> str:
        seen.dumped_in.append((image, volumes))
        [folder] = [Path(host) for host, how in volumes.items() if how["mode"] == "rw"]
        (folder / class_archive.ARCHIVE).write_bytes(b"dumped by PyML")
        return "dumped"

    monkeypatch.setattr(runner, "run_in_image", job)
    monkeypatch.setattr(runner, "_run_container", dump)
    monkeypatch.setattr(runner, "_summary", lambda output, ref: output)
    return seen


def _first_job(tmp_path: Path) -> Path:
    from pyml_offline import runner

    record: Any = SimpleNamespace(ref="planter:1")
    spec: Any = SimpleNamespace()
    settings = runner.ContainerSettings()
    folder = runner.archive_folder()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runner, "replace", lambda spec, **changes: spec)
        assert runner._recording_classes(record, spec, [], settings, folder, False) == "done"
    return folder


def test_a_model_cannot_plant_the_archive_every_later_job_maps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def planter(recording: Path) -> None:
        (recording / class_archive.ARCHIVE).write_bytes(b"planted by the model")
        (recording / "evil.jar").write_bytes(b"PK")
        (recording / class_archive.CLASS_PATH).write_text(GOOD_PATH)
        forged = "org/evil/Payload id: 1 super: 0 source: /opt/pyml/cds/evil.jar\n"
        (recording / class_archive.CLASS_LIST).write_text(GOOD_LIST + forged)

    seen = _archive_runner(tmp_path, monkeypatch, planter)
    folder = _first_job(tmp_path)
    from pyml_launcher.base_image import DEFAULT_BASE_TAG

    [(image, volumes)] = seen.dumped_in
    assert image == DEFAULT_BASE_TAG  # not the model's image: no model code near the dump
    assert str(seen.recorded_into[0]) not in volumes  # nor the folder the model wrote to
    assert (folder / class_archive.ARCHIVE).read_bytes() == b"dumped by PyML"
    assert sorted(p.name for p in folder.iterdir()) == ["classes.lst", "classpath.txt", "spark.jsa"]
    assert (folder / class_archive.CLASS_LIST).read_text() == (
        "java/lang/Object\norg/apache/spark/SparkContext\n"
        "@lambda-proxy java/util/stream/Collectors apply ()Ljava/util/function/Function;\n"
    )
    assert not seen.recorded_into[0].exists()  # the recording folder is gone


@pytest.mark.parametrize(
    ("class_path", "reason"),
    [
        (f"/opt/pyml/cds/evil.jar:{GOOD_PATH}", "'/opt/pyml/cds/evil.jar' is not"),
        (f"{GOOD_PATH}::", "'' is not"),  # an empty entry is the working folder
        (f"{SPARK_MOUNT}/pyspark/jars/../../../tmp/x.jar", "is not"),
        (f"{SPARK_MOUNT}/pyspark/jars/missing.jar", "'/opt/pyml/spark/pyspark/jars/missing.jar'"),
    ],
)
def test_a_class_path_beyond_the_mounted_pyspark_makes_no_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, class_path: str, reason: str
) -> None:
    def forger(recording: Path) -> None:
        (recording / class_archive.CLASS_PATH).write_text(class_path)
        (recording / class_archive.CLASS_LIST).write_text(GOOD_LIST)

    seen = _archive_runner(tmp_path, monkeypatch, forger)
    folder = _first_job(tmp_path)
    assert seen.dumped_in == []
    assert reason in (folder / class_archive.FAILED).read_text()
    assert not (folder / class_archive.ARCHIVE).exists()


def test_a_recording_that_is_no_plain_file_or_too_large_is_not_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("java/lang/Secret\n")
    recordings: list[Callable[[Path], None]] = [
        lambda rec: (rec / class_archive.CLASS_LIST).symlink_to(secret),
        lambda rec: os.mkfifo(rec / class_archive.CLASS_LIST),  # would block a reader
        lambda rec: (rec / class_archive.CLASS_LIST).write_bytes(
            b"a" * (class_archive.MAX_CLASS_LIST_BYTES + 1)
        ),
    ]
    for i, recording in enumerate(recordings):

        def forger(rec: Path, recording: Callable[[Path], None] = recording) -> None:
            (rec / class_archive.CLASS_PATH).write_text(GOOD_PATH)
            recording(rec)

        seen = _archive_runner(tmp_path / str(i), monkeypatch, forger)
        folder = _first_job(tmp_path / str(i))
        assert seen.dumped_in == [], i
        assert "classes.lst" in (folder / class_archive.FAILED).read_text(), i
        assert not (folder / class_archive.CLASS_LIST).exists(), i


def test_an_archive_made_before_the_checks_is_not_mapped(tmp_path: Path) -> None:
    """Folders dumped in a model's own image (4c300c0) may hold a model's archive."""
    folder = class_archive.archive_dir(tmp_path, Path("/c/jre/0123abcd"), Path("/c/spark/4.3.0"))
    assert folder != tmp_path / "cds" / "0123abcd-4.3.0"


def test_the_archives_earlier_versions_made_go_when_a_new_one_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """About 230 MB each, and nothing maps them any more."""
    from pyml_offline import runner

    cds = tmp_path / "cache" / "cds"
    unchecked = cds / "0123abcd-4.3.0"  # made in a model's image, before 7 December
    other = cds / "4567cdef-4.2.0-checked"  # another JRE's or pyspark's: still in use
    making = cds / ".0123abcd-4.3.0-checked-x1"  # another job's, half made
    per_home = tmp_path / "home" / "cache" / "cds" / "0123abcd-4.3.0"  # before 4c300c0
    for folder in (unchecked, other, making, per_home):
        folder.mkdir(parents=True)
        (folder / class_archive.ARCHIVE).write_bytes(b"archive")
        (folder / class_archive.ARCHIVE).chmod(0o444)
    monkeypatch.setenv("PYML_HOME", str(tmp_path / "home"))
    seen = _archive_runner(tmp_path, monkeypatch, lambda rec: _good_recording(rec))
    folder = _first_job(tmp_path)
    assert len(seen.dumped_in) == 1
    assert sorted(p.name for p in cds.iterdir()) == sorted([folder.name, other.name, making.name])
    assert not (tmp_path / "home" / "cache" / "cds").exists()
    assert (runner.pyml_home() / "cache").exists()  # only its cds folder went


def _good_recording(recording: Path) -> None:
    (recording / class_archive.CLASS_PATH).write_text(GOOD_PATH)
    (recording / class_archive.CLASS_LIST).write_text(GOOD_LIST)


def test_a_machine_cache_inside_a_home_keeps_its_new_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PYML_CACHE=$PYML_HOME/cache makes the home's old folder the machine's own."""
    monkeypatch.setenv("PYML_HOME", str(tmp_path))  # its cache/cds is the machine's cds
    _archive_runner(tmp_path, monkeypatch, lambda rec: _good_recording(rec))
    folder = _first_job(tmp_path)
    assert (folder / class_archive.ARCHIVE).read_bytes() == b"dumped by PyML"
