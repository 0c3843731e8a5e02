"""The conversion rule's cases, shared by its unit tests and its end-to-end tests (every
protocol, the CLI and offline): the frame a model was validated with, the rows a test sends,
and every cast that is always made, as a client without pandas would send those rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa


def validation_frame() -> pd.DataFrame:
    """One column of each pandas dtype that callers cannot all express."""
    return pd.DataFrame(
        {
            "count": np.array([1, 2, 3], dtype="int64"),
            "score": np.array([0.5, 1.5, 2.5]),
            "city": pd.Categorical(["Paris", "Lyon", "Nice"]),
            "visits": pd.array([1, None, 3], dtype="Int64"),
            "seen": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]).tz_localize("UTC"),
            "name": ["a", "bb", "ccc"],
            "ok": [True, False, True],
        }
    )


def wanted() -> pd.DataFrame:
    """What the model must be given for the rows `sent()` describes, in the validated dtypes."""
    frame = validation_frame()
    return pd.DataFrame(
        {
            "count": np.array([4, 5, 6], dtype="int64"),
            "score": np.array([1.0, 2.0, 3.0]),
            "city": pd.Categorical(["Lyon", None, "Nice"], categories=frame["city"].cat.categories),
            "visits": pd.array([7, None, 9], dtype="Int64"),
            "seen": pd.to_datetime(
                ["2024-05-01 10:00:00", "2024-05-01 11:00:00", "2024-05-01 12:00:00"]
            ).tz_localize("UTC"),
            "name": pd.Series(["x", "y", "z"], dtype=frame["name"].dtype),
            "ok": [False, True, False],
        }
    ).astype(frame.dtypes.to_dict())


def sent(**replaced: pa.Array) -> pa.Table:
    """The rows of `wanted()` in plain Arrow types (no pandas metadata); 'Rome' is a city the
    validation data never saw, so the model gets it as missing, as pd.Categorical makes it."""
    base = {
        "count": pa.array([4, 5, 6], pa.int64()),
        "score": pa.array([1.0, 2.0, 3.0]),
        "city": pa.array(["Lyon", "Rome", "Nice"]),
        "visits": pa.array([7, None, 9], pa.int64()),
        "seen": pa.array(
            [pd.Timestamp(f"2024-05-01 {h}:00:00", tz="UTC") for h in (10, 11, 12)],
            pa.timestamp("us", tz="UTC"),
        ),
        "name": pa.array(["x", "y", "z"]),
        "ok": pa.array([False, True, False]),
    }
    base.update(replaced)
    return pa.table(base)


# Each: the columns replaced in `sent()`; the model must get `wanted()` all the same.
ALWAYS_MADE: dict[str, dict[str, pa.Array]] = {
    "int32 for int64": {"count": pa.array([4, 5, 6], pa.int32())},
    "uint8 for int64": {"count": pa.array([4, 5, 6], pa.uint8())},
    "float64 of whole numbers for int64": {"count": pa.array([4.0, 5.0, 6.0])},
    "int32 for float64": {"score": pa.array([1, 2, 3], pa.int32())},
    "int64 for float64": {"score": pa.array([1, 2, 3], pa.int64())},
    "float32 for float64": {"score": pa.array([1.0, 2.0, 3.0], pa.float32())},
    "large_string for category": {"city": pa.array(["Lyon", "Rome", "Nice"], pa.large_string())},
    "another category for category": {
        "city": pa.array(["Lyon", "Rome", "Nice"]).dictionary_encode()
    },
    "float64 with NaN for Int64 (a blank CSV cell)": {"visits": pa.array([7.0, np.nan, 9.0])},
    "int32 with nulls for Int64": {"visits": pa.array([7, None, 9], pa.int32())},
    "timestamp[ns] in another zone": {
        "seen": pa.array(
            [pd.Timestamp(f"2024-05-01 {h}:00:00", tz="Europe/Paris") for h in (12, 13, 14)],
            pa.timestamp("ns", tz="Europe/Paris"),
        )
    },
    "timestamp[ms] without a zone (UTC)": {
        "seen": pa.array(
            [pd.Timestamp(f"2024-05-01 {h}:00:00") for h in (10, 11, 12)], pa.timestamp("ms")
        )
    },
    "ISO-8601 strings with offsets": {
        "seen": pa.array([f"2024-05-01T{h}:00:00+02:00" for h in (12, 13, 14)])
    },
    "ISO-8601 strings without offsets (UTC)": {
        "seen": pa.array([f"2024-05-01 {h}:00:00" for h in (10, 11, 12)])
    },
    "string_view for str": {"name": pa.array(["x", "y", "z"], pa.string_view())},
    "category for str": {"name": pa.array(["x", "y", "z"]).dictionary_encode()},
}


def every_cast_at_once() -> pa.Table:
    """One table in which every column arrives as something other than its validated type."""
    return sent(
        count=pa.array([4, 5, 6], pa.int32()),
        score=pa.array([1, 2, 3], pa.int64()),
        city=pa.array(["Lyon", "Rome", "Nice"]).dictionary_encode(),
        visits=pa.array([7.0, np.nan, 9.0]),
        seen=pa.array([f"2024-05-01T{h}:00:00+02:00" for h in (12, 13, 14)]),
        name=pa.array(["x", "y", "z"]).dictionary_encode(),
    )
