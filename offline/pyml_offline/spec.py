"""What one offline job is asked to do, as plain data: it crosses into the container as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

WriteMode = Literal["error", "overwrite", "append"]
WRITE_MODES: tuple[WriteMode, ...] = ("error", "overwrite", "append")
# "auto": a plain scan of Parquet files is read by the Python workers (see parquet_scan);
# "spark": always Spark's own reader (to compare the two, or to rule the direct read out).
Reader = Literal["auto", "spark"]
READERS: tuple[Reader, ...] = ("auto", "spark")
# "auto": predictions of plain types are written to Parquet by the workers (parquet_write);
# "spark": always Spark's own writer.
Writer = Literal["auto", "spark"]
WRITERS: tuple[Writer, ...] = ("auto", "spark")
# Rows per Arrow batch handed to the model. Each batch pays fixed costs (pyspark's Arrow
# framing, the runtime's conform/decode/encode, the model's own per-call checks): measured on
# the example, 1.0 µs a row of Python CPU at 10,000 rows, 0.65 µs at 100,000. The bytes cap
# below keeps wide rows from making huge batches.
DEFAULT_BATCH_ROWS = 100_000
DEFAULT_BATCH_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class JobSpec:
    """One batch prediction: `query` through the model in `model_home` into `dest_table`.

    `model_home` is the path the driver and the Python workers see (the image's
    /opt/pyml/model, or a downloaded version on the host). `warehouse` set means the embedded
    default: a local warehouse and a Derby metastore under that folder; None means the
    cluster's own Hive settings (spark-defaults, hive-site.xml) decide.
    """

    model_home: str
    query: str
    dest_table: str
    key_columns: tuple[str, ...] = ()
    mode: WriteMode = "error"
    properties: dict[str, str] = field(default_factory=dict)
    master: str | None = None
    warehouse: str | None = None
    spark_conf: dict[str, str] = field(default_factory=dict)
    batch_rows: int = DEFAULT_BATCH_ROWS
    reader: Reader = "auto"
    writer: Writer = "auto"
    # The JVM's class-data-sharing archive to use, or the folder to record its classes into
    # (see class_archive); paths as the job sees them. Embedded default only.
    class_archive: str | None = None
    class_list_dir: str | None = None
    # The registered name (errors name the model by it); None: pyml.toml's or the folder's.
    model_name: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in WRITE_MODES:
            raise ValueError(f"mode {self.mode!r}: expected one of {', '.join(WRITE_MODES)}")
        if self.reader not in READERS:
            raise ValueError(f"reader {self.reader!r}: expected one of {', '.join(READERS)}")
        if self.writer not in WRITERS:
            raise ValueError(f"writer {self.writer!r}: expected one of {', '.join(WRITERS)}")
        if self.batch_rows < 1:
            raise ValueError(f"batch_rows {self.batch_rows}: expected at least 1")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> JobSpec:
        data: dict[str, Any] = json.loads(text)
        data["key_columns"] = tuple(data.get("key_columns", ()))
        return cls(**data)
