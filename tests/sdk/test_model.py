"""pyml.Model and save_validation on real homes, in-process."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from pyml.model import Model, ValidationFailed, save_validation
from pyml_runtime.errors import PymlError


def write_model(home: Path, source: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / "model.py").write_text(textwrap.dedent(source))
    return home


DOUBLER = """
    import pandas as pd
    from pyml import DataFrameModel

    class Doubler(DataFrameModel):
        def __init__(self, home):
            pass

        def predict(self, df):
            return pd.DataFrame({"y": df["x"] * 2})
"""


def test_from_home_predict_validate_round_trip(tmp_path: Path) -> None:
    home = write_model(tmp_path / "doubler", DOUBLER)
    frame = pd.DataFrame({"x": [1.0, 2.5, np.nan]})

    report = save_validation(home, frame)

    assert report.passed and report.rows == 3
    assert (home / "validation" / "input.parquet").is_file()
    assert (home / "validation" / "expected.parquet").is_file()
    model = Model.from_home(home)
    assert (model.name, model.kind) == ("doubler", "dataframe")
    pdt.assert_frame_equal(model.predict(frame), pd.DataFrame({"y": [2.0, 5.0, np.nan]}))


def test_validate_reports_the_column_and_rows_that_differ(tmp_path: Path) -> None:
    home = write_model(tmp_path / "doubler", DOUBLER)
    save_validation(home, pd.DataFrame({"x": [1.0, 2.0, 3.0]}))
    pd.DataFrame({"y": [2.0, 4.0, 6.5]}).to_parquet(home / "validation" / "expected.parquet")

    with pytest.raises(ValidationFailed) as caught:
        Model.from_home(home).validate()

    message = str(caught.value)
    assert "'doubler'" in message and "y" in message and "6.5" in message
    report = Model.from_home(home).validate(raise_on_mismatch=False)
    assert not report.passed


def test_tensor_home_round_trip_keeps_dtypes_and_0d(tmp_path: Path) -> None:
    home = write_model(
        tmp_path / "scaler",
        """
        import numpy as np
        from pyml import TensorModel

        class Scale(TensorModel):
            def __init__(self, home):
                pass

            def predict(self, tensors):
                x = tensors["x"]
                return {"y": x * np.float32(3), "count": np.array(x.shape[0], dtype=np.int32)}
        """,
    )
    x = np.arange(12, dtype=np.float32).reshape(3, 2, 2)

    assert save_validation(home, {"x": x}).passed
    out = Model.from_home(home).predict({"x": x})

    assert isinstance(out, dict)
    np.testing.assert_array_equal(out["y"], x * 3)
    assert out["y"].dtype == np.float32 and out["y"].shape == (3, 2, 2)
    assert out["count"].shape == () and out["count"].dtype == np.int32


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        (None, "model.py"),
        ("def broken(:\n", "line 1"),
        ("import not_a_module_abc\n", "not_a_module_abc"),
        ("x = 1\n", "DataFrameModel"),
    ],
    ids=["no-model-py", "syntax-error", "import-error", "no-contract-class"],
)
def test_bad_homes_give_clear_errors(tmp_path: Path, source: str | None, fragment: str) -> None:
    home = tmp_path / "bad"
    home.mkdir()
    if source is not None:
        (home / "model.py").write_text(source)

    with pytest.raises(PymlError) as caught:
        Model.from_home(home)

    assert fragment in str(caught.value)


def test_predict_refuses_the_wrong_input_type(tmp_path: Path) -> None:
    model = Model.from_home(write_model(tmp_path / "doubler", DOUBLER))

    with pytest.raises(TypeError, match="DataFrame"):
        model.predict({"x": np.ones(3)})


def test_example_homes_validate(
    cancer_home: Path, tensor_home: Path, fresh_home: Callable[[str], Path]
) -> None:
    assert Model.from_home(cancer_home).validate().passed
    assert Model.from_home(tensor_home).validate().passed


def test_save_validation_warns_when_the_rows_are_one_sided(tmp_path: Path) -> None:
    """Issue 15: the README's df.head(50) of sorted data gave rows of one class, which a model
    predicting that class for everything passes; save_validation now says so."""
    import warnings

    from pyml.model import OneSidedValidation

    home = write_model(tmp_path / "doubler", DOUBLER)
    with pytest.warns(OneSidedValidation) as caught:
        save_validation(home, pd.DataFrame({"x": [3.0, 3.0, 3.0]}))
    assert str(caught[0].message) == (
        "model 'doubler': the validation rows are one-sided: output 'y' is 6.0 in all 3 rows; "
        "input 'x' is 3.0 in all 3 rows. Rows from one end of sorted data check little; pass "
        "a sample, e.g. df.sample(50, random_state=0)"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", OneSidedValidation)
        save_validation(home, pd.DataFrame({"x": [1.0, 2.0, 3.0]}))  # varied: no warning
