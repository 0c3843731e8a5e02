"""`pyml-runtime serve` as a real process on a Unix socket: started, called, stopped by tests."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pyml.v1 import runtime_pb2_grpc
from tests.runtime.runtime_homes import RUNTIME_BIN

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


@dataclass
class Runtime:
    process: subprocess.Popen[str]
    socket: Path
    channel: grpc.Channel

    @property
    def stub(self) -> runtime_pb2_grpc.ModelRuntimeStub:
        return runtime_pb2_grpc.ModelRuntimeStub(self.channel)

    def health(self) -> int | None:
        """The health status, or None while nothing answers on the socket yet."""
        stub = health_pb2_grpc.HealthStub(self.channel)
        try:
            return int(stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=2).status)
        except grpc.RpcError:
            return None

    def wait_for(self, status: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"runtime exited with {self.process.returncode}: {self.stderr()}")
            if self.health() == status:
                return
            time.sleep(0.05)
        pytest.fail(f"runtime not {status} after {timeout}s")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    def stderr(self) -> str:
        """What an ended runtime wrote to its stderr pipe ("" when it writes to a file)."""
        if self.process.stderr is None or self.process.poll() is None:
            return ""
        return self.process.stderr.read()


def answers_serving(socket: Path) -> bool:
    """Whether a runtime (worker) answers SERVING on `socket` now."""
    if not socket.exists():
        return False
    with grpc.insecure_channel(f"unix:{socket}") as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=2
            )
        except grpc.RpcError:
            return False
    return bool(reply.status == SERVING)


@contextmanager
def running(
    home: Path,
    socket: Path,
    *extra: str,
    env: Mapping[str, str] | None = None,
    stderr: IO[str] | int = subprocess.PIPE,
) -> Iterator[Runtime]:
    """The runtime serving `home` on `socket`; `env` adds to (or overrides) the environment;
    `stderr` a file for a runtime that writes more than a pipe holds (gRPC's traces)."""
    command = [str(RUNTIME_BIN), "serve", "--home", str(home), "--socket", str(socket), *extra]
    environ = {**os.environ, **(env or {})}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=stderr, text=True, env=environ
    )
    channel = grpc.insecure_channel(f"unix:{socket}")
    try:
        yield Runtime(process, socket, channel)
    finally:
        channel.close()
        if process.poll() is None:
            process.kill()
            process.wait()
        for stream in (process.stdout, process.stderr):
            if stream is not None:
                stream.close()
