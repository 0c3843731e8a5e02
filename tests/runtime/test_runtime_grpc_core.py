"""The runtime's gRPC server reads its connections on its polling thread (`grpc_core`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import grpc
import pandas as pd
import pytest

from pyml.v1 import payload_pb2, runtime_pb2_grpc
from pyml_runtime import codec
from pyml_runtime.grpc_core import EXPERIMENTS_ENV, POLLING_LISTENER, use_polling_listener
from tests.runtime.runtime_homes import save_validation
from tests.runtime.runtime_process import answers_serving, running

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


def test_the_polling_listener_is_asked_for_unless_the_image_sets_grpcs_experiments() -> None:
    environ: dict[str, str] = {}
    use_polling_listener(environ)
    assert environ == {EXPERIMENTS_ENV: "-event_engine_listener"}
    own = {EXPERIMENTS_ENV: "event_engine_listener"}
    use_polling_listener(own)
    assert own == {EXPERIMENTS_ENV: "event_engine_listener"}, "the image's own choice is kept"


def test_each_worker_reads_its_connections_on_its_polling_thread(
    make_home: Callable[..., Path],
    socket_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """gRPC core's `tcp` trace names the code that reads a connection: iomgr's `tcp_posix`
    (the polling listener) or the event engine's endpoint. The trace is the one outside sign of
    which of the two serves; grpcio is pinned (1.85.*), so its file names hold."""
    home = make_home("experiments", **{"model.py": EXPERIMENTS_MODEL})
    save_validation(home, pd.DataFrame({"x": [1.0]}))
    sockets = [socket_dir / "model.sock", socket_dir / "model-1.sock"]
    monkeypatch.delenv(EXPERIMENTS_ENV, raising=False)
    trace_env = {"GRPC_TRACE": "tcp", "GRPC_VERBOSITY": "debug"}
    log = tmp_path / "runtime.log"  # a file: the trace would fill a pipe nobody reads
    request = payload_pb2.Payload(
        kind=payload_pb2.PAYLOAD_KIND_DATAFRAME,
        arrow_ipc=codec.encode_dataframe(pd.DataFrame({"x": [1.0]})),
    )
    with (
        log.open("w") as stderr,
        running(home, sockets[0], "--workers", "2", env=trace_env, stderr=stderr) as runtime,
    ):
        deadline = time.monotonic() + 30
        while not all(answers_serving(s) for s in sockets):
            assert runtime.process.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "not every worker serves after 30 s"
            time.sleep(0.05)
        for socket in sockets:
            with grpc.insecure_channel(f"unix:{socket}") as channel:
                reply = runtime_pb2_grpc.ModelRuntimeStub(channel).Predict(request, timeout=10)
            answer = codec.decode_dataframe(reply.arrow_ipc)["experiments"].tolist()
            assert answer == [POLLING_LISTENER], socket.name
        assert runtime.stop() == 0
    trace = log.read_text()
    assert "Unknown experiment" not in trace, "this grpcio no longer knows the setting"
    assert "tcp_posix.cc" in trace, "the runtime's connections were not read by iomgr's poller"
