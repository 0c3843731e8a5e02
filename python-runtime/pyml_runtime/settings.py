"""Parsing of `PYML_RUNTIME_*` settings; no heavy imports (the worker supervisor reads them)."""

from __future__ import annotations

from collections.abc import Mapping


def positive_int_setting(environ: Mapping[str, str], name: str) -> int | None:
    """The setting `name` as a positive integer (``_`` separators allowed); None when unset.

    Anything else is a ValueError that names the setting and its value.
    """
    text = environ.get(name, "").strip()
    if not text:
        return None
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{name}={text!r} (expected: a positive integer)")
    return value
