"""Build a model home's image, streaming Docker's log to the user.

`build_model_image` assembles the context (context.py), renders the Dockerfile
(dockerfile.py) and runs a classic ``docker build`` through the Engine API with ``rm`` and
``forcerm``: intermediate containers are removed whether a step succeeds or fails, and a
failed build is never tagged (a tag that appeared anyway is removed). The layers of the
steps that succeeded stay in Docker's cache, which is what makes the next build fast.

While it runs, the current step is a status line (spinner, elapsed time) and the log lines
print dimmed as they arrive; a one-line summary ends it. A failure raises `ImageBuildError`
with the stage (``home``, ``base``, ``packages``, ``runtime``, ``requirements``, ``pyml``,
``model``, ``setup``, ``validation``, ``metadata``), a message naming the file and line when
known, and the last lines of the log.

``PYML_BUILD_NETWORK`` sets the network of the RUN steps (e.g. ``host``); the engine's default
bridge otherwise.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyml_launcher._progress import StepDisplay, step_display
from pyml_launcher.context import BuildContext, assemble_context, image_tag
from pyml_launcher.dockerfile import Step, dockerfile_steps
from pyml_launcher.engine import docker_client
from pyml_launcher.errors import ImageBuildError, describe_failure

__all__ = ["BuiltImage", "ImageBuildError", "build_model_image"]

TAIL_LINES = 40
# The classic builder paints a step's stderr red; the escapes would split apt's messages.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_LAYER = re.compile(r"^ ---> ([0-9a-f]{12})$")
RUNTIME_CACHE_REPO = "pyml/runtime-cache"
# Builder bookkeeping: kept in the log, not shown, not part of a step's output.
_NOISE = re.compile(
    r"^ ---> (Running in \w+|\w{12}|Using cache)$|^Removing intermediate container|^Successfully "
)


@dataclass(frozen=True)
class BuiltImage:
    image_id: str
    tag: str
    size_bytes: int
    seconds: float
    base_image: str
    log: list[str] = field(repr=False)


def build_model_image(
    home: Path,
    *,
    name: str,
    version: int,
    content_sha256: str,
    base_image: str | None = None,
    progress: bool = True,
    no_cache: bool = False,
    allow_no_validation: bool = False,
) -> BuiltImage:
    """Build and tag ``pyml/<name>:<version>``; raises ImageBuildError when it cannot.

    ``no_cache`` runs every step afresh (benchmarks of a cold build).
    """
    started = time.monotonic()
    home = Path(home).resolve()
    tag = image_tag(name, version)
    client = docker_client()
    with tempfile.TemporaryDirectory(prefix="pyml-build-") as tmp:
        context = assemble_context(
            home,
            Path(tmp) / "context",
            name=name,
            version=version,
            content_sha256=content_sha256,
            base_image=base_image,
            allow_no_validation=allow_no_validation,
        )
        with step_display(progress) as display:
            log = _BuildLog(dockerfile_steps(context.spec), display)
            _run_build(client, context, tag, log, home, no_cache)
            _anchor_runtime_layer(client, log)
            image = client.api.inspect_image(tag)
            built = BuiltImage(
                image_id=image["Id"],
                tag=tag,
                size_bytes=int(image["Size"]),
                seconds=time.monotonic() - started,
                base_image=context.spec.base_image,
                log=log.lines,
            )
            display.note(_summary(built))
    return built


def _run_build(
    client: Any, context: BuildContext, tag: str, log: _BuildLog, home: Path, no_cache: bool
) -> None:
    import docker.errors

    before = _image_id(client, tag)
    dangling_before = _dangling(client)
    network = os.environ.get("PYML_BUILD_NETWORK", "").strip() or None
    try:
        for chunk in client.api.build(
            path=str(context.path),
            tag=tag,
            rm=True,
            forcerm=True,
            pull=False,
            nocache=no_cache,
            decode=True,
            buildargs=context.build_args,
            network_mode=network,
            timeout=None,  # a step may print nothing for minutes (compiling, downloading)
        ):
            log.feed(chunk)
    except docker.errors.APIError as exc:
        log.error = log.error or str(exc.explanation or exc)
    log.flush()
    if not log.error:
        return
    if _image_id(client, tag) not in (None, before):
        client.api.remove_image(tag, noprune=True)  # never leave a failed build tagged
    _remove_new_dangling(client, dangling_before)
    stage = log.stage
    raise ImageBuildError(
        describe_failure(stage, log.output(), log.error, home),
        stage=stage,
        log_tail="\n".join(log.lines[-TAIL_LINES:]),
    )


class _BuildLog:
    """Splits Docker's stream into lines, tracks the current step, shows them."""

    def __init__(self, steps: list[Step], display: StepDisplay) -> None:
        self.steps = steps
        self.display = display
        self.lines: list[str] = []
        self.error = ""
        self.step = 0
        self.layers: dict[int, str] = {}  # step number → the image id it produced
        self._outputs: dict[int, list[str]] = {}
        self._partial = ""

    @property
    def stage(self) -> str:
        # Before the first step (context upload, Dockerfile parse) it is Docker's failure.
        return self.steps[self.step - 1].stage if 0 < self.step <= len(self.steps) else "docker"

    def output(self) -> list[str]:
        """What the current (failing) step printed."""
        return self._outputs.get(self.step, [])

    def feed(self, chunk: dict[str, Any]) -> None:
        if "error" in chunk or "errorDetail" in chunk:
            detail = chunk.get("errorDetail") or {}
            self.error = str(chunk.get("error") or detail.get("message") or chunk)
        text = chunk.get("stream")
        if isinstance(text, str):
            *complete, self._partial = (self._partial + text).split("\n")
            for line in complete:
                self._line(_ANSI.sub("", line).rstrip("\r"))

    def flush(self) -> None:
        if self._partial:
            self._line(_ANSI.sub("", self._partial))
            self._partial = ""

    def _line(self, line: str) -> None:
        self.lines.append(line)
        step = _STEP.match(line)
        if step:
            self.step = int(step[1])
            self.display.status(f"step {step[1]}/{step[2]} ({self.stage}): {step[3][:80]}")
            self.display.line(line, style="bold")
        elif _NOISE.match(line):
            layer = _LAYER.match(line)
            if layer:
                self.layers[self.step] = layer[1]
            if line.endswith("Using cache"):
                self.display.line(line)
        elif line.strip():
            self._outputs.setdefault(self.step, []).append(line)
            self.display.line(line)


