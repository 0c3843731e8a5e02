"""The gateway's own image: a headless JRE 17 and the shaded gateway jar, built locally.

Layers, cheapest to change last: the base image (PyML's Debian base, see base_image.py) →
``openjdk-17-jre-headless`` from Debian (the slow step, cached until the base changes) →
the gateway's in-container defaults (``ENV``) → the jar → labels and entrypoint. A new jar
rebuilds only the last, cheap layers.

In the container the gateway listens on 127.0.0.1 (it runs on the host's network, see
gateway_container: reachable from the host's loopback only, not from other containers), keeps
its work dir at ``WORK_DIR`` (a bind of a host folder, shared with the
model containers it starts beside it) and reads the registry at ``REGISTRY_DIR`` (a
read-only bind). Tags: ``pyml/gateway:<first 12 hex of the jar's sha256>`` and
``pyml/gateway:latest``; the same jar gives the same tag.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from pyml_launcher import gateway_jvm
from pyml_launcher._progress import step_display
from pyml_launcher.base_image import resolve_base_image
from pyml_launcher.context import PROXY_BUILD_ARGS
from pyml_launcher.docker_build import BuildLog, run_build
from pyml_launcher.dockerfile import Step, apt_install, render_steps
from pyml_launcher.engine import docker_client
from pyml_launcher.errors import base_unavailable
from pyml_launcher.image import BuiltImage, finish_build

GATEWAY_REPOSITORY = "pyml/gateway"
JAR = "/opt/pyml/gateway/pyml-gateway.jar"
# The gateway's class archive (see gateway_jvm), made in the image by the image's own JRE
# from its jar: the container's gateway starts in about half the time.
ARCHIVE = "/opt/pyml/gateway/pyml-gateway.jsa"
ARCHIVE_SCRIPT = Path(__file__).with_name("gateway_class_archive.sh")
WORK_DIR = "/var/lib/pyml-gateway/work"
REGISTRY_DIR = "/var/lib/pyml-gateway/registry"
# The desired deployments a restarted gateway serves again: a bind of a host folder, so they
# outlive the gateway's container.
STATE_DIR = "/var/lib/pyml-gateway/state"
# The gateway's default ports (see gateway-java/README.md), by the name of the ready line.
PORTS = {"grpc": 7070, "thrift": 7071, "http": 7080, "oip": 8001}
JRE_PACKAGE = "openjdk-17-jre-headless"
LABEL_IMAGE = "io.pyml.gateway.image"
LABEL_JAR_SHA256 = "io.pyml.gateway.jar-sha256"
# Heap sized from the container's memory limit (the JVM's default is a quarter of it); memory
# taken by a burst is given back after it (see gateway_jvm).
JAVA_OPTIONS = ("-XX:MaxRAMPercentage=75", *gateway_jvm.JVM_OPTIONS)


def gateway_dockerfile_steps(base_image: str, jar_sha256: str) -> list[Step]:
    env = {
        # On the host's network (see gateway_container): the host's loopback only.
        "PYML_GATEWAY_HOST": "127.0.0.1",
        "PYML_GATEWAY_WORK_DIR": WORK_DIR,
        "PYML_GATEWAY_REGISTRY_DIR": REGISTRY_DIR,
        "PYML_GATEWAY_STATE_DIR": STATE_DIR,
        **gateway_jvm.ENV,
    }
    labels = {LABEL_IMAGE: "1", LABEL_JAR_SHA256: jar_sha256}
    entrypoint = ["java", *JAVA_OPTIONS, *gateway_jvm.archive_options(ARCHIVE), "-jar", JAR]
    return [
        Step("base", f"FROM {base_image}"),
        Step("jre", apt_install((JRE_PACKAGE,)), "Java 17, from Debian"),
        Step("settings", "ENV " + " ".join(f"{k}={v}" for k, v in env.items())),
        Step("settings", "EXPOSE " + " ".join(str(port) for port in PORTS.values())),
        Step("jar", f"COPY pyml-gateway.jar {JAR}", "the shaded gateway jar"),
        Step("jar", f"COPY {ARCHIVE_SCRIPT.name} /opt/pyml/gateway/"),
        Step(
            "archive",
            f"RUN sh /opt/pyml/gateway/{ARCHIVE_SCRIPT.name} {JAR} {ARCHIVE}",
            "the gateway's class archive (a gateway started and stopped once)",
        ),
        Step("metadata", "LABEL " + " ".join(f"{k}={json.dumps(v)}" for k, v in labels.items())),
        # Exec form: the JVM is PID 1 and gets docker stop's signal itself (a shell form's
        # /bin/sh would get it and not pass it on); its shutdown hook drains, then stops or
        # leaves the model containers. SIGTERM is Docker's default: said here for readers.
        Step("metadata", "STOPSIGNAL SIGTERM"),
        Step("metadata", f"ENTRYPOINT {json.dumps(entrypoint)}"),
    ]


def gateway_tag(jar_sha256: str) -> str:
    return f"{GATEWAY_REPOSITORY}:{jar_sha256[:12]}"


def build_gateway_image(
    jar: Path,
    *,
    base_image: str | None = None,
    progress: bool = True,
    no_cache: bool = False,
) -> BuiltImage:
    """Build the gateway image of `jar`, tagged by the jar's hash and ``latest``."""
    started = time.monotonic()
    jar_sha256 = file_sha256(jar)
    tag = gateway_tag(jar_sha256)
    base = base_image or resolve_base_image()
    steps = gateway_dockerfile_steps(base, jar_sha256)
    client = docker_client()
    # apt inside the build honours the host's proxies like the model builds' pip steps do.
    proxies = {k: os.environ[k] for k in PROXY_BUILD_ARGS if os.environ.get(k, "").strip()}
    with tempfile.TemporaryDirectory(prefix="pyml-gateway-build-") as tmp:
        context = Path(tmp)
        (context / "Dockerfile").write_text(render_steps(steps))
        shutil.copyfile(jar, context / "pyml-gateway.jar")
        shutil.copyfile(ARCHIVE_SCRIPT, context / ARCHIVE_SCRIPT.name)
        with step_display(progress) as display:
            log = BuildLog(steps, display)
            run_build(
                client,
                context,
                tag,
                log,
                build_args=proxies,
                no_cache=no_cache,
                describe=_describe,
            )
            client.api.tag(tag, GATEWAY_REPOSITORY, tag="latest")
            return finish_build(client, tag, started, base, log)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _describe(log: BuildLog) -> str:
    shown = "\n".join(log.output()[-15:])
    if log.stage == "base":
        return base_unavailable(log.error)
    if log.stage == "jre":
        return (
            f"apt-get install {JRE_PACKAGE} failed: {log.error.strip()} (the base image's apt "
            f"sources must reach a Debian mirror; PYML_BUILD_NETWORK=host or a proxy may help)"
            f"\n{shown}"
        )
    return f"gateway image, {log.stage} step failed: {log.error.strip()}\n{shown}".rstrip()
