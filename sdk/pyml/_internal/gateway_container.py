"""Run the gateway as a container that starts model containers beside it (nested mode).

The gateway container gets:

- the Docker socket (host path ``/var/run/docker.sock`` unless told otherwise: Docker Desktop
  serves the engine's socket at that path too) at the gateway's default ``--docker-host``;
- a host folder as its work dir (bound at ``WORK_DIR``) and that folder's host path as
  ``--host-work-dir``: the engine resolves bind sources on its own host, so the socket folder
  of each model container is named by its host path, and the socket the model creates there
  is in the gateway's work dir for it to connect to;
- the registry, read-only, at ``REGISTRY_DIR``;
- a host folder for its state (the desired deployments a restarted gateway serves again) at
  ``STATE_DIR``: ``$PYML_HOME/gateway/<gateway id>`` beside the registry unless told
  otherwise, so a new gateway container with the same id restores and adopts what the last
  one served;
- the host's network, listening on 127.0.0.1 only: reachable from the host's loopback and
  from nothing else, in particular not from other containers (on a bridge of its own it
  listened on 0.0.0.0, and any container on Docker's default bridge could call its admin API
  at its bridge address); its ports are the host ports asked for (0: any free one);
- an unprivileged user (the caller's uid, or ``GATEWAY_UID`` for a root caller) with the
  Docker socket's group added, so it can use the socket without being root;
- the name ``pyml-gateway-<gateway id>`` and the label ``io.pyml.gateway-container=<id>``,
  deliberately not ``io.pyml.gateway``: the gateway removes the containers carrying its own
  id under that label, at start and at shutdown, and must not remove itself.

`stop()` is ``docker stop``: SIGTERM to the JVM (PID 1 of the container, see gateway_image),
whose shutdown hook lets the calls in flight finish within the shutdown grace, then stops and
removes the model containers (or leaves them, ``--on-stop leave``); then the gateway container
is removed. The container is created with a stop timeout of the grace plus the time the model
containers take to stop, so a plain ``docker stop`` waits as long.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from pyml._internal.gateway_process import PORT, READY_LINE, GatewayStartError
from pyml_launcher.gateway_image import (
    GATEWAY_REPOSITORY,
    PORTS,
    REGISTRY_DIR,
    STATE_DIR,
    WORK_DIR,
)

CONTAINER_LABEL = "io.pyml.gateway-container"
DOCKER_SOCKET = "/var/run/docker.sock"
DEFAULT_IMAGE = f"{GATEWAY_REPOSITORY}:latest"
# The gateway's user when the caller is root: any unprivileged uid works (it needs the work
# dir, given to it, the registry, read-only and world-readable, and the Docker socket's group).
GATEWAY_UID = 10001
LOOPBACK = "127.0.0.1"
# The gateway's default --shutdown-grace-ms, in seconds: calls in flight finish within it.
SHUTDOWN_GRACE_SECONDS = 30.0
# After the grace, the shutdown hook stops the model containers (bounded at 15 s in all) and
# closes its stores: docker stop waits this much longer before it kills the JVM.
STOP_MARGIN_SECONDS = 20


def stop_seconds(shutdown_grace: float = SHUTDOWN_GRACE_SECONDS) -> int:
    """``docker stop -t`` for a gateway with this shutdown grace: the grace, then the margin."""
    return math.ceil(shutdown_grace) + STOP_MARGIN_SECONDS


STOP_SECONDS = stop_seconds()


@dataclass
class GatewayContainer:
    """A running gateway container and its ports on the host's loopback, by protocol."""

    container: Any
    gateway_id: str
    ports: dict[str, int]
    work_dir: Path  # on the host, shared with the model containers
    owns_work_dir: bool
    final_log: str = ""  # its whole log, kept by stop() before the container is removed
    stop_seconds: int = STOP_SECONDS  # docker stop's wait before it kills the gateway

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.ports['grpc']}"

    @property
    def name(self) -> str:
        return str(self.container.name)

    def logs(self) -> str:
        return bytes(self.container.logs(stdout=True, stderr=True)).decode(errors="replace")

    def stop(self, timeout: int | None = None) -> int:
        """``docker stop`` (the gateway drains, then removes its model containers unless told
        to leave them), then remove it. `timeout`: its stop timeout unless given."""
        import docker.errors

        timeout = self.stop_seconds if timeout is None else timeout
        try:
            self.container.stop(timeout=timeout)
            code = int(self.container.wait(timeout=timeout)["StatusCode"])
            self.final_log = self.logs()
            self.container.remove(force=True)
        except docker.errors.NotFound:
            code = -1  # removed by someone else: nothing left to stop
        if self.owns_work_dir:
            shutil.rmtree(self.work_dir, ignore_errors=True)
        return code

    def __enter__(self) -> GatewayContainer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_gateway_container(
    image: str = DEFAULT_IMAGE,
    *,
    registry_dir: Path,
    gateway_id: str = "default",
    work_dir: Path | None = None,
    state_dir: Path | None = None,
    host_ports: dict[str, int] | None = None,
    docker_socket: str = DOCKER_SOCKET,
    extra_args: list[str] | None = None,
    startup_timeout: float = 60.0,
    shutdown_grace: float | None = None,
) -> GatewayContainer:
    """Start the gateway image as ``pyml-gateway-<gateway_id>``; return once it serves.

    `host_ports` maps protocols (``grpc``, ``thrift``, ``http``, ``oip``) to host ports, 0
    or missing for any free one. Without `work_dir`, a fresh temporary folder is used and
    removed by `stop()`. `state_dir` (default ``<registry_dir>/../gateway/<gateway_id>``) keeps
    the desired deployments across gateway containers. `shutdown_grace` (seconds; the
    gateway's default unless given): how long calls in flight may take once it is stopped.
    """
    from pyml_launcher.engine import docker_client

    client = docker_client()
    _check_image(client, image)
    _remove_stopped_namesake(client, f"pyml-gateway-{gateway_id}")
    registry_dir.mkdir(parents=True, exist_ok=True)
    owns = work_dir is None
    work = Path(tempfile.mkdtemp(prefix="pyml-gwc-")) if work_dir is None else work_dir
    work.mkdir(parents=True, exist_ok=True)
    wanted = host_ports or {}
    state = state_dir or registry_dir.resolve().parent / "gateway" / gateway_id
    state.mkdir(parents=True, exist_ok=True)
    uid = _gateway_uid()
    _give_work_dir(work, uid)
    _give_work_dir(state, uid)
    ports = [arg for name in PORTS for arg in (f"--{name}-port", str(wanted.get(name) or 0))]
    grace_args: list[str] = []
    if shutdown_grace is not None:
        grace_args = ["--shutdown-grace-ms", str(round(shutdown_grace * 1000))]
    waits = stop_seconds(SHUTDOWN_GRACE_SECONDS if shutdown_grace is None else shutdown_grace)
    try:
        # The low-level API: the high-level run() cannot set the container's stop timeout,
        # which makes a plain `docker stop` (no -t) wait for the drain and the model
        # containers' stop.
        created = client.api.create_container(
            image,
            [
                *("--gateway-id", gateway_id, "--host-work-dir", str(work)),
                *("--host", LOOPBACK, *ports),
                *grace_args,
                *(extra_args or []),
            ],
            name=f"pyml-gateway-{gateway_id}",
            labels={CONTAINER_LABEL: gateway_id},
            user=f"{uid}:{uid}",
            stop_timeout=waits,
            host_config=client.api.create_host_config(
                binds={
                    docker_socket: {"bind": DOCKER_SOCKET, "mode": "rw"},
                    str(work): {"bind": WORK_DIR, "mode": "rw"},
                    str(registry_dir.resolve()): {"bind": REGISTRY_DIR, "mode": "ro"},
                    str(state.resolve()): {"bind": STATE_DIR, "mode": "rw"},
                },
                network_mode="host",
                group_add=[str(os.stat(docker_socket).st_gid)],
            ),
        )
        container = client.containers.get(created["Id"])
        try:
            container.start()
        except BaseException:
            container.remove(force=True)
            raise
    except BaseException:
        if owns:
            shutil.rmtree(work, ignore_errors=True)
        raise
    gateway = GatewayContainer(container, gateway_id, {}, work, owns, stop_seconds=waits)
    try:
        # On the host's network the ports of its ready line are the host's ports.
        gateway.ports = _await_ready_line(container, startup_timeout)
    except BaseException:
        gateway.stop(timeout=5)
        raise
    return gateway


