"""The 1-row c=1 floor's servers (bench/peers/python_grpc.py): each answers any unary call with
an empty message, from a process of its own that ends with the block."""

from __future__ import annotations

import grpc
import pytest

from bench.peers.frames import PYML_PREDICT_PATH
from bench.peers.python_grpc import SERVERS, serving


@pytest.mark.parametrize("name", sorted(SERVERS))
def test_each_python_grpc_server_answers_any_call_with_an_empty_message(name: str) -> None:
    with serving(name) as port, grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        call = channel.unary_unary(PYML_PREDICT_PATH, None, None)
        assert call(b"\x0a\x01x" * 1000, timeout=30) == b""
        assert channel.unary_unary("/any.Service/Method", None, None)(b"", timeout=30) == b""
    with pytest.raises(grpc.RpcError), grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        channel.unary_unary(PYML_PREDICT_PATH, None, None)(b"", timeout=5)
