"""One real Spark session (local mode, Hive metastore in Derby) for the offline job's tests.

Spark, Java and pyspark missing are failures, not skips: `make test` installs the spark extra.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pyml_offline.job import build_session
from pyml_offline.sample_tables import create_cancer_table
from pyml_offline.spec import JobSpec


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("warehouse")


@pytest.fixture(scope="session")
def spark(warehouse: Path) -> Iterator[Any]:
    with pytest.MonkeyPatch.context() as patch:
        # Workers need this interpreter (pyarrow, pyml_runtime); loopback only.
        patch.setenv("PYSPARK_PYTHON", sys.executable)
        patch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        session = build_session(job_spec(warehouse=str(warehouse)))
        session.sparkContext.setLogLevel("ERROR")
        yield session
        session.stop()


@pytest.fixture(scope="session")
def cancer_cells(spark: Any) -> str:
    create_cancer_table(spark, "cancer.cells")
    return "cancer.cells"


def job_spec(**changes: Any) -> JobSpec:
    base: dict[str, Any] = {
        "model_home": "",
        "query": "SELECT 1",
        "dest_table": "default.unused",
        "master": "local[2]",
        "spark_conf": {"spark.sql.shuffle.partitions": "2"},
        "batch_rows": 1000,
    }
    return JobSpec(**{**base, **changes})


def table_rows(spark: Any, table: str) -> list[dict[str, Any]]:
    return [row.asDict() for row in spark.table(table).orderBy("id").collect()]
