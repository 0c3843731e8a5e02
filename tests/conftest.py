"""Session fixtures shared by the SDK and end-to-end tests: built example homes, a gateway."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pytest

if TYPE_CHECKING:
    from pyml.version import ModelVersion

# grpcio 1.80-1.85 (grpc/grpc#43055): with gRPC channels open, a child started through
# `subprocess.Popen(preexec_fn=...)` can die before its exec, as pyspark's JVM launch does
# (seen once: every host Spark test then failed with JAVA_GATEWAY_EXITED). This session uses
# both; gRPC's fork support is not needed by any test. Set before grpc is first imported.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"
TEST_HOMES = Path(__file__).parent / "e2e" / "homes"


def _copy_home(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("validation", "*.joblib"))
    return target


@pytest.fixture(scope="session", autouse=True)
def image_namespace() -> Iterator[str]:
    """Model images of this session get their own repository prefix: parallel sessions on
    one Docker engine (developers' worktrees, CI) never untag each other's images."""
    import os

    prefix = f"pyml-test-{os.getpid()}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYML_IMAGE_PREFIX", prefix)
        yield prefix


@pytest.fixture(scope="session")
def docker_engine() -> Any:
    """The Docker client; no engine is a failure with what to do, never a skip."""
    from pyml_launcher.engine import EngineUnavailable, docker_client

    try:
        return docker_client()
    except EngineUnavailable as exc:
        pytest.fail(f"no Docker engine: run scripts/ensure_docker.sh ({exc})", pytrace=False)


@pytest.fixture(scope="session")
def base_image(docker_engine: Any) -> str:
    """PyML's debootstrap base image: built the first time (about a minute), then reused."""
    from pyml_launcher.base_image import ensure_base_image

    return ensure_base_image(progress=False)


@pytest.fixture(scope="session")
def homes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with fresh copies of the example homes, trained by their own scripts."""
    root = tmp_path_factory.mktemp("homes")
    builders = {
        "breast_cancer_lr": "train_breast_cancer.py",
        "softmax_tensor": "make_softmax_tensor.py",
    }
    for home, script in builders.items():
        target = _copy_home(EXAMPLES / home, root / home)
        subprocess.run([sys.executable, str(EXAMPLES / script), str(target)], check=True)
    faulty = _copy_home(TEST_HOMES / "faulty", root / "faulty")
    import pyml

    pyml.save_validation(faulty, pd.DataFrame({"x": np.array([1.0, 2.0, 3.0])}))
    from tests.conversion_cases import validation_frame

    typed = _copy_home(TEST_HOMES / "typed", root / "typed")
    with warnings.catch_warnings():
        # Its `dtypes` answer is one value on purpose (the dtypes the model was given).
        warnings.simplefilter("ignore", pyml.OneSidedValidation)
        pyml.save_validation(typed, validation_frame())
    return root


@pytest.fixture(scope="session")
def cancer_home(homes: Path) -> Path:
    return homes / "breast_cancer_lr"


@pytest.fixture(scope="session")
def tensor_home(homes: Path) -> Path:
    return homes / "softmax_tensor"


@pytest.fixture(scope="session")
def faulty_home(homes: Path) -> Path:
    return homes / "faulty"


@pytest.fixture(scope="session")
def typed_home(homes: Path) -> Path:
    """A model of the pandas dtypes callers cannot all express (tests.conversion_cases)."""
    return homes / "typed"


@pytest.fixture(scope="session")
def cancer_rows() -> pd.DataFrame:
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(as_frame=True).data


@pytest.fixture()
def fresh_home(tmp_path: Path, homes: Path) -> Iterator[object]:
    """A writable copy of a built home, for tests that break it on purpose."""

    def copy(name: str) -> Path:
        return Path(shutil.copytree(homes / name, tmp_path / name))

    yield copy


@pytest.fixture(scope="session")
def pyml_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """$PYML_HOME for the session: a registry nobody else sees (packaging, containers)."""
    home = tmp_path_factory.mktemp("pyml-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYML_HOME", str(home))
        yield home


@pytest.fixture(scope="session")
def packaged_cancer(pyml_home: Path, cancer_home: Path) -> Iterator[ModelVersion]:
    """The examples packaged once per session; the packaging and container suites share them."""
    from pyml.model import Model

    version = Model.from_home(cancer_home).package(progress=False)
    yield version
    _remove_image(version)


@pytest.fixture(scope="session")
def packaged_tensor(pyml_home: Path, tensor_home: Path) -> Iterator[ModelVersion]:
    from pyml.model import Model

    version = Model.from_home(tensor_home).package(progress=False)
    yield version
    _remove_image(version)


def _remove_image(version: ModelVersion) -> None:
    import docker

    tag = version.image.get("tag")
    if tag:
        docker.from_env().images.remove(tag, force=True, noprune=False)
