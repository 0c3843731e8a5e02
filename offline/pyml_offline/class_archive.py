"""A class-data-sharing (CDS) archive of the classes a job's JVM loads: a quarter off every
job's start-up, made once.

Before a job does anything its JVM loads about 20,000 classes from Spark's ~280 jars (Spark,
Hive, Derby, Parquet, Arrow). The JDK can map them, already parsed and verified, from one
archive file instead (measured on the host, 1-row job: 28 s → 20 s; no effect on
the per-row work). The archive belongs to one JRE and one class path, so it is made for the
mounted JRE and pyspark, beside them in the cache every PYML_HOME of the machine's user shares
(`mounts.shared_cache`), in `cds/<jre>-<pyspark>-checked/`: once per machine, not once per home.

1. a job without an archive runs with `-XX:DumpLoadedClassList` into a scratch folder and
   writes its JVM's class path there;
2. after that job succeeds, PyML checks what it recorded (`take_recording`): the job ran model
   code with that folder writable, and every later job of every model maps the archive. Only
   a class path of the mounted pyspark's own jars and a list of plain class names pass; the
   rest of the scratch folder is dropped;
3. one short container of PyML's own base image (no model code, no model image) runs
   `java -Xshare:dump` for exactly that class list and class path (about a minute, once);
4. the folder is renamed into place (`mounts.make_atomically`, like the JRE and pyspark
   caches); later jobs run with `-XX:SharedArchiveFile`.

A JVM that cannot use the archive (a changed jar) ignores it: `-Xshare:auto`, the default. A
dump that fails leaves the folder with `failed.txt` and no archive, so later jobs neither
record nor retry; delete the folder to try again.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path

ARCHIVE = "spark.jsa"
CLASS_LIST = "classes.lst"
CLASS_PATH = "classpath.txt"
FAILED = "failed.txt"
MOUNT = "/opt/pyml/cds"  # in the container
# Folders made before the recording was checked (their dump ran in the model's image) end
# without it and are never mapped.
CHECKED = "checked"
MAX_CLASS_LIST_BYTES = 16 * 1024 * 1024  # a real recording: ~1 MB, 19,000 lines
MAX_CLASS_PATH_BYTES = 1024 * 1024  # Spark's ~280 jars: ~16 KB
# What the JVM writes for classes of the class path: names, and lambda lines made of names
# and descriptors. Lines naming a jar to load a class from ("source:") or anything else drop.
_CLASS = re.compile(r"[A-Za-z0-9_$/-]+")
_LAMBDA = re.compile(r"@lambda-(proxy|form-invoker) [A-Za-z0-9_$/.;()<>\[\] -]+")


class RefusedRecording(Exception):
    """What a job recorded cannot make an archive; the message says why."""


def archive_dir(cache: Path, jre: Path, spark: Path) -> Path:
    """The folder for this JRE (its cache name is its digest) and pyspark (its version)."""
    return cache / "cds" / f"{jre.name}-{spark.name}-{CHECKED}"


def java_options(class_archive: str | None, class_list_dir: str | None) -> list[str]:
    """The JVM options of a job that uses an archive, or records what it loads."""
    if class_archive:
        return [f"-XX:SharedArchiveFile={class_archive}"]
    if class_list_dir:
        return [f"-XX:DumpLoadedClassList={class_list_dir}/{CLASS_LIST}"]
    return []


def take_recording(recording: Path, folder: Path, spark_mount: str, spark: Path) -> str:
    """Check what a job recorded in `recording` and write what passes into `folder`; the class
    path (as the container sees it). RefusedRecording when nothing trustworthy is left."""
    class_path = _checked_class_path(
        _read_untrusted(recording / CLASS_PATH, MAX_CLASS_PATH_BYTES), spark_mount, spark
    )
    names = _read_untrusted(recording / CLASS_LIST, MAX_CLASS_LIST_BYTES).splitlines()
    kept = [line for line in names if _CLASS.fullmatch(line) or _LAMBDA.fullmatch(line)]
    if not kept:
        raise RefusedRecording(f"the recorded {CLASS_LIST} names no class")
    (folder / CLASS_LIST).write_text("\n".join(kept) + "\n")
    (folder / CLASS_PATH).write_text(class_path + "\n")
    return class_path


def dump_argv(class_path: str, java: str) -> list[str]:
    """`java -Xshare:dump` for the checked class list in the folder mounted at MOUNT."""
    return [
        java,
        "-Xshare:dump",
        f"-XX:SharedClassListFile={MOUNT}/{CLASS_LIST}",
        f"-XX:SharedArchiveFile={MOUNT}/{ARCHIVE}",
        "-cp",
        class_path,
    ]


def drop_superseded(folders: list[Path]) -> None:
    """Remove the archives earlier PyML versions made, which nothing maps any more (~230 MB
    each): in the machine's `cds` folder those without the CHECKED ending, and each folder in
    `folders` whole (a PYML_HOME's own `cache/cds`, where archives were first made)."""
    machine, *whole = folders
    for old in machine.iterdir() if machine.is_dir() else ():
        if not old.name.startswith(".") and not old.name.endswith(f"-{CHECKED}"):
            shutil.rmtree(old, ignore_errors=True)  # "." begins a folder being made
    for folder in whole:
        # A PYML_CACHE set inside a home makes the home's folder the machine's: kept.
        if folder.resolve() != machine.resolve():
            shutil.rmtree(folder, ignore_errors=True)


def note_failure(folder: Path, output: str) -> None:
    """Why `folder` has no archive, when it has none: later jobs then neither record nor retry."""
    if not (folder / ARCHIVE).exists():
        (folder / FAILED).write_text(output[-5000:])


def _read_untrusted(path: Path, limit: int) -> str:
    """A file model code could have made: a plain file (no link followed, no pipe waited on)
    of at most `limit` bytes of ASCII, checked before it is read."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as error:
        raise RefusedRecording(f"the job left no readable {path.name} ({error.strerror})") from None
    with os.fdopen(fd, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise RefusedRecording(f"the recorded {path.name} is not a plain file")
        if info.st_size > limit:  # before anything is read
            raise RefusedRecording(f"the recorded {path.name} is over {limit} bytes")
        data = file.read(limit + 1)  # bounded even if it grows meanwhile
    if len(data) > limit:
        raise RefusedRecording(f"the recorded {path.name} is over {limit} bytes")
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise RefusedRecording(f"the recorded {path.name} is not ASCII") from None


def _checked_class_path(text: str, spark_mount: str, spark: Path) -> str:
    """The recorded class path when each entry is the mounted pyspark's conf folder or one of
    its jars (`spark` is that pyspark on the host): no file the model could have written."""
    entries = text.strip().split(":")
    prefix = f"{spark_mount}/"
    for entry in entries:
        relative = entry.removeprefix(prefix) if entry.startswith(prefix) else ""
        parts = relative.split("/")
        a_jar = len(parts) == 3 and parts[:2] == ["pyspark", "jars"] and parts[2].endswith(".jar")
        # Spark's launcher names the conf folder even when there is none (pip's pyspark has
        # none); the mount is read-only, so none can appear.
        if not (relative == "pyspark/conf" or (a_jar and (spark / relative).is_file())):
            raise RefusedRecording(
                f"the recorded class path entry {entry!r} is not a jar of the mounted pyspark"
            )
    return ":".join(entries)
