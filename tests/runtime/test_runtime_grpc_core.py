"""The runtime's gRPC server reads its connections on its polling thread (`grpc_core`)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import pandas as pd
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pyml.v1 import payload_pb2, runtime_pb2_grpc
from pyml_runtime import codec
from pyml_runtime.grpc_core import EXPERIMENTS_ENV, POLLING_LISTENER, use_polling_listener
from tests.runtime.runtime_homes import RUNTIME_BIN, save_validation

# Answers the gRPC experiments its process was started with, as model code sees them.
EXPERIMENTS_MODEL = """
    import os

    import pandas as pd

    from pyml import DataFrameModel


    class Experiments(DataFrameModel):
        def __init__(self, home: str) -> None:
            pass

        def predict(self, df: pd.DataFrame) -> pd.DataFrame:
            return pd.DataFrame({"experiments": [os.environ.get("GRPC_EXPERIMENTS", "")] * len(df)})
"""


@pytest.fixture
def socket_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("s") / "run"  # short: sun_path holds 107 bytes


def test_the_polling_listener_is_asked_for_unless_the_image_sets_grpcs_experiments() -> None:
    environ: dict[str, str] = {}
    use_polling_listener(environ)
    assert environ == {EXPERIMENTS_ENV: "-event_engine_listener"}
    own = {EXPERIMENTS_ENV: "event_engine_listener"}
    use_polling_listener(own)
    assert own == {EXPERIMENTS_ENV: "event_engine_listener"}, "the image's own choice is kept"


def test_each_worker_reads_its_connections_on_its_polling_thread(
    make_home: Callable[..., Path], socket_dir: Path, tmp_path: Path
) -> None:
    """gRPC core's `tcp` trace names the code that reads a connection: iomgr's `tcp_posix`
    (the polling listener) or the event engine's endpoint. The trace is the one outside sign of
    which of the two serves; grpcio is pinned (1.85.*), so its file names hold."""
    home = make_home("experiments", **{"model.py": EXPERIMENTS_MODEL})
    save_validation(home, pd.DataFrame({"x": [1.0]}))
    sockets = [socket_dir / "model.sock", socket_dir / "model-1.sock"]
    environ = {k: v for k, v in os.environ.items() if k != EXPERIMENTS_ENV}
    environ |= {"GRPC_TRACE": "tcp", "GRPC_VERBOSITY": "debug"}
    log = tmp_path / "runtime.log"  # a file: the trace would fill a pipe nobody reads
    command = [str(RUNTIME_BIN), "serve", "--home", str(home), "--socket", str(sockets[0])]
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [*command, "--workers", "2"], stdout=subprocess.DEVNULL, stderr=stderr, env=environ
        )
    try:
        request = payload_pb2.Payload(
            kind=payload_pb2.PAYLOAD_KIND_DATAFRAME,
            arrow_ipc=codec.encode_dataframe(pd.DataFrame({"x": [1.0]})),
        )
        for socket in sockets:
            with grpc.insecure_channel(f"unix:{socket}") as channel:
                _wait_serving(channel, process, log)
                reply = runtime_pb2_grpc.ModelRuntimeStub(channel).Predict(request, timeout=10)
            answer = codec.decode_dataframe(reply.arrow_ipc)["experiments"].tolist()
            assert answer == [POLLING_LISTENER], socket.name
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    trace = log.read_text()
    assert "Unknown experiment" not in trace, "this grpcio no longer knows the setting"
    assert "tcp_posix.cc" in trace, "the runtime's connections were not read by iomgr's poller"


def _wait_serving(channel: grpc.Channel, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until the worker behind `channel` answers SERVING (bounded: 30 s)."""
    health = health_pb2_grpc.HealthStub(channel)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-2000:]
        try:
            status = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2).status
            if status == health_pb2.HealthCheckResponse.SERVING:
                return
        except grpc.RpcError:
            pass
        time.sleep(0.05)
    pytest.fail("the worker is not serving after 30 s")
