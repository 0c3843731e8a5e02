"""The class-data-sharing archive's bookkeeping (the real archive is made and checked in the
model's image by test_in_image.py)."""

from __future__ import annotations

from pathlib import Path

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
    assert folder == tmp_path / "cds" / "0123abcd-4.3.0"


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
    assert folders == {tmp_path / "cache" / "cds" / "0123abcd-4.3.0"}


def test_nothing_recorded_means_nothing_to_dump(tmp_path: Path) -> None:
    folder = tmp_path / "recording"
    folder.mkdir()
    assert class_archive.dump_argv(folder, "/jre/bin/java") is None
    (folder / class_archive.CLASS_LIST).write_text("java/lang/Object\n")
    assert class_archive.dump_argv(folder, "/jre/bin/java") is None  # no class path either
    (folder / class_archive.CLASS_PATH).write_text("/s/a.jar:/s/b.jar\n")
    assert class_archive.dump_argv(folder, "/jre/bin/java") == [
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
