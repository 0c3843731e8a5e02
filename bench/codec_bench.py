"""Arrow codec latency: the codec against pyarrow's general conversion, one run.

    .venv/bin/python bench/codec_bench.py [--repeats 300]

For 1-row and 10,000-row frames of the breast cancer example (30 float64 columns), of a mixed
numeric frame (float64, float32, int64, int32, uint8, bool, float64 with NaNs) and of a frame
the fast paths leave to pyarrow (text, categorical, nullable Int64), prints median and p99
latency of:

- encode: ``pa.Table.from_pandas`` + the codec's IPC writer (the baseline) against
  ``codec.encode_dataframe``;
- decode: the codec's IPC reader + ``Table.to_pandas`` (the baseline) against
  ``codec.decode_dataframe``;

then, for the example model, the model object's own predict (the floor), the previous serving
path re-enacted with pyarrow's general conversion (the baseline) and ``Dataplane.predict_arrow``.
Ratios are against the baseline measured in the same run, in turns with it (each round calls
every contender once, in a shuffled order); every loop is bounded in count and in time.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.datasets import load_breast_cancer

from pyml_runtime import codec
from pyml_runtime.dataplane import Dataplane
from pyml_runtime.loader import load_model

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TIME_CAP_S = 20.0
ROWS = {"1 row": 1, "10,000 rows": 10_000}


def measure(calls: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Samples (ms) of each call, taken in turns so that load changes hit every call alike.

    Each round calls every contender once, in a shuffled order: what runs just before a call
    (a cache it warmed, memory it freed) favours no contender.
    """
    for call in calls.values():  # warm-up: caches, allocator
        for _ in range(min(10, repeats)):
            call()
    samples: dict[str, list[float]] = {label: [] for label in calls}
    order = list(calls.items())
    shuffle = random.Random(0).shuffle
    deadline = time.monotonic() + TIME_CAP_S
    for _ in range(repeats):
        if time.monotonic() > deadline:
            break
        shuffle(order)
        for label, call in order:
            started = time.perf_counter()
            call()
            samples[label].append((time.perf_counter() - started) * 1000)
    return samples


def p99(samples: list[float]) -> float:
    return sorted(samples)[max(0, round(0.99 * len(samples)) - 1)]


def row(label: str, samples: list[float], baseline: list[float] | None = None) -> None:
    median = statistics.median(samples)
    ratio = ""
    if baseline is not None:
        ratio = f"{median / statistics.median(baseline):6.2f}x"
    print(f"  {label:<34} {median:9.3f} {p99(samples):9.3f} {ratio:>8}  (n={len(samples)})")


def header(title: str) -> None:
    print(f"\n{title}")
    print(f"  {'':<34} {'median ms':>9} {'p99 ms':>9} {'vs base':>8}")


# --- frames ----------------------------------------------------------------------------------


def example_frame(rows: int) -> pd.DataFrame:
    data = load_breast_cancer(as_frame=True).data
    if rows <= len(data):
        return data.head(rows)
    return data.sample(rows, replace=True, random_state=0).reset_index(drop=True)


def mixed_numeric_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "f64": rng.normal(size=rows),
            "f32": rng.normal(size=rows).astype(np.float32),
            "i64": rng.integers(0, 1000, size=rows),
            "i32": rng.integers(0, 1000, size=rows).astype(np.int32),
            "u8": rng.integers(0, 255, size=rows).astype(np.uint8),
            "flag": rng.random(size=rows) > 0.5,
            "f64_nan": np.where(rng.random(size=rows) > 0.9, np.nan, rng.normal(size=rows)),
        }
    )


def general_frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "x": rng.normal(size=rows),
            "text": pd.array([f"item {i % 97}" for i in range(rows)], dtype="str"),
            "category": pd.Categorical(rng.choice(["lo", "mid", "hi"], size=rows)),
            "count": pd.array(rng.integers(0, 9, size=rows), dtype="Int64"),
        }
    )


