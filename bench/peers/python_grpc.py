"""The least a Python gRPC server takes per call at c=1: grpcio answering every call with an
empty message (no parse, no model, nothing else), timed by h2load with the frame of PyML's
1-row cell.

Two servers, each in a process of its own: grpcio's sync server (a thread pool and the polling
listener, as PyML's runtime) and its asyncio server (as MLServer). The lower p50 of the two is
the floor: whichever way a Python process serves gRPC, a call at c=1 takes at least that,
before the model's own call.
Bounded: a warm-up run, then `calls` calls per run, `runs` runs per server, each run with a
time cap.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import grpc

from bench.peers.frames import PYML_PREDICT_PATH
from bench.peers.h2load import run_h2load
from pyml_runtime.grpc_core import EXPERIMENTS_ENV, POLLING_LISTENER

RUN_CAP_S = 60.0
WARM_UP_CALLS = 500
EMPTY_ANSWER_BYTES = 5  # the gRPC prefix of an empty message: every OK answer has this size


class _AnyMethod(grpc.GenericRpcHandler):
    """An empty answer to every unary call, its bytes neither parsed nor built."""

    def __init__(self, behavior: Callable[..., Any]) -> None:
        self._handler = grpc.unary_unary_rpc_method_handler(behavior)

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        return self._handler


def _empty(request: bytes, context: grpc.ServicerContext) -> bytes:
    return b""


async def _empty_async(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
    return b""


def _serve_sync(ready: multiprocessing.connection.Connection, address: str) -> None:
    server = grpc.server(ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers((_AnyMethod(_empty),))
    port = server.add_insecure_port(address)
    server.start()
    ready.send(port)
    ready.recv()  # until the parent says stop (or goes away)
    server.stop(None)


def _serve_async(ready: multiprocessing.connection.Connection, address: str) -> None:
    async def serve() -> None:
        server = grpc.aio.server()
        server.add_generic_rpc_handlers((_AnyMethod(_empty_async),))
        port = server.add_insecure_port(address)
        await server.start()
        ready.send(port)
        await asyncio.get_running_loop().run_in_executor(None, ready.recv)
        await server.stop(None)

    asyncio.run(serve())


SERVERS: dict[str, Callable[[multiprocessing.connection.Connection, str], None]] = {
    "sync": _serve_sync,
    "asyncio": _serve_async,
}
# Each server's environment as its owner runs it: the sync server with the listener PyML's
# runtime asks for (pyml_runtime.grpc_core), the asyncio one with grpcio's defaults (MLServer).
ENVIRONMENTS: dict[str, dict[str, str]] = {
    "sync": {EXPERIMENTS_ENV: POLLING_LISTENER},
    "asyncio": {},
}


@contextmanager
def serving(name: str) -> Iterator[int]:
    """One of SERVERS in a process of its own, for the block; yields its loopback port."""
    with serving_at(name, "127.0.0.1:0") as (port, _):
        yield port


@contextmanager
def serving_at(name: str, address: str) -> Iterator[tuple[int, int]]:
    """One of SERVERS on `address` (gRPC's form: host:port, unix:path) in a process of its own,
    for the block; yields its port (0 on a Unix socket) and its process id."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=SERVERS[name], args=(child, address), daemon=True)
    with _environment(ENVIRONMENTS[name]):  # gRPC core reads it once, as the child imports grpc
        process.start()
    try:
        if not parent.poll(30):
            raise RuntimeError(f"the {name} Python gRPC server did not start in 30 s")
        yield int(parent.recv()), int(process.pid or 0)
    finally:
        with suppress(OSError):  # a server that died early closed its end: say why, not this
            parent.send("stop")
        process.join(10)
        if process.is_alive():
            process.kill()
            process.join(10)


@contextmanager
def _environment(settings: dict[str, str]) -> Iterator[None]:
    """os.environ with `settings` for the block (a spawned child starts with it)."""
    saved = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def empty_answer_p50(frame: Path, calls: int = 1000, runs: int = 3) -> dict[str, float]:
    """Each server's lowest p50 (ms) over `runs` h2load runs of `calls` calls at c=1, and
    `"ms"`: the lower of the two, the floor."""
    figures: dict[str, float] = {}
    for name in SERVERS:
        with serving(name) as port:
            url = f"http://127.0.0.1:{port}{PYML_PREDICT_PATH}"
            run_h2load(url, frame, EMPTY_ANSWER_BYTES, WARM_UP_CALLS, 1, RUN_CAP_S)
            figures[name] = lowest_p50(url, frame, calls, runs, f"the {name} Python gRPC server")
    figures["ms"] = min(figures[name] for name in SERVERS)
    return figures


def lowest_p50(url: str, frame: Path, calls: int, runs: int, who: str) -> float:
    """The lowest p50 (ms) of `runs` h2load runs of `calls` calls at c=1, each answered empty."""
    p50s = []
    for _ in range(runs):
        result = run_h2load(url, frame, EMPTY_ANSWER_BYTES, calls, 1, RUN_CAP_S)
        if result.ok != calls:
            raise RuntimeError(f"{who} failed {result.failed} of {calls} calls")
        p50s.append(result.p50_ms)
    return min(p50s)
