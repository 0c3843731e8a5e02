"""The 1-row c=1 floor's servers (bench/peers/python_grpc.py): each answers any unary call with
an empty message, from a process of its own that ends with the block."""

from __future__ import annotations

import os
from pathlib import Path

import grpc
import pytest

from bench.peers.frames import PYML_PREDICT_PATH
from bench.peers.python_grpc import SERVERS, serving, serving_at
from pyml_runtime.grpc_core import EXPERIMENTS_ENV, POLLING_LISTENER


@pytest.mark.parametrize("name", sorted(SERVERS))
def test_each_python_grpc_server_answers_any_call_with_an_empty_message(name: str) -> None:
    with serving(name) as port, grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary(PYML_PREDICT_PATH, None, None)
        assert call(b"\x0a\x01x" * 1000, timeout=30) == b""
        assert channel.unary_unary("/any.Service/Method", None, None)(b"", timeout=30) == b""
    with pytest.raises(grpc.RpcError), grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        channel.unary_unary(PYML_PREDICT_PATH, None, None)(b"", timeout=5)


def test_the_sync_server_runs_with_the_runtimes_listener_and_the_asyncio_one_with_defaults(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A floor lower than the runtime's own server: the sync server is set up as
    `pyml-runtime serve` sets itself up (pyml_runtime.grpc_core), before grpcio loads."""
    monkeypatch.delenv(EXPERIMENTS_ENV, raising=False)
    started: dict[str, str | None] = {}
    for name in SERVERS:
        with serving_at(name, "127.0.0.1:0") as (_, pid):
            started[name] = _environ(pid).get(EXPERIMENTS_ENV)
    assert started == {"sync": POLLING_LISTENER, "asyncio": None}
    assert EXPERIMENTS_ENV not in os.environ, "the bench's own environment is left as it was"


def _environ(pid: int) -> dict[str, str]:
    """The environment a process was started with."""
    entries = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    pairs = (entry.decode().partition("=") for entry in entries if entry)
    return {name: value for name, _, value in pairs}
