"""`pyml.ModelVersion`: one immutable registered version of a model, and its image.

`Model.package()` makes one (register → build the image → validate inside it);
`Model.from_registry(name, version)` finds one that somebody packaged.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyml._internal.registry_manifest import batching_summary
from pyml.registry import Registry, VersionRecord

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pyml.client import DeploymentInfo, Resources
    from pyml_launcher.image import BuiltImage
    from pyml_offline.progress import JobSummary
    from pyml_offline.spec import WriteMode


class PackagingFailed(RuntimeError):
    """The version's image did not build or did not reproduce the validation data."""

    def __init__(self, record: VersionRecord, message: str, log_tail: str = "") -> None:
        details = f"\n--- last build lines ---\n{log_tail}" if log_tail else ""
        super().__init__(f"packaging {record.ref} failed: {message}{details}")
        self.record = record


@dataclass(frozen=True)
class ModelVersion:
    """A registered version: `name`, `version`, its manifest and its image."""

    record: VersionRecord
    registry: Registry

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def version(self) -> int:
        return self.record.version

    @property
    def ref(self) -> str:
        return self.record.ref

    @property
    def image(self) -> dict[str, Any]:
        return dict(self.record.image or {})

    def __repr__(self) -> str:
        tag = self.image.get("tag", "no image")
        return f"ModelVersion({self.ref}, {self.record.status}, {tag})"

    def deploy(
        self,
        gateway: str = "localhost:7070",
        replicas: int = 1,
        resources: Resources | Mapping[str, object] | None = None,
        *,
        timeout: float = 180.0,
        progress: bool = True,
    ) -> DeploymentInfo:
        """Serve this version's image on `gateway`; returns once READY.

        Raises `DeploymentFailed` with the reason and the runtime's last log lines, or
        `RemoteError` when the gateway refuses (unknown or tampered version, Docker down).
        The gateway must read the same registry (`--registry-dir`, default
        `$PYML_HOME/registry`)."""
        from rich.console import Console

        from pyml.client import Client

        console = Console(stderr=True)
        with Client(gateway) as client:
            if not progress:
                return client.deploy(self, replicas=replicas, resources=resources, timeout=timeout)
            with console.status(f"deploying {self.ref} to {gateway}…") as status:

                def show(info: DeploymentInfo) -> None:
                    status.update(
                        f"deploying {self.ref} to {gateway}: {info.state} "
                        f"({info.ready_replicas}/{info.replicas} replicas ready)"
                    )

                info = client.deploy(
                    self, replicas=replicas, resources=resources, timeout=timeout, progress=show
                )
            console.print(f"[green]✓ {self.ref}[/green] is READY on {gateway}")
            return info

    def download(self, dest: str | Path) -> Path:
        """The exact home folder of this version (integrity-checked) in `dest`."""
        return self.registry.download(self.ref, Path(dest))

    def predict_offline(
        self,
        query: str,
        dest_table: str,
        *,
        key_columns: tuple[str, ...] | list[str] = (),
        mode: WriteMode = "error",
        progress: bool = True,
    ) -> JobSummary:
        """Spark batch predictions in this version's own image: `query`'s rows through the
        model into the Hive table `dest_table` ("db.table"), written atomically.

        `key_columns` are copied next to the predictions; `mode` is "error" (the default:
        refuse an existing table), "overwrite" or "append". The embedded warehouse and
        metastore live in $PYML_HOME/warehouse (open them with `pyml_offline.open_warehouse`).
        """
        from pyml_offline.runner import run_offline

        record = self.registry.verify(self.ref)  # a tampered archive is refused here too
        return run_offline(
            record,
            query=query,
            dest_table=dest_table,
            key_columns=tuple(key_columns),
            mode=mode,
            progress=progress,
        )


def package_home(
    home: Path,
    name: str,
    *,
    registry: Registry | None = None,
    base_image: str | None = None,
    allow_no_validation: bool = False,
    progress: bool = True,
) -> ModelVersion:
    """Register the home as a new version, build its image from the stored archive, mark it.

    The image is built from the registered bytes (not the live folder), so what was
    validated at build is exactly what a later download or deploy gets.
    """
    from pyml_launcher.image import ImageBuildError, build_model_image

    registry = registry or Registry.default()
    record = registry.create_version(name, home, allow_no_validation=allow_no_validation)
    with tempfile.TemporaryDirectory(prefix="pyml-package-") as scratch:
        try:
            source = registry.download(record.ref, Path(scratch) / "home")
            built = build_model_image(
                source,
                name=record.name,
                version=record.version,
                content_sha256=record.archive_sha256,
                base_image=base_image,
                progress=progress,
                allow_no_validation=allow_no_validation,
            )
            validated = _validated(built, batching_summary(source, record.kind))
        except ImageBuildError as error:
            registry.mark_failed(record.ref, str(error), error.log_tail)
            raise PackagingFailed(record, str(error), error.log_tail) from None
        except BaseException as error:  # interrupted or a PyML bug: never half-registered
            registry.mark_failed(record.ref, f"{type(error).__name__}: {error}", "")
            raise
    ready = registry.mark_ready(record.ref, image=_image_info(built), validation=validated)
    return ModelVersion(ready, registry)


def _image_info(built: BuiltImage) -> dict[str, Any]:
    return {
        "id": built.image_id,
        "digest": built.image_id,  # no registry to push to: the content-addressed image id
        "tag": built.tag,
        "size_bytes": built.size_bytes,
        "base_image": built.base_image,
        "build_seconds": round(built.seconds, 1),
        # The model's own requirements as the image installed them (pinned to the versions
        # of the environment that packaged it).
        "requirements": dict(built.requirements),
    }


def _validated(built: BuiltImage, batching: dict[str, Any]) -> dict[str, Any]:
    return {
        "passed": True,
        "where": "image build",
        "image_id": built.image_id,
        "batching": batching,
    }
