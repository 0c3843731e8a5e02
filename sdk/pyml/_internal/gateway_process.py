"""Start and stop a gateway as a child process (`pyml gateway`, the demo, the tests).

Once it serves, the gateway prints
`pyml-gateway ready grpc_port=N thrift_port=M oip_port=K http_port=H`; we wait for that line
rather than polling a port, so ports 0 (ephemeral ports) work.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pyml_launcher import gateway_jvm

READY_LINE = re.compile(r"pyml-gateway ready (grpc_port=\d+.*)")
# Each front end's port in the ready line, as `<protocol>_port=<number>`.
PORT = re.compile(r"(\w+)_port=(\d+)")
# The checkout this SDK runs from (an editable install), if it does: tests and the demo use it.
REPO_ROOT = Path(__file__).resolve().parents[3]
# Where the Maven build leaves the jar in a checkout.
CHECKOUT_JAR = REPO_ROOT / "gateway-java" / "target" / "pyml-gateway.jar"
NO_JAR_HINT = (
    "pip install 'pyml[gateway]' (the gateway jar; it runs on Java 17+), or set "
    "PYML_GATEWAY_JAR; in a checkout, 'make gateway-jar'"
)


class GatewayStartError(RuntimeError):
    """The gateway process exited or stayed silent before serving."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint


def gateway_jar() -> Path:
    """The gateway jar: `$PYML_GATEWAY_JAR`, else the installed `pyml-gateway` distribution's
    (``pip install 'pyml[gateway]'``), else the one the Maven build leaves in a checkout."""
    given = os.environ.get("PYML_GATEWAY_JAR", "").strip()
    if given:
        if not Path(given).is_file():
            raise GatewayStartError(f"PYML_GATEWAY_JAR={given}: no such file", NO_JAR_HINT)
        return Path(given)
    for jar in (_installed_jar(), CHECKOUT_JAR):
        if jar is not None and jar.is_file():
            return jar
    raise GatewayStartError("no gateway jar is installed", NO_JAR_HINT)


JAVA_VERSION_SECONDS = 15
JAVA_HINT = (
    "apt-get install openjdk-17-jre-headless (or any JDK 17+ on PATH), or run the gateway "
    "image with Docker: pyml gateway --container"
)
# The gateway's class files are Java 17's: an older JVM stops with UnsupportedClassVersionError.
JAVA_RELEASE = 17
_JAVA_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


def java_command() -> str:
    """The `java` that runs the gateway jar, or one clear error saying how to get one."""
    java = shutil.which("java")
    if java is None:
        raise GatewayStartError(
            f"no java on PATH: the gateway jar runs on Java {JAVA_RELEASE} or newer", JAVA_HINT
        )
    release, said = java_release(java)
    if release is not None and release < JAVA_RELEASE:
        raise GatewayStartError(
            f"{java} is {said}: the gateway jar runs on Java {JAVA_RELEASE} or newer", JAVA_HINT
        )
    return java


