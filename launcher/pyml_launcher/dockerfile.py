"""The Dockerfile of a model image, rendered from a `BuildSpec` (a pure function of it).

Layers, cheapest to change last, so a new `model.py` rebuilds seconds of work, not minutes:

1. ``FROM`` the base image; ``ENV`` with the venv first on ``PATH``,
   ``PYTHONDONTWRITEBYTECODE=1`` (the root filesystem is read-only at run time).
2. ``packages.txt``: one ``apt-get install --no-install-recommends`` (lists removed after).
3. The venv ``/opt/pyml/venv`` with the runtime's dependencies pinned to the host's exact
   versions (``.pyml/constraints.txt``), after checking the base's Python minor version.
   Shared by every model with the same base and packages.
4. ``requirements.txt``, installed under the same constraints, so a model cannot silently
   move pyarrow/pandas/numpy/grpcio away from what the host validated with.
5. The PyML wheel, ``--no-deps``.
6. The home folder, copied to ``/opt/pyml/model``.
7. ``setup.sh``, run once with bash as root, cwd ``/opt/pyml/model``.
8. ``pyml-runtime validate`` as the runtime user (uid 65534): the build fails with the diff.
9. Labels ``io.pyml.model.{name,version,sha256}``, ``USER 65534:65534``, the ``ENTRYPOINT``.

pip steps (and setup.sh) get ``PIP_CERT`` pointing at the copied CA bundle for that RUN only;
``PIP_INDEX_URL``/``PIP_EXTRA_INDEX_URL``/``PIP_TRUSTED_HOST`` come in as build args.
"""

from __future__ import annotations

import json
import shlex
import sys
from dataclasses import dataclass

from pyml_launcher.container_policy import container_policy

MODEL_DIR = "/opt/pyml/model"
VENV_DIR = "/opt/pyml/venv"
BUILD_DIR = "/opt/pyml/build"
# The image's user and socket folder are the container policy's: one place to change them.
SOCKET_DIR: str = container_policy()["runtime"]["socket_dir"]
SOCKET_PATH = f"{SOCKET_DIR}/model.sock"
# How long a runtime waits for its launcher to lock the socket folder before it gives up.
SOCKET_LOCK_SECONDS = 60
RUN_USER: str = container_policy()["runtime"]["user"]
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CONSTRAINTS = f"{BUILD_DIR}/constraints.txt"
CA_BUNDLE = f"{BUILD_DIR}/ca.pem"
LABEL_NAME = "io.pyml.model.name"
LABEL_VERSION = "io.pyml.model.version"
LABEL_SHA256 = "io.pyml.model.sha256"
# Quiet, reproducible pip: no cache in the image, no progress bars in the build log.
PIP_INSTALL = "pip install --no-cache-dir --no-input --progress-bar off --disable-pip-version-check"
PYTHON_MISMATCH = "base image has Python"


@dataclass(frozen=True)
class BuildSpec:
    """Everything the Dockerfile depends on; the build context holds the files it names."""

    base_image: str
    name: str
    version: int
    content_sha256: str
    wheel_file: str  # file name under .pyml/ in the context
    packages: tuple[str, ...] = ()  # from packages.txt
    has_requirements: bool = False
    has_setup: bool = False
    # False only when packaging was told to accept a home without validation data.
    check_outputs: bool = True
    ca_bundle: bool = False  # .pyml/ca.pem is in the context
    build_args: tuple[str, ...] = ()  # names of pip settings passed as build args
    python: tuple[int, int] = (sys.version_info[0], sys.version_info[1])


@dataclass(frozen=True)
class Step:
    """One Dockerfile instruction (one `Step N/M` of the classic builder) and its stage."""

    stage: str
    instruction: str
    comment: str = ""


def render_dockerfile(spec: BuildSpec) -> str:
    return render_steps(dockerfile_steps(spec))


def render_steps(steps: list[Step]) -> str:
    """The Dockerfile text of `steps` (any image PyML builds), comments above their step."""
    lines: list[str] = []
    for step in steps:
        if step.comment:
            lines.append(f"# {step.comment}")
        lines.append(step.instruction)
    return "\n".join(lines) + "\n"


def dockerfile_steps(spec: BuildSpec) -> list[Step]:
    """The instructions in order; a failing build's `Step N/M` is `dockerfile_steps(spec)[N-1]`."""
    return [
        *_base(spec),
        *_packages(spec),
        *_runtime(spec),
        *_requirements(spec),
        *_pyml(spec),
        *_model(spec),
        *_validation(spec),
        *_metadata(spec),
    ]


