"""The sidecar process: serves one model home on a Unix domain socket.

Order of events, which the gateway relies on:
1. the socket is bound and the standard health service answers NOT_SERVING;
1b. with `socket_lock_seconds` (model containers: the image's entrypoint), the runtime waits
   until its socket folder is no longer writable for it: the launcher makes it read-only once
   the socket exists, so model code never runs while it could write to that folder, a host
   bind mount (if that does not happen in time, the runtime refuses to load the model);
2. the model loads (ModelRuntime calls meanwhile fail with UNAVAILABLE / NOT_READY);
3. health turns SERVING and one line goes to stdout: ``pyml-runtime serving <name> on <socket>``;
4. SIGTERM or SIGINT: health NOT_SERVING, in-flight calls get 5 s to finish, the socket file is
   removed, `serve` returns.
If loading fails, the server is stopped, the socket removed and the PymlError raised.
With several runtime workers (`pyml_runtime.workers`) each worker is such a runtime, on a
socket of its own.

Health and metadata always find a thread: at most `max_concurrent_predicts` (default WORKERS - 2)
of the WORKERS threads run Predict and the validation calls; one more is answered
RESOURCE_EXHAUSTED at once instead of waiting in the pool's queue.

Settings (environment, read once by `serve`):
    PYML_RUNTIME_MAX_CONCURRENT_PREDICTS   calls in flight, 1 to WORKERS - 1 (default 6)
    PYML_RUNTIME_MAX_COLUMNS, _MAX_DEPTH, _MAX_BATCHES, _MAX_ROWS, _MAX_VALUES,
    _MAX_DECODED_BYTES, _MIN_DECODED_BYTES, _DECODED_BYTES_PER_BYTE
                                           the decoder budgets (`ipc_budget.DecodeBudget`)
"""

from __future__ import annotations

import os
import socket
import stat
import sys
import threading
import time
from collections.abc import Mapping
from concurrent import futures
from contextlib import suppress
from pathlib import Path

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from pyml_runtime.config import load_config
from pyml_runtime.dataplane import Dataplane
from pyml_runtime.errors import PymlError, load_error
from pyml_runtime.ipc_budget import MAX_MESSAGE_BYTES, DecodeBudget
from pyml_runtime.loader import load_model
from pyml_runtime.memory import return_freed_memory
from pyml_runtime.servicer import (
    DEFAULT_MAX_CONCURRENT_PREDICTS,
    MAX_CONCURRENT_PREDICTS_ENV,
    ModelRuntimeServicer,
    add_to_server,
)
from pyml_runtime.settings import positive_int_setting
from pyml_runtime.workers import signals_set

GRACE_SECONDS = 5.0
# Threads left for health checks and metadata whatever the predictions do.
RESERVED_WORKERS = 2
WORKERS = DEFAULT_MAX_CONCURRENT_PREDICTS + RESERVED_WORKERS
SERVICE_NAME = "pyml.v1.ModelRuntime"
# sockaddr_un.sun_path is 108 bytes with the terminating NUL.
MAX_SOCKET_PATH = 107


class _Slot:
    """The dataplane, once loaded; read by the servicer's threads."""

    def __init__(self) -> None:
        self.dataplane: Dataplane | None = None

    def get(self) -> Dataplane | None:
        return self.dataplane


def serve(
    home: Path,
    socket_path: Path,
    name: str | None = None,
    *,
    stop: threading.Event | None = None,
    socket_lock_seconds: float = 0.0,
    worker: int | None = None,
) -> None:
    """Serve the model in `home` on `unix:<socket_path>` until SIGTERM/SIGINT (or `stop`).

    `socket_lock_seconds` > 0: before loading the model, wait (at most that long) until the
    socket's folder is no longer writable by this process."""
    return_freed_memory()  # before the model and any call allocate
    home = Path(home).resolve()
    socket_path = Path(socket_path).absolute()
    display_name = name or load_config(home).name or home.name
    budget, max_predicts = _settings(os.environ)
    stop = stop if stop is not None else threading.Event()
    slot = _Slot()
    health_servicer = health.HealthServicer()
    _set_health(health_servicer, health_pb2.HealthCheckResponse.NOT_SERVING)
    runtime = ModelRuntimeServicer(slot.get, display_name, max_predicts)
    server = _make_server(health_servicer, runtime)
    with signals_set(stop):
        _bind(server, socket_path)
        try:
            if socket_lock_seconds > 0:
                _await_locked(socket_path.parent, socket_lock_seconds, stop)
            slot.dataplane = _load(home, name, budget)
            _set_health(health_servicer, health_pb2.HealthCheckResponse.SERVING)
            announce_serving(display_name, socket_path, worker)
            stop.wait()
            # Every service NOT_SERVING from now on, so the gateway stops routing here.
            health_servicer.enter_graceful_shutdown()
        finally:
            server.stop(GRACE_SECONDS).wait()
            _remove_socket(socket_path)


