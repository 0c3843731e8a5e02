"""Finding 5 (and the runtime half of 6): decoding is bounded, and health answers under load.

Two levels: `codec.read_table` directly (fast, in this process), then the same bytes sent to a
real `pyml-runtime serve` process on a Unix socket while a Bystander keeps sending it valid
predictions and health checks: the attack is refused with the right status, naming the model
and the limit, and nothing else breaks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import pandas as pd
import pyarrow as pa
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pyml.v1 import payload_pb2, runtime_pb2_grpc
from pyml_runtime import codec
from pyml_runtime.errors import ErrorKind, PymlError
from tests.runtime.runtime_homes import copy_home, save_validation, scorer_input
from tests.runtime.runtime_process import SERVING, Runtime, running
from tests.security import hostile_arrow
from tests.security.bystander import Bystander

if TYPE_CHECKING:
    from pyml_runtime.ipc_budget import DecodeBudget

DATAFRAME = payload_pb2.PAYLOAD_KIND_DATAFRAME
# Generous, not a benchmark: a refusal takes milliseconds, main took 20-28 s (quadratic) or
# allocated first; 5 s keeps them apart on a loaded 2-core CI machine.
FAST_SECONDS = 5.0


def refusal(data: bytes, budget: DecodeBudget | None = None) -> PymlError:
    with pytest.raises(PymlError) as caught:
        if budget is None:
            codec.read_table(data)
        else:
            codec.read_table(data, budget)
    return caught.value


# --- unit: codec.read_table ----------------------------------------------------------------------


def test_zstd_bomb_is_refused_before_decompression() -> None:
    pool = pa.default_memory_pool()
    peak_before = pool.max_memory()
    error = refusal(hostile_arrow.zstd_bomb())
    # Nothing of the declared 1.6 GB was allocated (main allocated it, then failed).
    assert pool.max_memory() - peak_before < 64 << 20
    assert error.kind.name == "RESOURCE_EXHAUSTED"
    assert "decoded bytes" in error.message
    assert "PYML_RUNTIME_MAX_DECODED_BYTES" in error.message
    assert str(hostile_arrow.BOMB_DECLARED_BYTES) in error.message


def test_35000_record_batches_are_refused() -> None:
    error = refusal(hostile_arrow.many_batches(35_000))
    assert error.kind.name == "RESOURCE_EXHAUSTED"
    assert "more than 4096 batches" in error.message
    assert "PYML_RUNTIME_MAX_BATCHES" in error.message


def test_40000_duplicate_names_are_refused_fast() -> None:
    data = hostile_arrow.duplicate_names(40_000)
    started = time.monotonic()
    error = refusal(data)
    assert time.monotonic() - started < FAST_SECONDS
    assert error.kind is ErrorKind.INVALID_INPUT
    assert "PYML_RUNTIME_MAX_COLUMNS" in error.message


def test_the_duplicate_name_check_is_linear() -> None:
    # Within a budget that lets 40,000 columns through, the duplicate check itself is fast.
    from pyml_runtime.ipc_budget import DecodeBudget

    data = hostile_arrow.duplicate_names(40_000)
    started = time.monotonic()
    error = refusal(data, DecodeBudget(max_columns=50_000))
    assert time.monotonic() - started < FAST_SECONDS
    assert error.kind is ErrorKind.INVALID_INPUT
    assert error.message.startswith("duplicate column names: 'column_000000', 'column_000001'")
    assert error.message.endswith("and 19990 more")


def test_deep_nesting_is_refused() -> None:
    error = refusal(hostile_arrow.deep_nesting(40))
    assert error.kind is ErrorKind.INVALID_INPUT
    assert "levels of nesting" in error.message
    assert "PYML_RUNTIME_MAX_DEPTH" in error.message


def test_a_schema_whose_fields_share_children_is_refused_before_it_is_built() -> None:
    # 111,111 fields from one field per level listed 10 times: pyarrow would build them all.
    error = refusal(hostile_arrow.shared_children_schema(fan_out=10, depth=5))
    assert error.kind is ErrorKind.INVALID_INPUT
    assert "PYML_RUNTIME_MAX_COLUMNS" in error.message


def test_fields_that_share_one_long_name_are_refused() -> None:
    # 15 fields, one 1 MiB name: pyarrow copies it into each (with 10,000 fields: 10 GB).
    error = refusal(hostile_arrow.shared_children_schema(fan_out=2, depth=3, name_bytes=1 << 20))
    assert error.kind is ErrorKind.INVALID_INPUT
    assert "names and metadata add up to more than its own" in error.message


def test_a_billion_null_rows_are_refused() -> None:
    # No buffers at all: only the declared length says what pandas would build (8 GB).
    error = refusal(hostile_arrow.null_rows(1 << 30))
    assert error.kind.name == "RESOURCE_EXHAUSTED"
    assert "PYML_RUNTIME_MAX_ROWS" in error.message


def test_string_views_that_share_their_bytes_count_every_copy() -> None:
    data = hostile_arrow.shared_string_views(60_000, 1 << 20)
    assert len(data) < 4 << 20
    error = refusal(data)
    assert error.kind.name == "RESOURCE_EXHAUSTED"
    assert "decoded bytes" in error.message


def test_dictionaries_nested_in_lists_are_refused() -> None:
    # pandas would copy the one 1 MiB string into every element.
    error = refusal(hostile_arrow.list_of_dictionary(1_000, 1 << 20))
    assert error.kind is ErrorKind.INVALID_INPUT
    assert "inside a nested type" in error.message


def test_streams_within_the_budgets_still_decode() -> None:
    frame = pd.DataFrame({"x": range(10_000), "s": ["v"] * 10_000})
    assert codec.decode_dataframe(codec.encode_dataframe(frame)).equals(
        codec.table_to_dataframe(pa.Table.from_pandas(frame, preserve_index=False))
    )
    compressed = hostile_arrow.stream(
        pa.record_batch({"x": pa.array(range(1_000_000))}), compression="zstd"
    )
    assert codec.read_table(compressed).num_rows == 1_000_000


# --- end to end: a runtime process on a Unix socket ---------------------------------------------


@pytest.fixture(scope="module")
def scorer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    base = tmp_path_factory.mktemp("dec")
    home = copy_home("scorer", base)
    save_validation(home, scorer_input())
    with running(home, base / "run" / "m.sock") as runtime:
        runtime.wait_for(SERVING)
        yield runtime


def predict(runtime: Runtime, data: bytes, timeout: float = 10) -> bytes:
    request = payload_pb2.Payload(kind=DATAFRAME, arrow_ipc=data)
    return bytes(
        runtime_pb2_grpc.ModelRuntimeStub(runtime.channel)
        .Predict(request, timeout=timeout)
        .arrow_ipc
    )


def health_within(runtime: Runtime, seconds: float) -> int:
    stub = health_pb2_grpc.HealthStub(runtime.channel)
    return int(stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=seconds).status)


def bystander_on(runtime: Runtime) -> Bystander:
    """Valid predictions and health checks on `runtime`, compared with the model's answer."""
    valid = codec.encode_dataframe(scorer_input())

    def call() -> pd.DataFrame:
        # Answered (the dedicated test below holds health to a second under load).
        assert health_within(runtime, 5 * FAST_SECONDS) == SERVING
        return codec.decode_dataframe(predict(runtime, valid))

    return Bystander(call, call())


