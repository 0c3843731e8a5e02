"""Image builds of model homes, PyML's base image, and running a model image locally.

    from pyml_launcher import build_model_image, run_model_container

    built = build_model_image(home, name="breast_cancer_lr", version=3, content_sha256=sha)
    with run_model_container(built.tag, Path("/tmp/sock")) as model:
        model.wait_ready(timeout=30)   # unix:/tmp/sock/model.sock answers

Modules: ``dockerfile`` (render, pure), ``context`` (assemble the build context),
``materials`` (pinned constraints, cached PyML wheel), ``docker_build`` (one streamed build,
any image), ``image`` (a model image), ``errors`` (failures in the user's terms),
``base_image`` (debootstrap + import), ``gateway_image`` (JRE + the gateway jar), ``local``
(run hardened). The ``docker`` SDK is imported only when an engine is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyml_launcher.base_image import ensure_base_image, resolve_base_image
    from pyml_launcher.dockerfile import BuildSpec, render_dockerfile
    from pyml_launcher.errors import ImageBuildError
    from pyml_launcher.image import BuiltImage, build_model_image
    from pyml_launcher.local import ModelContainer, run_model_container

__all__ = [
    "BuildSpec",
    "BuiltImage",
    "ImageBuildError",
    "ModelContainer",
    "build_model_image",
    "ensure_base_image",
    "render_dockerfile",
    "resolve_base_image",
    "run_model_container",
]

_LAZY = {
    "ensure_base_image": "pyml_launcher.base_image",
    "resolve_base_image": "pyml_launcher.base_image",
    "BuildSpec": "pyml_launcher.dockerfile",
    "render_dockerfile": "pyml_launcher.dockerfile",
    "ImageBuildError": "pyml_launcher.errors",
    "BuiltImage": "pyml_launcher.image",
    "build_model_image": "pyml_launcher.image",
    "ModelContainer": "pyml_launcher.local",
    "run_model_container": "pyml_launcher.local",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pyml_launcher' has no attribute {name!r}")
