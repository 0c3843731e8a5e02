"""The CLI speaks to people (issue 15): a failure is one `✗` line and a hint, exit code 1;
the traceback only with --debug, wherever it stands on the command line."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.cli import run_pyml


def _pyml(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return run_pyml(*args, env={"PYML_HOME": str(home), "COLUMNS": "80"}, timeout=60)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _one_line_and_a_hint(done: subprocess.CompletedProcess[str]) -> str:
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert len(lines) == 2, lines
    assert lines[0].startswith("✗ ") and lines[1].strip().startswith("hint: "), lines
    return lines[0] + "\n" + lines[1]


def test_no_gateway_at_the_address_is_one_line_with_a_hint(tmp_path: Path) -> None:
    done = _pyml("undeploy", "nope", "--gateway", f"127.0.0.1:{_closed_port()}", home=tmp_path)
    assert "is a gateway running there?" in _one_line_and_a_hint(done)


def test_a_model_missing_from_the_registry_is_one_line(tmp_path: Path) -> None:
    said = _one_line_and_a_hint(_pyml("models", "show", "nope", home=tmp_path))
    assert "no model 'nope' in the registry" in said
    assert "'pyml models' lists the registry" in said


def test_a_model_with_an_import_error_is_one_line(tmp_path: Path) -> None:
    home = tmp_path / "broken"
    home.mkdir()
    (home / "model.py").write_text("import not_a_module_anyone_has\n")
    said = _one_line_and_a_hint(_pyml("validate", str(home), home=tmp_path))
    assert "cannot import module 'not_a_module_anyone_has'" in said


@pytest.mark.parametrize("where", ["first", "last"])
def test_debug_shows_the_traceback(tmp_path: Path, where: str) -> None:
    args = ["models", "show", "nope"]
    args = ["--debug", *args] if where == "first" else [*args, "--debug"]
    done = _pyml(*args, home=tmp_path)
    assert done.returncode != 0
    assert "VersionNotFound" in done.stdout + done.stderr
    assert "Traceback" in done.stdout + done.stderr or "──" in done.stdout + done.stderr


def test_deploy_of_a_folder_needs_home_and_a_name_beside_a_folder_says_so(tmp_path: Path) -> None:
    folder = tmp_path / "iris"
    folder.mkdir()
    gateway = ["--gateway", f"127.0.0.1:{_closed_port()}"]
    said = _one_line_and_a_hint(_pyml("deploy", str(folder), *gateway, home=tmp_path))
    assert said == (
        f"✗ '{folder}' is not a registered model's NAME or NAME:VERSION\n"
        f"  hint: to serve a model home folder as a local process: pyml deploy --home {folder}"
    )
    beside = run_pyml("deploy", "iris", *gateway, env={"PYML_HOME": str(tmp_path)}, cwd=tmp_path)
    assert beside.returncode == 1
    assert "deploying the registered model 'iris'; the folder ./iris is not used" in beside.stdout
    assert "is a gateway running there?" in beside.stdout  # it went to the gateway, by name
    missing = _one_line_and_a_hint(
        _pyml("deploy", "--home", str(tmp_path / "none"), *gateway, home=tmp_path)
    )
    assert f"✗ {tmp_path / 'none'} is not a model home folder" in missing


def test_validate_names_an_import_that_requirements_txt_does_not_provide(tmp_path: Path) -> None:
    from importlib.metadata import version

    home = tmp_path / "stats"
    home.mkdir()
    (home / "model.py").write_text(
        "import scipy\nfrom pyml import DataFrameModel\n\n\nclass Stats(DataFrameModel):\n"
        "    def __init__(self, home):\n        pass\n\n    def predict(self, df):\n"
        "        return df\n"
    )
    said = _one_line_and_a_hint(_pyml("validate", str(home), home=tmp_path))
    assert said == (
        f"✗ model 'stats': model.py:1 imports 'scipy' (scipy {version('scipy')} here), which no "
        "line of requirements.txt provides: the image would not have it\n"
        f"  hint: add to requirements.txt: scipy=={version('scipy')}"
    )


def test_validate_shows_requirements_that_exclude_the_version_installed_here(
    tmp_path: Path,
) -> None:
    from importlib.metadata import version

    home = tmp_path / "old"
    home.mkdir()
    (home / "model.py").write_text(
        "import joblib\nfrom pyml import DataFrameModel\n\n\nclass Old(DataFrameModel):\n"
        "    def __init__(self, home):\n        pass\n\n    def predict(self, df):\n"
        "        return df\n"
    )
    (home / "requirements.txt").write_text("joblib<1.0\n")
    done = _pyml("validate", str(home), home=tmp_path)
    assert (
        f"! model 'old': requirements.txt asks for joblib<1.0, but {version('joblib')} is "
        "installed here: the image would compute with another version than the one that "
        "trained the model"
    ) in " ".join(done.stdout.split())