ATTACKS: dict[str, tuple[Callable[[], bytes], grpc.StatusCode, str]] = {
    "zstd_bomb": (
        hostile_arrow.zstd_bomb,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "PYML_RUNTIME_MAX_DECODED_BYTES",
    ),
    "35000_batches": (
        hostile_arrow.many_batches,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "PYML_RUNTIME_MAX_BATCHES",
    ),
    "40000_duplicate_names": (
        hostile_arrow.duplicate_names,
        grpc.StatusCode.INVALID_ARGUMENT,
        "PYML_RUNTIME_MAX_COLUMNS",
    ),
    "deep_nesting": (
        hostile_arrow.deep_nesting,
        grpc.StatusCode.INVALID_ARGUMENT,
        "PYML_RUNTIME_MAX_DEPTH",
    ),
    "shared_children_schema": (
        hostile_arrow.shared_children_schema,
        grpc.StatusCode.INVALID_ARGUMENT,
        "PYML_RUNTIME_MAX_COLUMNS",
    ),
    "null_rows": (
        hostile_arrow.null_rows,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "PYML_RUNTIME_MAX_ROWS",
    ),
    "shared_string_views": (
        hostile_arrow.shared_string_views,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "PYML_RUNTIME_MAX_DECODED_BYTES",
    ),
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_a_runtime_process_refuses_hostile_streams_and_keeps_serving(
    scorer: Runtime, attack: str
) -> None:
    build, code, limit = ATTACKS[attack]
    data = build()
    with bystander_on(scorer) as bystander:
        # Again and again while the bystander calls (bounded in count and time).
        for _ in _attempts(bystander, count=200, seconds=10):
            started = time.monotonic()
            with pytest.raises(grpc.RpcError) as caught:
                predict(scorer, data)
            call: grpc.Call = caught.value  # type: ignore[assignment]
            assert call.code() is code, call.details()
            assert (call.details() or "").startswith("model 'scorer': ")
            assert limit in (call.details() or "")
            assert time.monotonic() - started < 5 * FAST_SECONDS
    bystander.assert_served()
    assert scorer.process.poll() is None


def _attempts(bystander: Bystander, count: int, seconds: float) -> Iterator[int]:
    """At least 3 attempts, then more until the bystander has made 3 calls."""
    deadline = time.monotonic() + seconds
    for attempt in range(count):
        if attempt >= 3 and (bystander.report.calls >= 3 or time.monotonic() > deadline):
            return
        yield attempt
        time.sleep(0.02)


# --- health under load ---------------------------------------------------------------------------

SLOW_MODEL = """
    import time
    from pyml import DataFrameModel

    class Slow(DataFrameModel):
        def __init__(self, home):
            pass

        def predict(self, df):
            time.sleep(min(float(df["sleep"].iloc[0]), 5.0))  # bounded, whatever is sent
            return df
"""


def test_health_answers_while_slow_predictions_fill_the_runtime(
    scorer: Runtime, tmp_path: Path
) -> None:
    home = tmp_path / "slow"
    home.mkdir()
    (home / "model.py").write_text(SLOW_MODEL.replace("\n    ", "\n").lstrip())
    sleepy = codec.encode_dataframe(pd.DataFrame({"sleep": [0.5]}))
    with (
        running(home, tmp_path / "run" / "slow.sock") as slow,
        bystander_on(scorer) as bystander,
        ThreadPoolExecutor(16) as pool,
    ):
        slow.wait_for(SERVING)
        calls = [pool.submit(_timed_predict, slow, sleepy) for _ in range(16)]
        time.sleep(0.2)  # every call has reached the runtime
        slowest = _health_while(slow, lambda: not all(c.done() for c in calls), limit=20)
        outcomes = [c.result() for c in calls]
    bystander.assert_served()
    assert slowest < FAST_SECONDS, f"a health check took {slowest:.2f} s"
    served = [seconds for code, _, seconds in outcomes if code is grpc.StatusCode.OK]
    busy = [
        (details, seconds) for code, details, seconds in outcomes if code is not grpc.StatusCode.OK
    ]
    assert len(served) >= 1
    assert busy, "16 slow calls at once were all accepted (expected: RESOURCE_EXHAUSTED beyond 6)"
    for details, seconds in busy:
        assert "PYML_RUNTIME_MAX_CONCURRENT_PREDICTS" in details
        assert seconds < FAST_SECONDS, "a refused call waited instead of failing at once"


def _timed_predict(runtime: Runtime, data: bytes) -> tuple[grpc.StatusCode, str, float]:
    started = time.monotonic()
    try:
        predict(runtime, data, timeout=30)
    except grpc.RpcError as exc:
        call: grpc.Call = exc  # type: ignore[assignment]
        return call.code(), call.details() or "", time.monotonic() - started
    return grpc.StatusCode.OK, "", time.monotonic() - started


def _health_while(runtime: Runtime, busy: Callable[[], bool], limit: float) -> float:
    """Health checks every 0.1 s while `busy()` (at most `limit` s): the slowest answer time."""
    slowest = 0.0
    deadline = time.monotonic() + limit
    checks = 0
    while (busy() or checks < 3) and time.monotonic() < deadline:
        started = time.monotonic()
        try:
            assert health_within(runtime, 5 * FAST_SECONDS) == SERVING
        except grpc.RpcError:
            return float("inf")
        slowest = max(slowest, time.monotonic() - started)
        checks += 1
        threading.Event().wait(0.1)
    return slowest
