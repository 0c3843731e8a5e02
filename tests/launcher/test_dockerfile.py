"""render_dockerfile: layer order and content (a pure function: no Docker needed)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace

from pyml_launcher.dockerfile import BuildSpec, dockerfile_steps, render_dockerfile

BARE = BuildSpec(
    base_image="pyml/base:bookworm-py3.11",
    name="iris",
    version=7,
    content_sha256="c0ffee" * 10 + "abcd",
    wheel_file="pyml-0.1.0-py3-none-any.whl",
)
FULL = replace(
    BARE,
    packages=("libgomp1", "tesseract-ocr"),
    has_requirements=True,
    has_setup=True,
    ca_bundle=True,
    build_args=("PIP_INDEX_URL",),
)


def instructions(spec: BuildSpec) -> list[str]:
    return [step.instruction for step in dockerfile_steps(spec)]


def stages(spec: BuildSpec) -> list[str]:
    # Consecutive duplicates collapsed: the order of the layers.
    order: list[str] = []
    for step in dockerfile_steps(spec):
        if not order or order[-1] != step.stage:
            order.append(step.stage)
    return order


def test_bare_home_has_no_apt_requirements_or_setup_layers() -> None:
    assert stages(BARE) == ["base", "runtime", "pyml", "model", "validation", "metadata"]
    text = render_dockerfile(BARE)
    assert "apt-get" not in text
    assert "requirements.txt" not in text
    assert "setup.sh" not in text
    assert "PIP_CERT" not in text


def test_layers_go_from_cheapest_to_change_last() -> None:
    assert stages(FULL) == [
        "base",
        "packages",
        "runtime",
        "requirements",
        "pyml",
        "model",
        "setup",
        "validation",
        "metadata",
    ]


def test_base_sets_the_environment_for_a_read_only_venv_image() -> None:
    first, env = instructions(BARE)[:2]
    assert first == "FROM pyml/base:bookworm-py3.11"
    assert env.startswith("ENV ")
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "PATH=/opt/pyml/venv/bin:/usr/local/sbin:/usr/local/bin:" in env


def test_packages_are_installed_without_recommends_and_lists_removed() -> None:
    (apt,) = [i for i in instructions(FULL) if "apt-get" in i]
    assert apt.startswith("RUN apt-get update")
    assert "apt-get install -y --no-install-recommends libgomp1 tesseract-ocr" in apt
    assert "rm -rf /var/lib/apt/lists/*" in apt


def test_runtime_layer_checks_python_then_installs_the_pins_into_the_venv() -> None:
    runtime = [s.instruction for s in dockerfile_steps(BARE) if s.stage == "runtime"]
    copy, run = runtime
    assert copy == "COPY .pyml/constraints.txt /opt/pyml/build/"
    assert run.index("sys.version_info[:2] == (3, 11)") < run.index(
        "python3 -m venv /opt/pyml/venv"
    )
    assert run.rstrip().endswith("-r /opt/pyml/build/constraints.txt")


def test_requirements_are_installed_under_the_runtime_constraints() -> None:
    copy, run = [s.instruction for s in dockerfile_steps(FULL) if s.stage == "requirements"]
    assert copy == "COPY model/requirements.txt /opt/pyml/build/requirements.txt"
    assert "-c /opt/pyml/build/constraints.txt -r /opt/pyml/build/requirements.txt" in run


def test_pyml_wheel_is_installed_without_dependencies() -> None:
    copy, run = [s.instruction for s in dockerfile_steps(BARE) if s.stage == "pyml"]
    assert copy.startswith("COPY .pyml/pyml-0.1.0-py3-none-any.whl ")
    assert "--no-deps /opt/pyml/build/pyml-0.1.0-py3-none-any.whl" in run


def test_setup_runs_with_bash_in_the_model_folder() -> None:
    (setup,) = [s.instruction for s in dockerfile_steps(FULL) if s.stage == "setup"]
    assert setup.startswith("RUN cd /opt/pyml/model && ")
    assert setup.endswith("bash ./setup.sh")


def test_validation_runs_as_the_runtime_user_after_the_model_and_setup() -> None:
    steps = instructions(FULL)
    user, validate = (
        steps.index("USER 65534:65534"),
        steps.index("RUN pyml-runtime validate --home /opt/pyml/model --name iris"),
    )
    assert user + 1 == validate
    assert validate > max(i for i, s in enumerate(steps) if "setup.sh" in s or "COPY model/" in s)


def test_labels_and_entrypoint_come_last() -> None:
    label, entrypoint = instructions(BARE)[-2:]
    assert label == (
        'LABEL io.pyml.model.name="iris" io.pyml.model.version="7" '
        f'io.pyml.model.sha256="{BARE.content_sha256}"'
    )
    assert entrypoint.startswith("ENTRYPOINT ")
    assert json.loads(entrypoint.removeprefix("ENTRYPOINT ")) == [
        "pyml-runtime",
        "serve",
        "--home",
        "/opt/pyml/model",
        "--socket",
        "/run/pyml/model.sock",
        "--socket-lock-seconds",
        "60",
        "--name",
        "iris",
    ]


def test_ca_bundle_is_used_by_pip_steps_only_never_set_in_the_image() -> None:
    text = render_dockerfile(FULL)
    assert "COPY .pyml/constraints.txt .pyml/ca.pem /opt/pyml/build/" in text
    pip_runs = [i for i in instructions(FULL) if "pip install" in i and "--no-deps" not in i]
    assert len(pip_runs) == 2
    assert all("PIP_CERT=/opt/pyml/build/ca.pem pip install" in run for run in pip_runs)
    assert not any(i.startswith("ENV") and "PIP_CERT" in i for i in instructions(FULL))


def test_pip_build_args_are_declared_after_the_apt_layer() -> None:
    steps = instructions(FULL)
    arg = steps.index("ARG PIP_INDEX_URL")
    apt = next(i for i, s in enumerate(steps) if "apt-get" in s)
    pins = next(i for i, s in enumerate(steps) if s.startswith("COPY .pyml/constraints.txt"))
    assert apt < arg < pins


def test_rendering_is_deterministic() -> None:
    assert render_dockerfile(FULL) == render_dockerfile(replace(FULL))


def test_outputs_are_checked_unless_packaging_allowed_no_validation_data() -> None:
    checked = render_dockerfile(BARE)
    unchecked = render_dockerfile(dataclasses.replace(BARE, check_outputs=False))

    assert "RUN pyml-runtime validate --home /opt/pyml/model --name iris\n" in checked
    assert "validate --home /opt/pyml/model --name iris --allow-no-validation-data" in unchecked