def _image_id(client: Any, tag: str) -> str | None:
    import docker.errors

    try:
        return str(client.api.inspect_image(tag)["Id"])
    except docker.errors.ImageNotFound:
        return None


def _anchor_runtime_layer(client: Any, log: _BuildLog) -> None:
    """Tag the layer holding the pinned runtime dependencies (the slow pip step).

    Untagged, it survives only while some model image sits on top of it: removing the last
    model image (or `docker image prune`) would throw away a minute of pip work. Tagged by its
    own id, it stays as Docker's cache for every later build on the same base and packages.
    """
    runtime_steps = [n for n, step in enumerate(log.steps, 1) if step.stage == "runtime"]
    layer = log.layers.get(runtime_steps[-1]) if runtime_steps else None
    if layer:
        client.api.tag(layer, RUNTIME_CACHE_REPO, tag=layer)


def _dangling(client: Any) -> set[str]:
    return {str(image["Id"]) for image in client.api.images(filters={"dangling": True})}


def _remove_new_dangling(client: Any, before: set[str]) -> None:
    """The last good step of a failed build shows up as an untagged top-level image.

    Removing it (with its untagged parents that nothing else uses) costs a failed build's
    retry some cache, but leaves the engine as it was: no `<none>` image per failed build.
    """
    import docker.errors

    for image_id in _dangling(client) - before:
        # In use by a container someone else started, or already gone: not ours to force.
        with contextlib.suppress(docker.errors.APIError):
            client.api.remove_image(image_id)


def _summary(built: BuiltImage) -> str:
    return (
        f"[green]✓[/green] {built.tag}  {built.image_id[:19]}  "
        f"{built.size_bytes / 1e6:.0f} MB  built in {built.seconds:.1f} s"
    )
