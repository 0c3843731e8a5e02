"""The optional `pyml.toml` of a model home: what the runtime reads from it.

    name = "breast_cancer_lr"      # default: the home folder's name
    class = "BreastCancer"         # which class of model.py, when it defines several
    version = "3"                  # shown in GetMetadata; default ""

    [validation]
    rtol = 1e-6                    # float tolerances of the validation comparison
    atol = 1e-9

    batching = true                # adaptive batching with the defaults below, or:
    [batching]
    enabled = true                 # default true when the table is there
    max_rows = 4096                # rows given to the model in one call at most
    max_delay_ms = 2               # how long a batch may wait for its share of the calls

Batching is off by default: merging the rows of concurrent requests into one model call is
only right for a model that treats every row on its own (no batch statistics, no padding to the
longest row, no row order effects). The image build proves it on the validation rows (one by
one and all at once must agree) and refuses `batching = true` when they do not.

Other keys (resources, python version, ...) belong to the image builder and are ignored here.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyml_runtime.errors import load_error

CONFIG_FILE = "pyml.toml"
DEFAULT_RTOL = 1e-6
DEFAULT_ATOL = 1e-9
DEFAULT_BATCH_MAX_ROWS = 4096
# Long enough for a burst of answers to come back as calls (~1 ms through the gateway on a
# loaded 2-core machine), short enough that a wrong guess of the load costs little.
DEFAULT_BATCH_MAX_DELAY_MS = 2
MAX_BATCH_MAX_ROWS = 1_000_000
MAX_BATCH_DELAY_MS = 1000


@dataclass(frozen=True)
class BatchingConfig:
    """Adaptive batching: off unless pyml.toml turns it on."""

    enabled: bool = False
    max_rows: int = DEFAULT_BATCH_MAX_ROWS
    max_delay_ms: int = DEFAULT_BATCH_MAX_DELAY_MS


@dataclass(frozen=True)
class ModelConfig:
    name: str | None = None
    class_name: str | None = None
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL
    version: str = ""
    batching: BatchingConfig = field(default_factory=BatchingConfig)


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
        batching=_batching(path, raw.get("batching", False)),
    )


def _batching(path: Path, value: object) -> BatchingConfig:
    if isinstance(value, bool):
        return BatchingConfig(enabled=value)
    if not isinstance(value, dict):
        raise load_error(
            f"{path}: 'batching' is {value!r} (expected: true, false or a [batching] table)"
        )
    unknown = sorted(set(value) - {"enabled", "max_rows", "max_delay_ms"})
    if unknown:
        raise load_error(
            f"{path}: batching.{unknown[0]} is not a setting "
            "(expected: enabled, max_rows, max_delay_ms)"
        )
    enabled = value.get("enabled", True)
    if not isinstance(enabled, bool):
        raise load_error(f"{path}: batching.enabled is {enabled!r} (expected: true or false)")
    return BatchingConfig(
        enabled=enabled,
        max_rows=_bounded_int(
            path, value, "max_rows", DEFAULT_BATCH_MAX_ROWS, 1, MAX_BATCH_MAX_ROWS
        ),
        max_delay_ms=_bounded_int(
            path, value, "max_delay_ms", DEFAULT_BATCH_MAX_DELAY_MS, 0, MAX_BATCH_DELAY_MS
        ),
    )


def _bounded_int(
    path: Path, section: dict[str, Any], key: str, default: int, low: int, high: int
) -> int:
    value = section.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise load_error(
            f"{path}: batching.{key} is {value!r} (expected: an integer from {low} to {high})"
        )
    return value


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
