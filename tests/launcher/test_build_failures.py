"""Builds that must fail: the message names the file and line, nothing is left behind.

Every broken home is a copy of an example with the example's requirements, so the pip layers
come from the cache of the session's example builds and each failure costs seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from pyml_launcher.context import image_tag
from pyml_launcher.image import BuiltImage, ImageBuildError
from pyml_launcher.local import LAUNCHER_LABEL
from pyml_offline.runner import OFFLINE_LABEL

Build = Callable[..., BuiltImage]
# The labels of the containers PyML runs (not builds): gateway, local launcher, offline job.
RUN_LABELS = {"io.pyml.gateway", LAUNCHER_LABEL, OFFLINE_LABEL}


@pytest.fixture()
def leaves_nothing(docker_engine: Any) -> Iterator[Callable[[str], None]]:
    """check(tag): no image under `tag`, no container and no dangling image the build created."""

    # Ids straight from the list calls: the docker SDK's high-level lists inspect each item
    # afterwards and fail when another session removes one in between. Containers that PyML
    # runs (a gateway's, the local launcher's, an offline job's) carry a label saying so: other
    # work on the same engine runs those meanwhile; a build's own containers carry none.
    def containers() -> set[str]:
        return {
            c["Id"]
            for c in docker_engine.api.containers(all=True)
            if not RUN_LABELS & set(c.get("Labels") or {})
        }

    def dangling() -> set[str]:
        return set(docker_engine.api.images(filters={"dangling": True}, quiet=True))

    before, dangling_before = containers(), dangling()

    def check(tag: str) -> None:
        import docker.errors

        with pytest.raises(docker.errors.ImageNotFound):
            docker_engine.api.inspect_image(tag)
        assert containers() <= before, f"containers left behind: {containers() - before}"
        left = dangling() - dangling_before
        assert not left, f"dangling images left: {left}"

    yield check


def failing_build(build: Build, home: Path, name: str) -> ImageBuildError:
    with pytest.raises(ImageBuildError) as info:
        build(home, name, progress=False)
    return info.value


def test_home_without_model_py(
    build: Build,
    tensor_home: Path,
    home_copy: Callable[[Path], Path],
    leaves_nothing: Callable[[str], None],
) -> None:
    home = home_copy(tensor_home)
    (home / "model.py").unlink()
    error = failing_build(build, home, "lt-no-model")
    assert error.stage == "home"
    assert str(error).startswith(f"no model.py in {home}")
    leaves_nothing(image_tag("lt-no-model", 1))


def test_requirement_that_is_not_on_the_index(
    build: Build,
    tensor_image: BuiltImage,
    tensor_home: Path,
    home_copy: Callable[[Path], Path],
    leaves_nothing: Callable[[str], None],
) -> None:
    home = home_copy(tensor_home)
    (home / "requirements.txt").write_text("numpy\nnonexistent-pkg-xyz\n")
    error = failing_build(build, home, "lt-bad-requirement")
    assert error.stage == "requirements"
    assert str(error) == "requirements.txt:2: 'nonexistent-pkg-xyz' is not on the package index"
    assert "nonexistent-pkg-xyz" in error.log_tail
    leaves_nothing(image_tag("lt-bad-requirement", 1))


def test_debian_package_that_does_not_exist(
    build: Build,
    tensor_home: Path,
    home_copy: Callable[[Path], Path],
    leaves_nothing: Callable[[str], None],
) -> None:
    home = home_copy(tensor_home)
    (home / "packages.txt").write_text("# native libraries\nno-such-debian-package-xyz\n")
    error = failing_build(build, home, "lt-bad-package")
    assert error.stage == "packages"
    assert str(error) == "packages.txt:2: Debian package 'no-such-debian-package-xyz' not found"
    leaves_nothing(image_tag("lt-bad-package", 1))


def test_setup_sh_that_exits_3(
    build: Build,
    tensor_image: BuiltImage,
    tensor_home: Path,
    home_copy: Callable[[Path], Path],
    leaves_nothing: Callable[[str], None],
) -> None:
    home = home_copy(tensor_home)
    (home / "setup.sh").write_text(
        "echo downloading vocabulary\necho checksum mismatch >&2\nexit 3\n"
    )
    error = failing_build(build, home, "lt-bad-setup")
    assert error.stage == "setup"
    first, *last_lines = str(error).splitlines()
    assert first == "setup.sh exited with code 3:"
    # stdout and stderr reach Docker's log through separate pipes: their order may vary.
    assert sorted(last_lines) == ["checksum mismatch", "downloading vocabulary"]
    leaves_nothing(image_tag("lt-bad-setup", 1))


def test_outputs_that_differ_from_the_validation_data(
    build: Build,
    cancer_image: BuiltImage,
    cancer_home: Path,
    home_copy: Callable[[Path], Path],
    leaves_nothing: Callable[[str], None],
) -> None:
    home = home_copy(cancer_home)
    expected_path = home / "validation" / "expected.parquet"
    expected = pd.read_parquet(expected_path)
    expected.loc[[2, 5], "malignant_proba"] += 0.25
    expected.to_parquet(expected_path)
    error = failing_build(build, home, "lt-bad-validation")
    assert error.stage == "validation"
    message = str(error)
    assert message.startswith("validation failed:\n")
    assert "column 'malignant_proba': 2 of 57 values differ" in message
    assert "  row 2: actual " in message and "  row 5: actual " in message
    assert "malignant'" not in message.replace("malignant_proba'", "")  # the bool column matched
    leaves_nothing(image_tag("lt-bad-validation", 1))
