"""One classic ``docker build`` through the Engine API, its log streamed to the user.

Shared by every image PyML builds (model images, the gateway image): the step being run is a
status line (spinner, elapsed time), the log lines print dimmed as they arrive. The build runs
with ``rm`` and ``forcerm`` (intermediate containers are removed whether a step succeeds or
fails); a failed build is never left tagged, and the untagged image of its last good step is
removed, so the engine looks as it did (the layers of the good steps stay in Docker's cache
under the images that still use them).

``PYML_BUILD_NETWORK`` sets the network of the RUN steps (e.g. ``host``); the engine's default
bridge otherwise.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pyml_launcher._progress import StepDisplay
from pyml_launcher.dockerfile import Step
from pyml_launcher.errors import ImageBuildError

TAIL_LINES = 40
# The classic builder paints a step's stderr red; the escapes would split apt's messages.
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_LAYER = re.compile(r"^ ---> ([0-9a-f]{12})$")
# Builder bookkeeping: kept in the log, not shown, not part of a step's output.
_NOISE = re.compile(
    r"^ ---> (Running in \w+|\w{12}|Using cache)$|^Removing intermediate container|^Successfully "
)


class BuildLog:
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


def run_build(
    client: Any,
    context: Path,
    tag: str,
    log: BuildLog,
    *,
    build_args: dict[str, str],
    no_cache: bool,
    describe: Callable[[BuildLog], str],
) -> None:
    """Build `context` as `tag`; on failure raise ImageBuildError with `describe(log)`."""
    import docker.errors

    before = image_id(client, tag)
    dangling_before = _dangling(client)
    network = os.environ.get("PYML_BUILD_NETWORK", "").strip() or None
    try:
        for chunk in client.api.build(
            path=str(context),
            tag=tag,
            rm=True,
            forcerm=True,
            pull=False,
            nocache=no_cache,
            decode=True,
            buildargs=build_args,
            network_mode=network,
            timeout=None,  # a step may print nothing for minutes (compiling, downloading)
        ):
            log.feed(chunk)
    except docker.errors.APIError as exc:
        log.error = log.error or str(exc.explanation or exc)
    log.flush()
    if not log.error:
        return
    if image_id(client, tag) not in (None, before):
        client.api.remove_image(tag, noprune=True)  # never leave a failed build tagged
    _remove_new_dangling(client, dangling_before)
    raise ImageBuildError(
        describe(log), stage=log.stage, log_tail="\n".join(log.lines[-TAIL_LINES:])
    )


def image_id(client: Any, tag: str) -> str | None:
    import docker.errors

    try:
        return str(client.api.inspect_image(tag)["Id"])
    except docker.errors.ImageNotFound:
        return None


def _dangling(client: Any) -> set[str]:
    return {str(image["Id"]) for image in client.api.images(filters={"dangling": True})}


def _remove_new_dangling(client: Any, before: set[str]) -> None:
    """The last good step of a failed build shows up as an untagged top-level image.

    Removing it (with its untagged parents that nothing else uses) costs a failed build's
    retry some cache, but leaves the engine as it was: no `<none>` image per failed build.
    """
    import docker.errors

    for found in _dangling(client) - before:
        # In use by a container someone else started, or already gone: not ours to force.
        with contextlib.suppress(docker.errors.APIError):
            client.api.remove_image(found)
