"""Atomic Hive table writes: predictions go to a staging table first, then replace or join
the destination in metadata-only steps, so a failed job leaves the destination as it was.

    overwrite: staging → rename dest aside → rename staging to dest → drop the old table
    append:    staging → INSERT INTO dest SELECT … FROM staging (one Spark commit) → drop staging
    error:     (the default) a destination that exists is refused before any work
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyml_offline.errors import OfflineJobError
from pyml_offline.progress import Phases
from pyml_offline.spec import WriteMode

if TYPE_CHECKING:
    from pyspark.sql import SparkSession
    from pyspark.sql.types import StructType

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
STAGING_PREFIX = "pyml_staging_"


@dataclass(frozen=True)
class TableName:
    database: str
    table: str

    @classmethod
    def parse(cls, text: str) -> TableName:
        """ "db.table" (or "table", in the default database); plain identifiers only."""
        database, _, table = text.rpartition(".")
        database = database or "default"
        for part in (database, table):
            if not _IDENTIFIER.match(part):
                raise OfflineJobError(
                    f"table name {text!r}: expected db.table, each a letter or '_' then "
                    "letters, digits or '_'"
                )
        return cls(database.lower(), table.lower())

    @property
    def sql(self) -> str:
        return f"`{self.database}`.`{self.table}`"

    def sibling(self, prefix: str) -> TableName:
        return TableName(self.database, f"{prefix}{self.table}_{uuid.uuid4().hex[:12]}")


def table_exists(spark: SparkSession, name: TableName) -> bool:
    return bool(spark.catalog.tableExists(f"{name.database}.{name.table}"))


def check_destination(
    spark: SparkSession, name: TableName, mode: WriteMode, schema: StructType
) -> None:
    """Refuse, before any work, what the write would refuse after it."""
    if not spark.catalog.databaseExists(name.database):
        raise OfflineJobError(f"database '{name.database}' does not exist (for {name.sql})")
    if not table_exists(spark, name):
        return
    if mode == "error":
        raise OfflineJobError(
            f"table {name.database}.{name.table} exists: pass mode='overwrite' to replace it "
            "or mode='append' to add rows"
        )
    if mode == "append":
        have = [(f.name, f.dataType.simpleString()) for f in spark.table(name.sql).schema.fields]
        want = [(f.name, f.dataType.simpleString()) for f in schema.fields]
        if have != want:
            raise OfflineJobError(
                f"cannot append to {name.database}.{name.table}: its columns {have} differ "
                f"from this job's {want} (names, types and order must match)"
            )


def write_atomically(
    spark: SparkSession,
    fill: Callable[[TableName], object],
    name: TableName,
    mode: WriteMode,
    properties: dict[str, str],
    phases: Phases | None = None,
) -> None:
    """`fill` a new staging table (the whole Spark job), then swap it in (see the module
    docs). `phases` gets "compute" (the fill) and "swap"."""
    staging = name.sibling(STAGING_PREFIX)
    phases = phases or Phases()
    try:
        fill(staging)
        phases.mark("compute")
        _set_properties(spark, staging, properties)
        if mode == "append" and table_exists(spark, name):
            _append(spark, staging, name, properties)
        else:
            _replace(spark, staging, name)
    finally:
        spark.sql(f"DROP TABLE IF EXISTS {staging.sql}")
        _remove_folder(spark, staging)
        phases.mark("swap")


def managed_location(spark: SparkSession, name: TableName) -> str:
    """The folder a managed table has (or would have), as a URI: its database's folder and
    its name, Spark's own rule."""
    database = str(spark.catalog.getDatabase(name.database).locationUri).rstrip("/")
    return f"{database}/{name.table}"


def _remove_folder(spark: SparkSession, staging: TableName) -> None:
    """The staging table's folder, if still there: a failed `saveAsTable` leaves its
    half-written files (Spark's `_temporary`) with no table whose drop would remove them."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    # Hadoop's file system API: the warehouse may be local, HDFS or an object store.
    path = jvm.org.apache.hadoop.fs.Path(managed_location(spark, staging))
    path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).delete(path, True)


def _replace(spark: SparkSession, staging: TableName, name: TableName) -> None:
    if not table_exists(spark, name):
        spark.sql(f"ALTER TABLE {staging.sql} RENAME TO {name.sql}")
        return
    old = name.sibling("pyml_replaced_")
    spark.sql(f"ALTER TABLE {name.sql} RENAME TO {old.sql}")
    try:
        spark.sql(f"ALTER TABLE {staging.sql} RENAME TO {name.sql}")
    except Exception:
        spark.sql(f"ALTER TABLE {old.sql} RENAME TO {name.sql}")  # put the original back
        raise
    spark.sql(f"DROP TABLE IF EXISTS {old.sql}")


def _append(
    spark: SparkSession, staging: TableName, name: TableName, properties: dict[str, str]
) -> None:
    columns = ", ".join(f"`{column}`" for column in spark.table(name.sql).columns)
    spark.sql(f"INSERT INTO {name.sql} SELECT {columns} FROM {staging.sql}")
    _set_properties(spark, name, properties)


def _set_properties(spark: SparkSession, name: TableName, properties: dict[str, str]) -> None:
    if not properties:
        return
    pairs = ", ".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(properties.items()))
    spark.sql(f"ALTER TABLE {name.sql} SET TBLPROPERTIES ({pairs})")


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def table_properties(spark: SparkSession, name: TableName) -> dict[str, str]:
    return {
        row["key"]: row["value"] for row in spark.sql(f"SHOW TBLPROPERTIES {name.sql}").collect()
    }
