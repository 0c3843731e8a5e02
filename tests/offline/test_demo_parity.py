"""The parity check `make demo` ends with: rows joined by key, equal only when bit for bit."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from types import ModuleType

import numpy as np
import pandas as pd
import pytest

from tests.conftest import REPO


@pytest.fixture(scope="module")
def demo() -> Iterator[ModuleType]:
    """scripts/demo.py as a module (a script, not a package)."""
    spec = importlib.util.spec_from_file_location("pyml_demo", REPO / "scripts" / "demo.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered while it runs: dataclasses look their module up by name.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def _outputs(proba: list[float]) -> pd.DataFrame:
    values = np.array(proba, dtype=np.float64)
    return pd.DataFrame({"malignant_proba": values, "malignant": values >= 0.5})


def _stored(keys: list[int], outputs: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([pd.DataFrame({"id": keys}), outputs], axis=1)


KEYS = [10, 11, 12, 13]
PROBA = [0.1, 0.7, 0.3, 0.9]


def test_the_same_rows_in_another_order_are_identical(demo: ModuleType) -> None:
    online = _outputs(PROBA)
    # The table's rows come back in any order: the check joins by key, not by position.
    stored = _stored(KEYS, online).iloc[::-1].reset_index(drop=True)
    parity = demo.compare(pd.Series(KEYS), online, stored)
    assert parity.ok
    assert (parity.rows, parity.identical, parity.max_abs_diff) == (4, 4, 0.0)


def test_one_ulp_apart_is_a_difference(demo: ModuleType) -> None:
    online = _outputs(PROBA)
    nudged = PROBA.copy()
    nudged[1] = float(np.nextafter(PROBA[1], 1.0))  # within any tolerance, not the same bits
    parity = demo.compare(pd.Series(KEYS), online, _stored(KEYS, _outputs(nudged)))
    assert not parity.ok
    assert parity.identical == 3
    assert parity.max_abs_diff == pytest.approx(np.spacing(PROBA[1]))
    assert parity.max_abs_diff > 0


def test_a_changed_label_or_a_missing_row_is_a_difference(demo: ModuleType) -> None:
    online = _outputs(PROBA)
    flipped = _outputs(PROBA)
    flipped.loc[0, "malignant"] = True
    assert demo.compare(pd.Series(KEYS), online, _stored(KEYS, flipped)).identical == 3
    missing = _stored(KEYS, online).iloc[:3]
    parity = demo.compare(pd.Series(KEYS), online, missing)
    assert (parity.rows, parity.offline_rows, parity.ok) == (3, 3, False)
