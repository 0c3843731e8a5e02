"""Spark sessions with Hive support: the job's, and the host user's view of the same tables.

With a warehouse folder (the embedded default), tables live in ``warehouse/tables`` and the
Hive metastore is a Derby database in ``warehouse/metastore_db``: the host's pyspark opens
the very tables a containerized job wrote with `open_warehouse()`. Derby admits one JVM at a
time, so close one before starting the other. Without a folder the cluster's own Hive
settings (spark-defaults.conf, hive-site.xml) decide.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from pyml_offline.errors import OfflineJobError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# pandas 3 works for what PyML asks of PySpark (Arrow batches, toPandas), yet PySpark warns
# at every import that it does not fully support it, and pandas warns about the keywords
# PySpark's own conversions pass: noise for a person reading a job's output, not theirs to fix.
warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"pyspark\.")
warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark\.")


def hive_session(
    warehouse: Path | None,
    master: str | None = None,
    conf: dict[str, str] | None = None,
    java_options: list[str] | None = None,
) -> SparkSession:
    try:
        from pyspark.sql import SparkSession
    except ImportError as missing:  # the extra, named: not "No module named 'pyspark'"
        raise OfflineJobError(
            "Spark is not installed here: pip install 'pyml[spark]' (and Java 17)"
        ) from missing

    builder = SparkSession.builder.appName("pyml-offline").enableHiveSupport()
    if master:
        builder = builder.master(master)
    settings = embedded_settings(warehouse, java_options) if warehouse else {}
    settings["spark.sql.session.timeZone"] = "UTC"  # the same timestamps wherever it runs
    for key, value in {**settings, **(conf or {})}.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def embedded_settings(warehouse: Path, java_options: list[str] | None = None) -> dict[str, str]:
    warehouse = Path(warehouse).absolute()
    options = [f"-Dderby.system.home={warehouse}", "-XX:+UseSerialGC", *(java_options or [])]
    return {
        "spark.sql.warehouse.dir": str(warehouse / "tables"),
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={warehouse / 'metastore_db'};create=true"
        ),
        # The serial collector: local mode on a few cores with a small heap, where G1's
        # concurrent threads compete with the job's own (measured: a shorter start-up).
        "spark.driver.extraJavaOptions": " ".join(options),
        "spark.ui.enabled": "false",
        # Hive's session makes a `<session id>_resources` folder and Spark never closes the
        # session: keep those in the warehouse rather than littering the machine's /tmp.
        "spark.hadoop.hive.downloaded.resources.dir": (
            str(warehouse / "tmp") + "/${hive.session.id}_resources"
        ),
    }


def open_warehouse(warehouse: Path | None = None, master: str = "local[2]") -> SparkSession:
    """The host's session on PyML's embedded warehouse ($PYML_HOME/warehouse by default)."""
    from pyml_offline.mounts import pyml_home

    # Python workers need an interpreter with pyarrow: this one. Loopback only.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    return hive_session(warehouse or pyml_home() / "warehouse", master)
