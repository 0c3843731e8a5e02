"""Finding and loading the model class of a home folder, and pyml.toml."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pyml_runtime.config import load_config
from pyml_runtime.errors import ErrorKind, PymlError
from pyml_runtime.loader import load_model, load_model_class
from tests.runtime.runtime_homes import HOMES

HEADER = """
    import pandas as pd
    from pyml import DataFrameModel, TensorModel
"""

ONE_MODEL = (
    HEADER
    + """
    class Only(DataFrameModel):
        def __init__(self, home):
            self.home = home

        def predict(self, df):
            return df
"""
)


def load_error(home: Path) -> PymlError:
    with pytest.raises(PymlError) as caught:
        load_model(home)
    assert caught.value.kind is ErrorKind.MODEL_LOAD_ERROR
    return caught.value


def test_loads_the_scorer_home_with_its_helper_module() -> None:
    model = load_model(HOMES / "scorer")
    assert model.cls.__name__ == "Scorer"
    assert model.kind == "dataframe"
    assert model.name == "scorer"
    assert model.config.version == "7"
    assert model.instance.weight == 2.5  # type: ignore[union-attr]
    assert model.home == (HOMES / "scorer").resolve()


def test_name_defaults_to_the_folder(make_home: Callable[..., Path]) -> None:
    home = make_home("my_model", **{"model.py": ONE_MODEL})
    model = load_model(home)
    assert model.name == "my_model"
    assert model.instance.home == str(home.resolve())  # type: ignore[union-attr]


def test_missing_model_py_names_the_path(tmp_path: Path) -> None:
    error = load_error(tmp_path)
    assert str(tmp_path / "model.py") in error.message


def test_syntax_error_names_file_and_line(make_home: Callable[..., Path]) -> None:
    home = make_home("broken", **{"model.py": "import os\n\ndef oops(:\n    pass\n"})
    error = load_error(home)
    assert "model.py, line 3: syntax error" in error.message


def test_import_error_names_the_module_and_the_line(make_home: Callable[..., Path]) -> None:
    source = HEADER + "    import not_a_real_module_xyz\n"
    home = make_home("needs", **{"model.py": source})
    error = load_error(home)
    assert "module 'not_a_real_module_xyz'" in error.message
    assert "model.py, line 3" in error.message
    assert error.exception_type == "ModuleNotFoundError"


def test_no_model_class(make_home: Callable[..., Path]) -> None:
    home = make_home("empty", **{"model.py": HEADER + "    class NotAModel:\n        pass\n"})
    assert "no model class" in load_error(home).message


def test_imported_base_classes_do_not_count(make_home: Callable[..., Path]) -> None:
    home = make_home(
        "imports",
        **{
            "base.py": ONE_MODEL.replace("class Only", "class Base"),
            "model.py": "from base import Base\n\nclass Mine(Base):\n    pass\n",
        },
    )
    assert load_model_class(home).__name__ == "Mine"


def test_two_model_classes_are_named(make_home: Callable[..., Path]) -> None:
    source = ONE_MODEL + ONE_MODEL.replace(HEADER, "").replace("class Only", "class Other")
    home = make_home("two", **{"model.py": source})
    error = load_error(home)
    assert "2 model classes (Only, Other)" in error.message


def test_pyml_toml_class_picks_one(make_home: Callable[..., Path]) -> None:
    source = ONE_MODEL + ONE_MODEL.replace(HEADER, "").replace("class Only", "class Other")
    home = make_home("two", **{"model.py": source, "pyml.toml": 'class = "Other"\n'})
    assert load_model(home).cls.__name__ == "Other"
    (home / "pyml.toml").write_text('class = "Third"\n')
    assert "no model class 'Third'" in load_error(home).message


def test_exception_in_init_is_a_load_error(make_home: Callable[..., Path]) -> None:
    source = ONE_MODEL.replace("self.home = home", "raise FileNotFoundError('weights.bin')")
    error = load_error(make_home("raising", **{"model.py": source}))
    assert "model 'raising': Only.__init__ raised FileNotFoundError: weights.bin" in error.message
    assert error.exception_type == "FileNotFoundError"


def test_helpers_of_a_previous_home_are_not_reused(make_home: Callable[..., Path]) -> None:
    model = ONE_MODEL.replace("self.home = home", "import helper; self.value = helper.VALUE")
    first = make_home("first", **{"model.py": model, "helper.py": "VALUE = 1\n"})
    second = make_home("second", **{"model.py": model, "helper.py": "VALUE = 2\n"})
    assert load_model(first).instance.value == 1  # type: ignore[union-attr]
    assert load_model(second).instance.value == 2  # type: ignore[union-attr]


def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "pyml.toml").write_text("name = \n")
    with pytest.raises(PymlError, match=r"pyml\.toml: invalid TOML"):
        load_config(tmp_path)
    (tmp_path / "pyml.toml").write_text("[validation]\nrtol = 'tight'\n")
    with pytest.raises(PymlError, match=r"validation.rtol is 'tight'"):
        load_config(tmp_path)


def test_config_defaults_and_values(tmp_path: Path) -> None:
    assert load_config(tmp_path).rtol == 1e-6
    (tmp_path / "pyml.toml").write_text(
        'name = "n"\nclass = "C"\nversion = 3\n[validation]\nrtol = 0.01\natol = 0\n'
    )
    config = load_config(tmp_path)
    assert (config.name, config.class_name, config.version) == ("n", "C", "3")
    assert (config.rtol, config.atol) == (0.01, 0.0)
