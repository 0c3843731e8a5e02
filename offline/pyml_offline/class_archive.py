"""A class-data-sharing (CDS) archive of the classes a job's JVM loads: a quarter off every
job's start-up, made once.

Before a job does anything its JVM loads about 20,000 classes from Spark's ~280 jars (Spark,
Hive, Derby, Parquet, Arrow). The JDK can map them, already parsed and verified, from one
archive file instead (measured on the host, 1-row job: 28 s → 20 s; no effect on
the per-row work). The archive belongs to one JRE and one class path, so it is made for the
mounted JRE and pyspark, beside them in the cache every PYML_HOME of the machine's user shares
(`mounts.shared_cache`), in `cds/<jre>-<pyspark>/`: once per machine, not once per home.

1. a job without an archive runs with `-XX:DumpLoadedClassList` into a fresh folder and writes
   its JVM's class path there;
2. after that job succeeds, one short container of the same image and mounts runs
   `java -Xshare:dump` for exactly that class list and class path (about a minute, once);
3. the folder is renamed into place (`mounts.make_atomically`, like the JRE and pyspark
   caches); later jobs run with `-XX:SharedArchiveFile`.

A JVM that cannot use the archive (a changed jar) ignores it: `-Xshare:auto`, the default. A
dump that fails leaves the folder with `failed.txt` and no archive, so later jobs neither
record nor retry; delete the folder to try again.
"""

from __future__ import annotations

from pathlib import Path

ARCHIVE = "spark.jsa"
CLASS_LIST = "classes.lst"
CLASS_PATH = "classpath.txt"
FAILED = "failed.txt"
MOUNT = "/opt/pyml/cds"  # in the container


def archive_dir(cache: Path, jre: Path, spark: Path) -> Path:
    """The folder for this JRE (its cache name is its digest) and pyspark (its version)."""
    return cache / "cds" / f"{jre.name}-{spark.name}"


def java_options(class_archive: str | None, class_list_dir: str | None) -> list[str]:
    """The JVM options of a job that uses an archive, or records what it loads."""
    if class_archive:
        return [f"-XX:SharedArchiveFile={class_archive}"]
    if class_list_dir:
        return [f"-XX:DumpLoadedClassList={class_list_dir}/{CLASS_LIST}"]
    return []


def dump_argv(folder: Path, java: str) -> list[str] | None:
    """`java -Xshare:dump` for what a job recorded in `folder` (in the container's paths), or
    None when it recorded nothing."""
    class_path = folder / CLASS_PATH
    if not (folder / CLASS_LIST).exists() or not class_path.exists():
        return None
    return [
        java,
        "-Xshare:dump",
        f"-XX:SharedClassListFile={MOUNT}/{CLASS_LIST}",
        f"-XX:SharedArchiveFile={MOUNT}/{ARCHIVE}",
        "-cp",
        class_path.read_text().strip(),
    ]


def note_failure(folder: Path, output: str) -> None:
    """Why `folder` has no archive, when it has none: later jobs then neither record nor retry."""
    if not (folder / ARCHIVE).exists():
        (folder / FAILED).write_text(output[-5000:])
