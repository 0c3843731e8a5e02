"""The design floor's hop (bench/peers/hop_floor.py): HopProxy.java, run by the gateway jar's
JVM, forwards any unary call's bytes to a Python gRPC server on a Unix socket and its answer
back, and ends when its standard input closes."""

from __future__ import annotations

from pathlib import Path

import grpc

from bench.peers.frames import PYML_PREDICT_PATH
from bench.peers.hop_floor import cheaper, hop_proxy
from bench.peers.python_grpc import serving_at
from pyml._internal.gateway_process import gateway_jar


def test_the_hop_proxy_forwards_any_call_to_the_unix_socket_server_and_ends_with_its_input(
    tmp_path: Path,
) -> None:
    socket = tmp_path / "runtime.sock"
    with (
        serving_at("sync", f"unix:{socket}"),
        hop_proxy(gateway_jar(), socket) as (port, pid),
        grpc.insecure_channel(f"127.0.0.1:{port}") as channel,
    ):
        assert channel.unary_unary(PYML_PREDICT_PATH)(b"\x0a\x01x" * 1000, timeout=30) == b""
        assert channel.unary_unary("/any.Service/Method")(b"", timeout=30) == b""
    assert not Path(f"/proc/{pid}").exists()  # ended and reaped


def test_the_floor_is_the_lower_p50_and_the_lower_cpu_of_the_runs_two_readings() -> None:
    start = {"p50_ms": 0.6, "cpu_ms": 0.5, "cpu_parts": {"proxy": 0.2, "server": 0.3}}
    end = {"p50_ms": 0.7, "cpu_ms": 0.4, "cpu_parts": {"proxy": 0.1, "server": 0.3}}
    floor = cheaper(start, end)
    assert (floor["p50_ms"], floor["cpu_ms"], floor["cpu_parts"]) == (0.6, 0.4, end["cpu_parts"])
    assert floor["readings"] == [start, end]