FRAMES: dict[str, Callable[[int], pd.DataFrame]] = {
    "breast cancer (30 x float64)": example_frame,
    "mixed numeric (7 columns, 6 dtypes)": mixed_numeric_frame,
    "general path (text, category, Int64)": general_frame,
}


# --- the baseline: pyarrow's general conversion, the codec's stream I/O ----------------------


def baseline_encode(df: pd.DataFrame) -> bytes:
    return codec.encode_table(pa.Table.from_pandas(df, preserve_index=False))


def baseline_decode(data: bytes) -> pd.DataFrame:
    frame: pd.DataFrame = codec.read_table(data).to_pandas()
    return frame


def baseline_predict(dp: Dataplane, data: bytes) -> bytes:
    """The serving path before the fast paths: conform by rebuilding, to_pandas, from_pandas."""
    assert dp._input_table is not None
    table = codec.read_table(data)
    expected = dp._input_table.schema
    table = pa.Table.from_arrays([table.column(name) for name in expected.names], schema=expected)
    output = dp.model.instance.predict(table.to_pandas())
    return codec.encode_table(pa.Table.from_pandas(output, preserve_index=False))


# --- main ------------------------------------------------------------------------------------


def bench_codec(repeats: int) -> None:
    for title, make in FRAMES.items():
        for size, rows in ROWS.items():
            df = make(rows)
            data = baseline_encode(df)
            pd.testing.assert_frame_equal(codec.decode_dataframe(data), baseline_decode(data))
            header(f"{title}, {size} ({len(data):,} bytes)")
            report(
                measure(
                    {
                        "encode: from_pandas + write": partial(baseline_encode, df),
                        "encode: codec.encode_dataframe": partial(codec.encode_dataframe, df),
                        "decode: read + to_pandas": partial(baseline_decode, data),
                        "decode: codec.decode_dataframe": partial(codec.decode_dataframe, data),
                    },
                    repeats,
                ),
                baselines={
                    "encode: codec.encode_dataframe": "encode: from_pandas + write",
                    "decode: codec.decode_dataframe": "decode: read + to_pandas",
                },
            )


def report(samples: dict[str, list[float]], baselines: dict[str, str]) -> None:
    for label, times in samples.items():
        base = baselines.get(label)
        row(label, times, samples[base] if base else None)


def bench_predict(repeats: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="pyml-codec-bench-")) / "breast_cancer_lr"
    try:
        skip = shutil.ignore_patterns("validation", "*.joblib")
        shutil.copytree(EXAMPLES / "breast_cancer_lr", home, ignore=skip)
        train = EXAMPLES / "train_breast_cancer.py"
        subprocess.run([sys.executable, str(train), str(home)], check=True, capture_output=True)
        dp = Dataplane.for_home(load_model(home))
        for size, rows in ROWS.items():
            data = codec.encode_dataframe(example_frame(rows))
            pd.testing.assert_frame_equal(
                codec.decode_dataframe(dp.predict_arrow("dataframe", data)),
                codec.decode_dataframe(baseline_predict(dp, data)),
                check_exact=True,
            )
            # The floor: the model on the very frame it gets when serving (same memory layout).
            model_input = codec.decode_dataframe(data)
            header(f"breast cancer model, {size}")
            floor, base = "model.predict (the floor)", "previous path (general conversion)"
            fast = "Dataplane.predict_arrow"
            samples = measure(
                {
                    floor: partial(dp.model.instance.predict, model_input),
                    base: partial(baseline_predict, dp, data),
                    fast: partial(dp.predict_arrow, "dataframe", data),
                },
                repeats,
            )
            report(samples, baselines={fast: base})
            medians = {label: statistics.median(times) for label, times in samples.items()}
            print(
                f"  overhead over the model: {medians[base] - medians[floor]:.3f} ms before, "
                f"{medians[fast] - medians[floor]:.3f} ms now"
            )
    finally:
        shutil.rmtree(home.parent, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    print(f"pyarrow {pa.__version__}, pandas {pd.__version__}, numpy {np.__version__}")
    bench_codec(args.repeats)
    bench_predict(args.repeats)


if __name__ == "__main__":
    main()
