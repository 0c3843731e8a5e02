"""Where a 1-row DataFrame request's time goes: each step of the runtime and of pyml.Client.

    .venv/bin/python bench/runtime_steps.py [--repeats 2000] [--rows 1]

On the breast cancer example (examples/breast_cancer_lr, after `make examples`), prints the
median and p90 in microseconds (CPU time of this process; the socket round trip: wall clock)
of every step a request takes, in the order it takes them:

runtime (the dataplane called as the servicer calls it, then a real `pyml-runtime serve` on a
Unix socket for gRPC's own share):
  Payload read -> codec.read_table (DecodeBudget) -> conform columns -> table -> pandas ->
  model.predict -> pandas -> table -> IPC encode -> Payload written; and the round trip
  over the socket, whose part outside the runtime's own work is gRPC's (both ends).
  These steps are the general road; the last line, `Dataplane.predict_buffer` as served,
  takes the known-shape road after the first call (`pyml_runtime/frame_streams.py`: the
  request's frame straight from its values, the answer as its known bytes plus its values).
  Each step is timed as the serving chain cut after it, from the request's bytes, minus the
  chain cut before it: every step gets fresh objects, as when serving (a step timed alone on
  one object profits from what pandas caches on it). After the model, the chain starts from
  a new frame of the model's output columns, so the model's variance stays out of them.
batches: `Dataplane.predict_batch` of 3 and 8 such requests (the model opted in to batching),
  against the model's own call on their rows; the difference is the batch's work around it.
client (pyml.Client.predict's own work): DataFrame -> Arrow IPC -> PredictRequest serialize;
  PredictResponse parse -> Arrow IPC -> DataFrame.

Every loop is bounded in count and time; the chains (and the client's steps) are timed in
turns (round robin) so load changes hit each alike.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import pandas as pd
import pyarrow as pa

from pyml._internal.payloads import decode_payload, encode_payload
from pyml.v1 import payload_pb2, prediction_pb2, runtime_pb2_grpc
from pyml_runtime import codec, payload_wire
from pyml_runtime.config import BatchingConfig
from pyml_runtime.dataplane import Dataplane
from pyml_runtime.loader import load_model

ROOT = Path(__file__).resolve().parents[1]
HOME = ROOT / "examples" / "breast_cancer_lr"
TIME_CAP_S = 30.0
# Requests per PredictBatch timed (what the gateway sends at c=8 is 2-4 on average).
BATCH_SIZES = (3, 8)
RUNTIME_BIN = Path(sys.executable).with_name("pyml-runtime")


def measure(
    steps: dict[str, Callable[[], object]],
    repeats: int,
    clock: Callable[[], int] = time.process_time_ns,
) -> dict[str, list[float]]:
    """Microseconds of each step; every round calls each step once (bounded: count, time).

    In process, CPU time by default: on a shared machine the wall clock also counts the time
    other processes held the CPU.
    """
    for call in steps.values():
        for _ in range(min(50, repeats)):
            call()
    samples: dict[str, list[float]] = {label: [] for label in steps}
    deadline = time.monotonic() + TIME_CAP_S
    for _ in range(repeats):
        if time.monotonic() > deadline:
            break
        for label, call in steps.items():
            started = clock()
            call()
            samples[label].append((clock() - started) / 1000)
    return samples


def p90(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.9 * len(values)) - 1)]


def show(title: str, samples: dict[str, list[float]]) -> dict[str, float]:
    print(f"\n{title}")
    print(f"  {'step':<44} {'median us':>10} {'p90 us':>10}")
    medians = {}
    for label, values in samples.items():
        medians[label] = statistics.median(values)
        print(f"  {label:<44} {medians[label]:10.1f} {p90(values):10.1f}")
    return medians


def frame(home: Path, rows: int) -> pd.DataFrame:
    data = pd.read_parquet(home / "validation" / "input.parquet")
    if rows <= len(data):
        return data.head(rows).reset_index(drop=True)
    return data.sample(rows, replace=True, random_state=0).reset_index(drop=True)


def runtime_steps(dp: Dataplane, df: pd.DataFrame, repeats: int) -> dict[str, float]:
    """The serving chain cut after each step: a step's cost is the difference of two prefixes.

    Each prefix starts from the request's bytes, so every step gets fresh objects, as when
    serving (a step timed alone on one object profits from what pandas caches on it).
    """
    request = payload_pb2.Payload(kind=1, arrow_ipc=codec.encode_dataframe(df))
    wire = request.SerializeToString()
    model = dp.model.instance

    def parse() -> memoryview:
        return payload_wire.read_payload(wire).arrow_ipc

    def read() -> pa.Table:
        return dp._read(parse())

    def conform() -> pa.Table:
        return dp._conformed(read())

    def to_pandas() -> pd.DataFrame:
        return codec.table_to_dataframe(conform())

    def predict() -> pd.DataFrame:
        output: pd.DataFrame = model.predict(to_pandas())
        return output

    # After the model: a new frame of the model's output columns each call (what the model
    # returns), so the model's own variance does not drown the small steps after it.
    output = predict()
    labels, columns = [str(c) for c in output.columns], [output[c].to_numpy() for c in output]

    def model_output() -> pd.DataFrame:
        return pd.DataFrame(dict(zip(labels, columns, strict=True)))

    def to_table() -> pa.Table:
        return codec.dataframe_to_table(model_output())

    def encode() -> pa.Buffer:
        return codec.encode_buffer(to_table())

    def reply() -> bytes:
        return payload_wire.payload_message(1, encode())

    prefixes: dict[str, Callable[[], object]] = {
        "Payload read (payload_wire, a view)": parse,
        "codec.read_table (DecodeBudget)": read,
        "conform columns": conform,
        "table -> pandas": to_pandas,
        "model.predict": predict,
        "(a new output frame: not counted)": model_output,
        "pandas -> table": to_table,
        "table -> IPC buffer": encode,
        "Payload written (payload_wire, one copy)": reply,
    }
    samples = measure(prefixes, repeats)
    whole = measure({"whole": lambda: dp.predict_buffer(1, parse())}, repeats)["whole"]
    print(f"\nruntime, {len(df)} row(s), in process (a step: its prefix's median minus the last)")
    print(f"  {'step':<44} {'median us':>10}")
    medians: dict[str, float] = {}
    previous = 0.0
    for label, values in samples.items():
        total = statistics.median(values)
        if label.startswith("("):
            previous = total
            continue
        medians[label] = total - previous
        print(f"  {label:<44} {total - previous:10.1f}")
        previous = total
    medians["whole"] = (
        statistics.median(whole) + medians["Payload written (payload_wire, one copy)"]
    )
    print(f"  {'as served: read + predict_buffer + write':<44} {medians['whole']:10.1f}")
    return medians


def batch_steps(dp: Dataplane, df: pd.DataFrame, repeats: int) -> dict[str, float]:
    """A PredictBatch of n such requests (the model opted in to batching), against the model's
    own call on their n rows: what the batch costs around the model."""
    config = dataclasses.replace(dp.model.config, batching=BatchingConfig(enabled=True))
    batching = Dataplane(dataclasses.replace(dp.model, config=config), dp.validation)
    payload = codec.encode_dataframe(df)
    model = dp.model.instance
    steps: dict[str, Callable[[], object]] = {}
    for n in BATCH_SIZES:
        together = pd.concat([df] * n, ignore_index=True)
        steps[f"PredictBatch of {n}"] = lambda n=n: batching.predict_batch([(1, payload)] * n)
        steps[f"model.predict of {n * len(df)} row(s)"] = lambda rows=together: model.predict(rows)
    title = f"runtime, PredictBatch of {len(df)}-row requests, in process (CPU)"
    medians = show(title, measure(steps, repeats))
    for n in BATCH_SIZES:
        around = medians[f"PredictBatch of {n}"] - medians[f"model.predict of {n * len(df)} row(s)"]
        print(f"  around the model, batch of {n}: {around:.1f} us ({around / n:.1f} per request)")
    return medians


def client_steps(df: pd.DataFrame, answer: bytes, repeats: int) -> dict[str, float]:
    arrow_ipc = encode_payload("dataframe", df)
    response = prediction_pb2.PredictResponse(payload=payload_pb2.Payload(kind=1, arrow_ipc=answer))
    wire = response.SerializeToString()

    def request() -> bytes:
        message = prediction_pb2.PredictRequest(
            model_name="breast_cancer_lr",
            payload=payload_pb2.Payload(kind=1, arrow_ipc=arrow_ipc),
            request_id="0f8e2a5c-0000-4000-8000-000000000000",
        )
        return message.SerializeToString()

    steps: dict[str, Callable[[], object]] = {
        "DataFrame -> Arrow IPC (encode_payload)": lambda: encode_payload("dataframe", df),
        "PredictRequest build + serialize": request,
        "PredictResponse parse": lambda: prediction_pb2.PredictResponse.FromString(wire),
        "Arrow IPC -> DataFrame (decode_payload)": lambda: decode_payload("dataframe", answer),
    }
    return show(f"pyml.Client.predict's own work, {len(df)} row(s)", measure(steps, repeats))


def socket_round_trip(home: Path, df: pd.DataFrame, repeats: int) -> dict[str, float]:
    """Predict on a real `pyml-runtime serve` over its Unix socket (one call at a time)."""
    folder = Path(tempfile.mkdtemp(prefix="pyml-steps-"))
    socket = folder / "model.sock"
    process = subprocess.Popen(
        [str(RUNTIME_BIN), "serve", "--home", str(home), "--socket", str(socket)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        channel = grpc.insecure_channel(f"unix:{socket}")
        stub = runtime_pb2_grpc.ModelRuntimeStub(channel)
        request = payload_pb2.Payload(kind=1, arrow_ipc=codec.encode_dataframe(df))
        deadline = time.monotonic() + 60
        while True:
            try:
                stub.Predict(request, timeout=5)
                break
            except grpc.RpcError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        steps: dict[str, Callable[[], object]] = {
            "gRPC round trip on the Unix socket": lambda: stub.Predict(request, timeout=5),
        }
        samples = measure(steps, repeats, time.perf_counter_ns)  # two processes: wall clock
        medians = show(f"runtime over its socket, {len(df)} row(s), wall clock", samples)
        channel.close()
        return medians
    finally:
        process.terminate()
        process.wait(timeout=30)
        socket.unlink(missing_ok=True)
        os.rmdir(folder)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=1)
    parser.add_argument(
        "--home", type=Path, default=HOME, help="a trained breast cancer home (`make examples`)"
    )
    args = parser.parse_args()
    print(f"pyarrow {pa.__version__}, pandas {pd.__version__}, grpcio {grpc.__version__}")
    dp = Dataplane.for_home(load_model(args.home))
    df = frame(args.home, args.rows)
    runtime = runtime_steps(dp, df, args.repeats)
    batch_steps(dp, df, args.repeats)
    answer = dp.predict_arrow(1, codec.encode_dataframe(df))
    client_steps(df, answer, args.repeats)
    trip = socket_round_trip(args.home, df, args.repeats)
    whole = runtime["whole"]
    rt = trip["gRPC round trip on the Unix socket"]
    print(f"\n  gRPC's share of the socket round trip (minus predict_arrow): {rt - whole:.1f} us")


if __name__ == "__main__":
    main()
