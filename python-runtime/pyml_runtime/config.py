"""The optional `pyml.toml` of a model home: what the runtime reads from it.

    name = "breast_cancer_lr"      # default: the home folder's name
    class = "BreastCancer"         # which class of model.py, when it defines several
    version = "3"                  # shown in GetMetadata; default ""

    [validation]
    rtol = 1e-6                    # float tolerances of the validation comparison
    atol = 1e-9

Other keys (resources, python version, ...) belong to the image builder and are ignored here.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyml_runtime.errors import load_error

CONFIG_FILE = "pyml.toml"
DEFAULT_RTOL = 1e-6
DEFAULT_ATOL = 1e-9


@dataclass(frozen=True)
class ModelConfig:
    name: str | None = None
    class_name: str | None = None
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    version: str = ""


def load_config(home: Path) -> ModelConfig:
    """The home's `pyml.toml`, or the defaults when there is none."""
    path = Path(home) / CONFIG_FILE
    if not path.is_file():
        return ModelConfig()
    try:
        with path.open("rb") as file:
            raw = tomllib.load(file)
    except tomllib.TOMLDecodeError as exc:
        raise load_error(f"{path}: invalid TOML: {exc}") from exc
    except OSError as exc:
        raise load_error(f"{path}: cannot read: {exc}") from exc
    return _parse(path, raw)


def _parse(path: Path, raw: dict[str, Any]) -> ModelConfig:
    validation = raw.get("validation", {})
    if not isinstance(validation, dict):
        raise load_error(f"{path}: 'validation' is a {_toml_type(validation)} (expected: a table)")
    return ModelConfig(
        name=_optional_str(path, raw, "name"),
        class_name=_optional_str(path, raw, "class"),
        rtol=_tolerance(path, validation, "rtol", DEFAULT_RTOL),
        atol=_tolerance(path, validation, "atol", DEFAULT_ATOL),
        version=_version(path, raw),
    )


def _optional_str(path: Path, raw: dict[str, Any], key: str) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise load_error(f"{path}: '{key}' is {value!r} (expected: a non-empty string)")
    return value


def _version(path: Path, raw: dict[str, Any]) -> str:
    value = raw.get("version", "")
    # A bare integer is what people write for a version; accept it as text.
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise load_error(f"{path}: 'version' is {value!r} (expected: a string)")
    return str(value)


def _tolerance(path: Path, section: dict[str, Any], key: str, default: float) -> float:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise load_error(f"{path}: validation.{key} is {value!r} (expected: a non-negative number)")
    return float(value)


def _toml_type(value: object) -> str:
    return type(value).__name__
