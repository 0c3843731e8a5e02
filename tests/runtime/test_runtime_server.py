"""`pyml-runtime serve` as a real process on a real Unix socket, called over gRPC."""

from __future__ import annotations

import os
import signal
import stat
from collections.abc import Callable
from pathlib import Path

import grpc
import numpy as np
import pytest

from pyml.v1 import payload_pb2, runtime_pb2
from pyml_runtime import codec, protocol
from tests.runtime.runtime_homes import doubler_input, scorer_input
from tests.runtime.runtime_process import NOT_SERVING, SERVING, Runtime, running

DATAFRAME = payload_pb2.PAYLOAD_KIND_DATAFRAME
TENSORS = payload_pb2.PAYLOAD_KIND_TENSORS
# As the gateway asks: speaking the runtime's own sidecar protocol.
METADATA_REQUEST = runtime_pb2.GetMetadataRequest(gateway_protocol=protocol.PROTOCOL_VERSION)


def test_serve_dataframe_model(scorer_home: Path, socket_dir: Path) -> None:
    socket = socket_dir / "model.sock"
    with running(scorer_home, socket, "--name", "scorer-live") as runtime:
        runtime.wait_for(SERVING)
        assert runtime.process.stdout is not None
        assert runtime.process.stdout.readline().strip() == (
            f"pyml-runtime serving scorer-live on {socket}"
        )
        assert stat.S_IMODE(socket.stat().st_mode) == 0o777

        meta = runtime.stub.GetMetadata(METADATA_REQUEST, timeout=10)
        assert (meta.name, meta.version, meta.kind) == ("scorer-live", "7", DATAFRAME)
        assert meta.model_class == "model.Scorer"
        assert meta.sidecar_protocol == protocol.PROTOCOL_VERSION
        assert "pyarrow" in meta.library_versions
        assert codec.schema_from_bytes(meta.output_schema).names == ["score", "label", "twice"]

        request = payload_pb2.Payload(
            kind=DATAFRAME, arrow_ipc=codec.encode_dataframe(scorer_input())
        )
        reply = runtime.stub.Predict(request, timeout=10)
        assert reply.kind == DATAFRAME
        out = codec.decode_dataframe(reply.arrow_ipc)
        assert out["label"].tolist()[:2] == ["A", "B"]

        validation = runtime.stub.GetValidationInput(runtime_pb2.GetValidationInputRequest())
        predicted = runtime.stub.Predict(validation, timeout=10)
        report = runtime.stub.CheckValidationOutput(predicted, timeout=10)
        assert (report.passed, report.rows, report.diff) == (True, 4, "")

        _assert_model_error(runtime)
        _assert_invalid_input(runtime)
        _assert_malformed_messages_are_invalid_input(runtime)
        _assert_batch_outcomes(runtime)
        assert not meta.batching.enabled  # pyml.toml does not turn batching on

        assert runtime.stop() == 0
    assert not socket.exists()


def _assert_model_error(runtime: Runtime) -> None:
    bad = scorer_input().assign(x=[-1.0, 0.0, 0.0, 0.0])
    request = payload_pb2.Payload(kind=DATAFRAME, arrow_ipc=codec.encode_dataframe(bad))
    with pytest.raises(grpc.RpcError) as caught:
        runtime.stub.Predict(request, timeout=10)
    call: grpc.Call = caught.value  # type: ignore[assignment]
    assert call.code() is grpc.StatusCode.INTERNAL
    assert call.details() == "model 'scorer-live' raised ValueError: x must be non-negative"
    trailers = dict(call.trailing_metadata() or ())
    assert trailers["pyml-error"] == "MODEL_ERROR"
    assert trailers["pyml-exception-type"] == "ValueError"


def _assert_invalid_input(runtime: Runtime) -> None:
    bad = scorer_input().drop(columns=["name"])
    request = payload_pb2.Payload(kind=DATAFRAME, arrow_ipc=codec.encode_dataframe(bad))
    with pytest.raises(grpc.RpcError) as caught:
        runtime.stub.Predict(request, timeout=10)
    call: grpc.Call = caught.value  # type: ignore[assignment]
    assert call.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "missing column 'name'" in (call.details() or "")
    trailers = dict(call.trailing_metadata() or ())
    assert trailers["pyml-error"] == "INVALID_INPUT"
    assert "pyml-exception-type" not in trailers


def _assert_malformed_messages_are_invalid_input(runtime: Runtime) -> None:
    """Predict and PredictBatch read their messages themselves (no protobuf parse): bytes that
    are no message are the caller's error, named, not an internal one."""
    cases = {
        "Predict": (b"\x12\x05ab", "malformed Payload message: field 2 says 5 bytes at byte 2"),
        "PredictBatch": (
            b"\x0a\x02\x08\x80",
            "malformed PredictBatchRequest message: payload 0: field 1's varint at byte 1 is cut",
        ),
    }
    for method, (message, what) in cases.items():
        call_raw = runtime.channel.unary_unary(f"/pyml.v1.ModelRuntime/{method}")
        with pytest.raises(grpc.RpcError) as caught:
            call_raw(message, timeout=10)
        call: grpc.Call = caught.value  # type: ignore[assignment]
        assert call.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert (call.details() or "").startswith(f"model 'scorer-live': {what}")
        assert dict(call.trailing_metadata() or ())["pyml-error"] == "INVALID_INPUT"