def _check_image(client: Any, image: str) -> None:
    import docker.errors

    try:
        client.api.inspect_image(image)
    except docker.errors.ImageNotFound:
        raise GatewayStartError(
            f"gateway image {image} not found: build it with `pyml images gateway` "
            "(or `make gateway-image`)"
        ) from None


def _remove_stopped_namesake(client: Any, name: str) -> None:
    """A stopped container of the same gateway id (a crashed run) is removed; a running one
    means that gateway is still up, and two gateways must never share an id."""
    import docker.errors

    try:
        existing = client.containers.get(name)
    except docker.errors.NotFound:
        return
    if existing.status == "running":
        raise GatewayStartError(
            f"container {name} is already running: stop it (`docker stop {name}`) or choose "
            "another gateway id"
        )
    existing.remove(force=True)


def _await_ready_line(container: Any, timeout: float) -> dict[str, int]:
    """The ports of the gateway's ready line (inside its container), by protocol."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = bytes(container.logs(stdout=True, stderr=False)).decode(errors="replace")
        found = READY_LINE.search(out)
        if found:
            return {name: int(number) for name, number in PORT.findall(found.group(1))}
        container.reload()
        if container.status in ("exited", "dead"):
            break
        time.sleep(0.1)
    logs = bytes(container.logs(stdout=True, stderr=True)).decode(errors="replace")
    tail = "\n".join(logs.splitlines()[-30:])
    raise GatewayStartError(
        f"gateway container {container.name} did not become ready "
        f"(status {container.status}):\n{tail}"
    )


def _gateway_uid() -> int:
    """The caller's uid, so the gateway can use the caller's folders; never root."""
    return os.getuid() or GATEWAY_UID


def _give_work_dir(work: Path, uid: int) -> None:
    """A root caller's folder is handed to the gateway's user (it writes socket folders and
    its state there)."""
    if os.getuid() == 0 and work.stat().st_uid != uid:
        os.chown(work, uid, uid)


class StopRequested(Exception):
    """SIGTERM or SIGINT reached the process that runs a gateway container in the foreground."""


class StopSignals:
    """While active, SIGTERM and SIGINT (what supervisors and Ctrl-C send) raise
    StopRequested in the main thread, instead of ending the process with the gateway
    container, and its model containers, left running; on exit the previous handlers return."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __enter__(self) -> StopSignals:
        self.previous = {sig: signal.getsignal(sig) for sig in self.SIGNALS}
        for sig in self.SIGNALS:
            signal.signal(sig, _raise_stop)
        return self

    def ignore(self) -> None:
        """From now on they are ignored: a stop under way finishes (it is bounded)."""
        for sig in self.SIGNALS:
            signal.signal(sig, signal.SIG_IGN)

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def _raise_stop(signum: int, frame: object) -> None:
    raise StopRequested(signal.Signals(signum).name)


