"""Run a model image on this machine the way the gateway runs it: for tests and for the
data scientist who wants the exact production container locally.

    with run_model_container("pyml/breast_cancer_lr:3", Path("/tmp/sock")) as model:
        model.wait_ready(timeout=30)
        channel = grpc.insecure_channel(f"unix:{model.socket_path}")

The container has no network, a read-only root filesystem with a tmpfs ``/tmp``, all
capabilities dropped, ``no-new-privileges``, uid 65534, memory/CPU/pids limits, and the label
``io.pyml.launcher=1``, and a size-capped log: all of it from ``container_policy.json``,
the file the gateway reads too. The runtime listens on
``/run/pyml/model.sock`` inside, which is ``socket_dir/model.sock`` here: the folder is
writable for uid 65534 only until the socket exists, then read-only (the runtime loads the
model only after that, so model code can never write to this host folder).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import grpc

from pyml_launcher.container_policy import default_runtime_limits, hardened_run_options
from pyml_launcher.dockerfile import SOCKET_DIR, SOCKET_LOCK_SECONDS, SOCKET_PATH
from pyml_launcher.engine import docker_client

LAUNCHER_LABEL = "io.pyml.launcher"
SOCKET_DIR_OPEN = 0o733
SOCKET_DIR_LOCKED = 0o711
MAX_SOCKET_PATH = 107  # sockaddr_un.sun_path, without its NUL
LOG_TAIL = 30


class ModelContainerError(RuntimeError):
    """The model container exited or never became ready; the message has its last log lines."""


class ModelContainer:
    """A running model container: its socket, readiness, logs; `stop()` removes it."""

    def __init__(self, container: Any, socket_path: Path) -> None:
        self.container = container
        self.socket_path = socket_path

    @property
    def id(self) -> str:
        return str(self.container.id)

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Return once the socket answers grpc.health.v1 with SERVING."""
        deadline = time.monotonic() + timeout
        while True:
            self.container.reload()
            if self.container.status in ("exited", "dead"):
                code = self.container.attrs.get("State", {}).get("ExitCode")
                raise ModelContainerError(
                    f"model container exited with code {code}:\n{self._tail()}"
                )
            if self.socket_path.exists() and _serving(self.socket_path):
                return
            if time.monotonic() > deadline:
                raise ModelContainerError(
                    f"model container not ready after {timeout:.0f} s:\n{self._tail()}"
                )
            time.sleep(0.1)

    def logs(self) -> str:
        return bytes(self.container.logs(stdout=True, stderr=True)).decode(errors="replace")

    def stop(self, timeout: int = 5) -> None:
        """Stop (SIGTERM, then SIGKILL after `timeout` s) and remove the container."""
        import docker.errors

        try:
            self.container.stop(timeout=timeout)
            self.container.remove(force=True)
        except docker.errors.NotFound:
            pass
        # The runtime cannot remove its socket from the locked folder: its launcher does.
        self.socket_path.unlink(missing_ok=True)

    def __enter__(self) -> ModelContainer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _tail(self) -> str:
        return "\n".join(self.logs().splitlines()[-LOG_TAIL:])


def run_model_container(
    image: str,
    socket_dir: Path,
    *,
    name: str | None = None,
    memory: str | int | None = None,
    pids: int | None = None,
    cpus: float = 1.0,
    labels: dict[str, str] | None = None,
) -> ModelContainer:
    """Start `image` hardened, with `socket_dir` mounted at /run/pyml (see module docs).

    `labels` are added to ``io.pyml.launcher=1`` (tests tag their containers to clean up).
    `memory` and `pids` default to the gateway's (container_policy.json); one CPU, one worker.
    """
    default_memory, default_pids = default_runtime_limits()
    memory = default_memory if memory is None else memory
    pids = default_pids if pids is None else pids
    socket_dir = Path(socket_dir).absolute()
    socket_path = socket_dir / Path(SOCKET_PATH).name
    if len(str(socket_path).encode()) > MAX_SOCKET_PATH:
        raise ModelContainerError(
            f"socket path too long ({MAX_SOCKET_PATH} bytes at most): {socket_path}"
        )
    socket_dir.mkdir(parents=True, exist_ok=True)
    # The runtime runs as uid 65534 and creates its socket here (write and search, no listing).
    socket_dir.chmod(SOCKET_DIR_OPEN)
    container = docker_client().containers.run(
        image,
        detach=True,
        name=name,
        **hardened_run_options("runtime"),  # user, network, root, /tmp, capabilities, log
        mem_limit=memory,
        memswap_limit=memory,  # no swap: the limit is the limit
        nano_cpus=int(cpus * 1e9),
        pids_limit=pids,
        volumes={str(socket_dir): {"bind": SOCKET_DIR, "mode": "rw"}},
        labels={**(labels or {}), LAUNCHER_LABEL: "1"},
    )
    threading.Thread(target=_lock_when_bound, args=(socket_path,), daemon=True).start()
    return ModelContainer(container, socket_path)


def _lock_when_bound(socket_path: Path) -> None:
    """Makes the socket folder read-only for the runtime once its socket exists (bounded)."""
    deadline = time.monotonic() + SOCKET_LOCK_SECONDS + 30
    while time.monotonic() < deadline and socket_path.parent.is_dir():
        if socket_path.exists():
            socket_path.parent.chmod(SOCKET_DIR_LOCKED)
            return
        time.sleep(0.02)


def _serving(socket_path: Path) -> bool:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(f"unix:{socket_path}") as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=1.0
            )
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)
