"""`pyml-runtime validate`: exit codes 0 (match), 1 (mismatch, with the diff), 2 (cannot load)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.runtime.runtime_homes import RUNTIME_BIN


def validate(home: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RUNTIME_BIN), "validate", "--home", str(home), *flags],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_matching_outputs_exit_0(scorer_home: Path, doubler_home: Path) -> None:
    for home, name in ((scorer_home, "scorer"), (doubler_home, "doubler")):
        result = validate(home)
        assert result.returncode == 0, result.stderr
        assert f"model '{name}': validation passed (4 rows)" in result.stdout


def test_changed_model_exits_1_with_the_diff(scorer_home: Path) -> None:
    (scorer_home / "weight.txt").write_text("2.6")
    result = validate(scorer_home)
    assert result.returncode == 1, result.stderr
    assert "validation FAILED" in result.stdout
    assert "column 'score': 4 of 4 values differ" in result.stdout
    assert "row 0: actual 2.3, expected 2.25" in result.stdout


def test_model_raising_on_its_validation_input_exits_1(scorer_home: Path) -> None:
    source = (scorer_home / "model.py").read_text()
    (scorer_home / "model.py").write_text(source.replace("< 0", "< 100"))
    result = validate(scorer_home)
    assert result.returncode == 1
    assert "model 'scorer' raised ValueError: x must be non-negative" in result.stderr


def test_load_error_exits_2_with_the_message(scorer_home: Path) -> None:
    (scorer_home / "model.py").write_text("def broken(:\n")
    result = validate(scorer_home)
    assert result.returncode == 2
    assert "MODEL_LOAD_ERROR" in result.stderr
    assert "model.py, line 1: syntax error" in result.stderr


def test_missing_validation_data_exits_2(scorer_home: Path) -> None:
    shutil.rmtree(scorer_home / "validation")
    result = validate(scorer_home)
    assert result.returncode == 2
    assert "validation/input.parquet is missing" in result.stderr


def test_no_validation_data_fails_unless_allowed(scorer_home: Path) -> None:
    shutil.rmtree(scorer_home / "validation")

    refused = validate(scorer_home)
    allowed = validate(scorer_home, "--allow-no-validation-data")

    assert refused.returncode == 2
    assert "validation" in refused.stderr
    assert allowed.returncode == 0, allowed.stderr
    assert "no validation data, outputs not checked" in allowed.stdout


def test_batching_is_checked_one_by_one_and_together(scorer_home: Path) -> None:
    with (scorer_home / "pyml.toml").open("a") as toml:
        toml.write("\n[batching]\nmax_rows = 3\n")
    result = validate(scorer_home)
    assert result.returncode == 0, result.stderr
    assert (
        "model 'scorer': batching check passed (4 rows predicted one by one and together agree)"
    ) in result.stdout


def test_batching_without_validation_data_exits_2(scorer_home: Path) -> None:
    toml = scorer_home / "pyml.toml"
    toml.write_text("batching = true\n" + toml.read_text())  # before the [validation] table
    shutil.rmtree(scorer_home / "validation")
    result = validate(scorer_home, "--allow-no-validation-data")
    assert result.returncode == 2
    assert "sets batching = true in pyml.toml but has no validation data" in result.stderr


def test_the_runtime_says_its_version_and_protocol() -> None:
    from pyml_runtime import __version__
    from pyml_runtime.protocol import PROTOCOL_VERSION

    done = subprocess.run(
        [str(RUNTIME_BIN), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"pyml-runtime {__version__} (sidecar protocol {PROTOCOL_VERSION})\n"