def announce_serving(name: str, socket_path: Path, worker: int | None) -> None:
    """The serving line, in one write: the workers of a runtime share its stdout, and print()
    writes a text and its newline apart, which unbuffered (PYTHONUNBUFFERED) reach the pipe
    apart: two workers' lines came out as one line and an empty one."""
    who = "" if worker is None else f" (worker {worker}, pid {os.getpid()})"
    sys.stdout.write(f"pyml-runtime serving {name} on {socket_path}{who}\n")
    sys.stdout.flush()


def _await_locked(folder: Path, within: float, stop: threading.Event) -> None:
    """Returns once `folder` is not writable for this process; a load error after `within` s."""
    deadline = time.monotonic() + within
    while os.access(folder, os.W_OK):
        if time.monotonic() > deadline or stop.is_set():
            raise load_error(
                f"the socket folder {folder} is still writable after {within:g} s: the "
                "launcher must make it read-only once the socket exists (the model is not "
                "loaded while its container could write to a host folder)"
            )
        time.sleep(0.02)


def _remove_socket(socket_path: Path) -> None:
    # A locked socket folder keeps its socket: the launcher removes the folder.
    with suppress(PermissionError):
        socket_path.unlink(missing_ok=True)


def _settings(environ: Mapping[str, str]) -> tuple[DecodeBudget, int]:
    """The decoder budget and the predictions allowed in flight, from PYML_RUNTIME_*."""
    most = WORKERS - 1
    try:
        budget = DecodeBudget.from_env(environ)
        max_predicts = positive_int_setting(environ, MAX_CONCURRENT_PREDICTS_ENV)
    except ValueError as exc:
        raise load_error(f"invalid runtime setting: {exc}") from None
    if max_predicts is None:
        return budget, DEFAULT_MAX_CONCURRENT_PREDICTS
    if max_predicts > most:
        text = environ[MAX_CONCURRENT_PREDICTS_ENV].strip()
        raise load_error(
            f"invalid runtime setting: {MAX_CONCURRENT_PREDICTS_ENV}={text!r} "
            f"(expected: 1 to {most}, so that health checks always find a thread)"
        )
    return budget, max_predicts


def _load(home: Path, name: str | None, budget: DecodeBudget) -> Dataplane:
    model = load_model(home, name)
    return Dataplane.for_home(model, budget=budget)


def _make_server(
    health_servicer: health.HealthServicer, runtime: ModelRuntimeServicer
) -> grpc.Server:
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="pyml-rpc"),
        options=[
            ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
            ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
        ],
    )
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    add_to_server(runtime, server)
    return server


def _set_health(servicer: health.HealthServicer, status: int) -> None:
    for service in ("", SERVICE_NAME):
        servicer.set(service, status)


def _bind(server: grpc.Server, socket_path: Path) -> None:
    if len(str(socket_path).encode()) > MAX_SOCKET_PATH:
        raise load_error(f"socket path too long ({MAX_SOCKET_PATH} bytes at most): {socket_path}")
    try:
        socket_path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_socket(socket_path)
    except OSError as exc:
        raise load_error(f"cannot create {socket_path}: {exc}") from exc
    # umask 0 while the socket file is created: the gateway may run as another user.
    previous = os.umask(0)
    try:
        server.add_insecure_port(f"unix:{socket_path}")
        server.start()
        socket_path.chmod(0o777)
    except (RuntimeError, OSError) as exc:
        server.stop(None)
        raise load_error(f"cannot listen on unix:{socket_path}: {exc}") from exc
    finally:
        os.umask(previous)


def _remove_stale_socket(socket_path: Path) -> None:
    # A socket left by a killed runtime would make bind fail; anything else is not ours.
    if not socket_path.exists() and not socket_path.is_symlink():
        return
    if not stat.S_ISSOCK(socket_path.lstat().st_mode):
        raise load_error(f"{socket_path} exists and is not a socket")
    if _accepts_connections(socket_path):
        raise load_error(f"{socket_path}: another process is listening on it")
    socket_path.unlink()


def _accepts_connections(socket_path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(socket_path))
        except OSError:
            return False
    return True


def report_load_failure(error: PymlError) -> None:
    print(f"pyml-runtime: {error.kind.name}: {error.message}", file=sys.stderr, flush=True)