def follow_until_stopped(gateway: GatewayContainer, out: TextIO, signals: StopSignals) -> int:
    """Copy the gateway container's log to `out` until a stop signal or the container's own
    end. On a signal, stop it as ``docker stop`` with its stop timeout does (it drains, then
    deals with its model containers) while its log goes on to its last line. Then remove it.
    Returns 0 when a signal stopped it, else the container's exit code."""
    signalled = False
    try:
        _copy_log(gateway, out)
    except StopRequested:
        signalled = True
    signals.ignore()  # a second signal must not cut the stop short: it is bounded
    if signalled:
        import docker.errors

        since = time.time()
        stopper = threading.Thread(target=_docker_stop, args=(gateway,), daemon=True)
        stopper.start()
        with contextlib.suppress(docker.errors.NotFound):  # removed by someone else
            _copy_log(gateway, out, since=since)  # ends when the container does
        stopper.join(gateway.stop_seconds + 10)
    code = gateway.stop()
    return 0 if signalled else code


def _copy_log(gateway: GatewayContainer, out: TextIO, since: float | None = None) -> None:
    for chunk in gateway.container.logs(stream=True, follow=True, since=since):
        out.write(bytes(chunk).decode(errors="replace"))
        out.flush()


def _docker_stop(gateway: GatewayContainer) -> None:
    import docker.errors

    with contextlib.suppress(docker.errors.NotFound):
        gateway.container.stop(timeout=gateway.stop_seconds)