def _assert_batch_outcomes(runtime: Runtime) -> None:
    """PredictBatch answers each payload as Predict would: an answer, or the same error."""
    payloads = [
        scorer_input(),
        scorer_input().assign(x=[-1.0, 0.0, 0.0, 0.0]),
        scorer_input().drop(columns=["name"]),
    ]
    request = runtime_pb2.PredictBatchRequest(
        payloads=[
            payload_pb2.Payload(kind=DATAFRAME, arrow_ipc=codec.encode_dataframe(df))
            for df in payloads
        ]
    )
    good, raised, invalid = runtime.stub.PredictBatch(request, timeout=10).outcomes
    assert codec.decode_dataframe(good.payload.arrow_ipc)["label"].tolist()[:2] == ["A", "B"]
    assert (raised.error.code, raised.error.kind, raised.error.exception_type) == (
        grpc.StatusCode.INTERNAL.value[0],
        "MODEL_ERROR",
        "ValueError",
    )
    assert raised.error.message == "model 'scorer-live' raised ValueError: x must be non-negative"
    assert (invalid.error.code, invalid.error.kind) == (
        grpc.StatusCode.INVALID_ARGUMENT.value[0],
        "INVALID_INPUT",
    )
    assert "missing column 'name'" in invalid.error.message


def test_serve_tensor_model(doubler_home: Path, socket_dir: Path) -> None:
    socket = socket_dir / "t.sock"
    with running(doubler_home, socket) as runtime:
        runtime.wait_for(SERVING)
        meta = runtime.stub.GetMetadata(METADATA_REQUEST, timeout=10)
        assert (meta.name, meta.kind) == ("doubler", TENSORS)
        request = payload_pb2.Payload(kind=TENSORS, arrow_ipc=codec.encode_tensors(doubler_input()))
        out = codec.decode_tensors(runtime.stub.Predict(request, timeout=10).arrow_ipc)
        np.testing.assert_array_equal(out["doubled"], doubler_input()["x"] * 2)
        assert out["total"].shape == ()
        assert runtime.stop() == 0
    assert not socket.exists()


def test_not_serving_while_the_model_loads(
    make_home: Callable[..., Path], socket_dir: Path
) -> None:
    # __init__ waits for a file the test creates: "loading" lasts exactly as long as needed.
    source = """
        import time
        from pathlib import Path
        from pyml import DataFrameModel

        class Slow(DataFrameModel):
            def __init__(self, home):
                deadline = time.monotonic() + 60
                while not (Path(home) / "go").exists() and time.monotonic() < deadline:
                    time.sleep(0.02)

            def predict(self, df):
                return df
    """
    home = make_home("slow", **{"model.py": source})
    with running(home, socket_dir / "slow.sock") as runtime:
        runtime.wait_for(NOT_SERVING)
        with pytest.raises(grpc.RpcError) as caught:
            runtime.stub.GetMetadata(METADATA_REQUEST, timeout=10)
        call: grpc.Call = caught.value  # type: ignore[assignment]
        assert call.code() is grpc.StatusCode.UNAVAILABLE
        assert dict(call.trailing_metadata() or ())["pyml-error"] == "NOT_READY"
        (home / "go").touch()
        runtime.wait_for(SERVING)
        assert runtime.stop() == 0


def test_load_failure_exits_1_with_the_error(
    make_home: Callable[..., Path], socket_dir: Path
) -> None:
    home = make_home("broken", **{"model.py": "import not_installed_anywhere\n"})
    socket = socket_dir / "b.sock"
    with running(home, socket) as runtime:
        assert runtime.process.wait(timeout=30) == 1
        stderr = runtime.stderr()
        assert "MODEL_LOAD_ERROR" in stderr
        assert "module 'not_installed_anywhere'" in stderr
    assert not socket.exists()


def test_sigint_also_stops_and_a_stale_socket_is_replaced(
    scorer_home: Path, socket_dir: Path
) -> None:
    socket = socket_dir / "stale.sock"
    socket_dir.mkdir(parents=True)
    import socket as sockets

    stale = sockets.socket(sockets.AF_UNIX)
    stale.bind(str(socket))
    stale.close()  # the file stays behind, as after a crash
    with running(scorer_home, socket) as runtime:
        runtime.wait_for(SERVING)
        runtime.process.send_signal(signal.SIGINT)
        assert runtime.process.wait(timeout=30) == 0
    assert not os.path.exists(socket)


def test_a_live_socket_is_not_taken_over(doubler_home: Path, socket_dir: Path) -> None:
    socket = socket_dir / "busy.sock"
    with running(doubler_home, socket) as first:
        first.wait_for(SERVING)
        with running(doubler_home, socket) as second:
            assert second.process.wait(timeout=30) == 1
            assert "another process is listening" in second.stderr()
        assert first.health() == SERVING
        assert first.stop() == 0