def _base(spec: BuildSpec) -> list[Step]:
    env = {
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "LANG": "C.UTF-8",
        "VIRTUAL_ENV": VENV_DIR,
        "PATH": f"{VENV_DIR}/bin:{SYSTEM_PATH}",
    }
    return [
        Step("base", f"FROM {spec.base_image}"),
        Step("base", "ENV " + " ".join(f"{k}={v}" for k, v in env.items())),
    ]


def _packages(spec: BuildSpec) -> list[Step]:
    if not spec.packages:
        return []
    return [Step("packages", apt_install(spec.packages), "packages.txt")]


def apt_install(packages: tuple[str, ...]) -> str:
    """One RUN that installs Debian `packages` and leaves no package lists in the layer."""
    return _run(
        "apt-get update",
        "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "
        + " ".join(packages),
        "apt-get clean",
        "rm -rf /var/lib/apt/lists/*",
    )


def _runtime(spec: BuildSpec) -> list[Step]:
    # Declared after the apt layer: a build arg in a RUN's environment is part of its cache key.
    args = [Step("runtime", f"ARG {name}") for name in spec.build_args]
    sources = ".pyml/constraints.txt" + (" .pyml/ca.pem" if spec.ca_bundle else "")
    major, minor = spec.python
    check = (
        "python3 -c 'import sys; sys.exit(0 if sys.version_info[:2] == "
        f'({major}, {minor}) else "{PYTHON_MISMATCH} %d.%d, this PyML host runs {major}.{minor}'
        f" (its packages are pinned for {major}.{minor})\" % sys.version_info[:2])'"
    )
    run = _run(
        check,
        f"python3 -m venv {VENV_DIR}",
        f"{_pip(spec)} -r {CONSTRAINTS}",
    )
    return [
        *args,
        Step("runtime", f"COPY {sources} {BUILD_DIR}/", "the runtime's dependencies, pinned"),
        Step("runtime", run),
    ]


def _requirements(spec: BuildSpec) -> list[Step]:
    if not spec.has_requirements:
        return []
    return [
        Step("requirements", f"COPY model/requirements.txt {BUILD_DIR}/requirements.txt"),
        Step(
            "requirements",
            f"RUN {_pip(spec)} -c {CONSTRAINTS} -r {BUILD_DIR}/requirements.txt",
        ),
    ]


def _pyml(spec: BuildSpec) -> list[Step]:
    wheel = f"{BUILD_DIR}/{spec.wheel_file}"
    return [
        Step("pyml", f"COPY .pyml/{spec.wheel_file} {wheel}", "PyML itself"),
        Step("pyml", f"RUN {PIP_INSTALL} --no-deps {wheel}"),
    ]


def _model(spec: BuildSpec) -> list[Step]:
    steps = [Step("model", f"COPY model/ {MODEL_DIR}/", "the model home")]
    if spec.has_setup:
        prefix = f"PIP_CERT={CA_BUNDLE} " if spec.ca_bundle else ""
        steps.append(Step("setup", f"RUN cd {MODEL_DIR} && {prefix}bash ./setup.sh"))
    return steps


def _validation(spec: BuildSpec) -> list[Step]:
    # As the runtime user: a file the model cannot read fails here, not at deploy.
    flag = "" if spec.check_outputs else " --allow-no-validation-data"
    # The registered name, so that the build's messages name the model, not its folder.
    name = shlex.quote(spec.name)
    return [
        Step("validation", f"USER {RUN_USER}"),
        Step("validation", f"RUN pyml-runtime validate --home {MODEL_DIR} --name {name}{flag}"),
    ]


def _metadata(spec: BuildSpec) -> list[Step]:
    labels = {
        LABEL_NAME: spec.name,
        LABEL_VERSION: str(spec.version),
        LABEL_SHA256: spec.content_sha256,
    }
    # The launcher (gateway, local.py) makes /run/pyml read-only once the socket exists; the
    # runtime loads the model only then (see pyml_runtime.server).
    entrypoint = [
        *("pyml-runtime", "serve", "--home", MODEL_DIR, "--socket", SOCKET_PATH),
        *("--socket-lock-seconds", str(SOCKET_LOCK_SECONDS)),
    ]
    return [
        Step("metadata", "LABEL " + " ".join(f"{k}={json.dumps(v)}" for k, v in labels.items())),
        Step("metadata", f"ENTRYPOINT {json.dumps([*entrypoint, '--name', spec.name])}"),
    ]


def _pip(spec: BuildSpec) -> str:
    return f"PIP_CERT={CA_BUNDLE} {PIP_INSTALL}" if spec.ca_bundle else PIP_INSTALL


def _run(*commands: str) -> str:
    return "RUN " + " \\\n && ".join(commands)
