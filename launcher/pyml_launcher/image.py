"""Build a model home's image, streaming Docker's log to the user.

`build_model_image` assembles the context (context.py), renders the Dockerfile
(dockerfile.py) and runs it with `docker_build.run_build` (status line, streamed log, a
failed build never left tagged). The layers of the steps that succeeded stay in Docker's
cache, which is what makes the next build fast; a one-line summary ends it. A failure raises
`ImageBuildError` with the stage (``home``, ``base``, ``packages``, ``runtime``,
``requirements``, ``pyml``, ``model``, ``setup``, ``validation``, ``metadata``), a message
naming the file and line when known, and the last lines of the log.
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyml_launcher._progress import step_display
from pyml_launcher.context import assemble_context, image_tag
from pyml_launcher.docker_build import BuildLog, run_build
from pyml_launcher.dockerfile import dockerfile_steps
from pyml_launcher.engine import docker_client
from pyml_launcher.errors import ImageBuildError, describe_failure

__all__ = ["BuiltImage", "ImageBuildError", "build_model_image"]

RUNTIME_CACHE_REPO = "pyml/runtime-cache"


@dataclass(frozen=True)
class BuiltImage:
    image_id: str
    tag: str
    size_bytes: int
    seconds: float
    base_image: str
    log: list[str] = field(repr=False)
    requirements: dict[str, str] = field(default_factory=dict)  # the model's, as pinned


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
            log = BuildLog(dockerfile_steps(context.spec), display)
            run_build(
                client,
                context.path,
                tag,
                log,
                build_args=context.build_args,
                no_cache=no_cache,
                describe=lambda log: describe_failure(log.stage, log.output(), log.error, home),
            )
            _anchor_runtime_layer(client, log)
            built = finish_build(client, tag, started, context.spec.base_image, log)
            return dataclasses.replace(built, requirements=context.requirements)


def finish_build(
    client: Any, tag: str, started: float, base_image: str, log: BuildLog
) -> BuiltImage:
    """The image a successful build tagged `tag`, its one-line summary shown."""
    image = client.api.inspect_image(tag)
    built = BuiltImage(
        image_id=image["Id"],
        tag=tag,
        size_bytes=int(image["Size"]),
        seconds=time.monotonic() - started,
        base_image=base_image,
        log=log.lines,
    )
    log.display.note(_summary(built))
    return built


def _anchor_runtime_layer(client: Any, log: BuildLog) -> None:
    """Tag the layer holding the pinned runtime dependencies (the slow pip step).

    Untagged, it survives only while some model image sits on top of it: removing the last
    model image (or `docker image prune`) would throw away a minute of pip work. Tagged by its
    own id, it stays as Docker's cache for every later build on the same base and packages.
    """
    runtime_steps = [n for n, step in enumerate(log.steps, 1) if step.stage == "runtime"]
    layer = log.layers.get(runtime_steps[-1]) if runtime_steps else None
    if layer:
        client.api.tag(layer, RUNTIME_CACHE_REPO, tag=layer)


def _summary(built: BuiltImage) -> str:
    return (
        f"[green]✓[/green] {built.tag}  {built.image_id[:19]}  "
        f"{built.size_bytes / 1e6:.0f} MB  built in {built.seconds:.1f} s"
    )