@functools.lru_cache(maxsize=8)
def java_release(java: str) -> tuple[int | None, str]:
    """The feature release of a `java` (8 for "1.8.0_402", 17 for "17.0.15") and the first
    line of its `-version`; (None, why) when it does not say."""
    try:
        done = subprocess.run(
            [java, "-version"], capture_output=True, text=True, timeout=JAVA_VERSION_SECONDS
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"{java} does not run: {error}"
    lines = (done.stderr or done.stdout).strip().splitlines()
    first = lines[0] if lines else "java"
    found = _JAVA_VERSION.search(first)
    if found is None:
        return None, first
    major = int(found[1])
    return (int(found[2] or 0) if major == 1 else major), first


def _installed_jar() -> Path | None:
    try:
        import pyml_gateway  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    return Path(pyml_gateway.jar())


def default_runtime_command() -> str:
    """The runtime next to this Python (the same virtualenv), else `pyml-runtime` on PATH."""
    import sys

    beside = Path(sys.executable).with_name("pyml-runtime")
    return str(beside) if beside.exists() else (shutil.which("pyml-runtime") or "pyml-runtime")


@dataclass
class GatewayProcess:
    """A running gateway child process and the ports its front ends serve on."""

    process: subprocess.Popen[str]
    grpc_port: int
    output: deque[str] = field(default_factory=lambda: deque(maxlen=200))
    # Every port of the ready line by protocol: "grpc", "thrift", ...
    ports: dict[str, int] = field(default_factory=dict)

    @property
    def thrift_port(self) -> int:
        return self.ports["thrift"]

    @property
    def oip_port(self) -> int:
        return self.ports["oip"]

    @property
    def http_port(self) -> int:
        """The port of /metrics (Prometheus)."""
        return self.ports["http"]

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM (the gateway lets the calls in flight finish within its shutdown grace, 30 s
        by default, then stops its runtimes in its shutdown hook); SIGKILL after `timeout`."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        return self.process.returncode


def start_gateway(
    extra_args: list[str] | None = None,
    grpc_port: int = 0,
    runtime_command: str | None = None,
    thrift_port: int = 0,
    oip_port: int = 0,
    startup_timeout: float = 60.0,
    *,
    http_port: int = 0,
    registry_dir: Path | None = None,
    gateway_id: str | None = None,
    docker_host: str | None = None,
    home_deploy_roots: Sequence[Path] = (),
    jar: Path | None = None,
    jvm_options: Sequence[str] | None = None,
) -> GatewayProcess:
    """Start `java -jar pyml-gateway.jar` and return once it prints its ready line.

    `gateway_id` labels the containers it starts; at start it removes containers left with
    the same id, so concurrent gateways (tests, worktrees) must use different ids.
    `home_deploy_roots`: development only, the folders whose home folders `Client.deploy(home)`
    may run as local processes; none (the default): home deploys are refused.
    `jvm_options`: instead of mapping the jar's class archive when it has one (`gateway_jvm`).
    """
    jar = jar or gateway_jar()
    command = [
        java_command(),
        *gateway_jvm.JVM_OPTIONS,
        *(gateway_jvm.class_archive(jar) if jvm_options is None else jvm_options),
        "-jar",
        str(jar),
        "--grpc-port",
        str(grpc_port),
        "--http-port",
        str(http_port),
        "--thrift-port",
        str(thrift_port),
        "--oip-port",
        str(oip_port),
        "--runtime-command",
        runtime_command or default_runtime_command(),
        *(["--registry-dir", str(registry_dir)] if registry_dir is not None else []),
        *(["--gateway-id", gateway_id] if gateway_id is not None else []),
        *(["--docker-host", docker_host] if docker_host is not None else []),
        *home_deploy_args(home_deploy_roots),
        *(extra_args or []),
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
        env={**os.environ, **gateway_jvm.ENV},
    )
    return watch_gateway(process, startup_timeout)


def watch_gateway(process: subprocess.Popen[str], startup_timeout: float) -> GatewayProcess:
    """A started gateway (its output on a text pipe), once it printed its ready line."""
    output: deque[str] = deque(maxlen=200)
    ports = _wait_for_ready_line(process, output, startup_timeout)
    gateway = GatewayProcess(process, ports["grpc"], output, ports)
    # Keep draining the pipe so a chatty gateway never blocks on a full buffer.
    threading.Thread(target=_drain, args=(process, output), daemon=True).start()
    return gateway


def home_deploy_args(roots: Sequence[Path]) -> list[str]:
    """The gateway's development flag that allows home-folder deploys from `roots`."""
    if not roots:
        return []
    return ["--home-deploy-roots", ":".join(str(Path(root).resolve()) for root in roots)]


def _wait_for_ready_line(
    process: subprocess.Popen[str], output: deque[str], timeout: float
) -> dict[str, int]:
    assert process.stdout is not None
    found: list[dict[str, int]] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line.rstrip())
            match = READY_LINE.search(line)
            if match:
                ports = PORT.findall(match.group(1))
                found.append({name: int(number) for name, number in ports})
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + timeout
    while not found and reader.is_alive() and time.monotonic() < deadline:
        reader.join(0.05)
    if found:
        return found[0]
    process.kill()
    process.wait()
    last = "\n".join(output)
    raise GatewayStartError(
        f"gateway did not become ready (exit code {process.returncode}):\n{last}"
    )


def _drain(process: subprocess.Popen[str], output: deque[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        output.append(line.rstrip())
