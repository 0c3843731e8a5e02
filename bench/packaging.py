"""Packaging times: cold image build, rebuild after a model.py-only change, image size.

    .venv/bin/python bench/packaging.py

Builds the breast cancer example with no cache (every layer afresh, the base image excepted),
then again after touching only model.py, in the same run; prints both and their ratio.
Goal from issue 3: the code-only rebuild ≤ 15 s on this machine.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from pyml_launcher.image import BuiltImage, build_model_image

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
NAME = "bench-breast-cancer"


def build(home: Path, version: int, no_cache: bool) -> BuiltImage:
    return build_model_image(
        home, name=NAME, version=version, content_sha256="bench", progress=False, no_cache=no_cache
    )


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="pyml-bench-"))
    home = workdir / "breast_cancer_lr"
    shutil.copytree(
        EXAMPLES / "breast_cancer_lr", home, ignore=shutil.ignore_patterns("validation")
    )
    subprocess.run(
        [sys.executable, str(EXAMPLES / "train_breast_cancer.py"), str(home)], check=True
    )
    import docker

    client = docker.from_env()
    try:
        cold = build(home, 1, no_cache=True)
        model_py = home / "model.py"
        model_py.write_text(model_py.read_text() + "\n# a code-only change\n")
        warm = build(home, 2, no_cache=False)
    finally:
        for tag in (f"pyml/{NAME}:1", f"pyml/{NAME}:2"):
            if any(tag in image.tags for image in client.images.list()):
                client.images.remove(tag)
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"cold build (no cache, base image excepted): {cold.seconds:6.1f} s")
    print(f"rebuild after a model.py-only change:       {warm.seconds:6.1f} s")
    print(f"rebuild / cold:                             {warm.seconds / cold.seconds:6.2f}")
    print(f"image size:                                 {cold.size_bytes / 1e6:6.0f} MB")


if __name__ == "__main__":
    main()
