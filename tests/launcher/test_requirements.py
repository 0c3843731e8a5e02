"""A home's requirements against its imports and the environment that trained it (issue 15):
what `pyml validate` and the image build catch before pip or the model's import fails."""

from __future__ import annotations

import importlib.metadata as metadata
import textwrap
from pathlib import Path

from pyml_launcher.requirements import Drift, pinned_requirements, unlisted_imports


def home_with(tmp_path: Path, model: str, requirements: str | None = None) -> Path:
    home = tmp_path / "m"
    home.mkdir()
    (home / "model.py").write_text(textwrap.dedent(model))
    if requirements is not None:
        (home / "requirements.txt").write_text(textwrap.dedent(requirements))
    return home


def test_an_import_nothing_provides_is_named_with_the_line_to_add(tmp_path: Path) -> None:
    home = home_with(
        tmp_path,
        """\
        import os, json                 # the standard library
        import numpy, pandas            # the runtime's own dependencies: in every image
        import helpers                  # the home's own module
        from pyml import DataFrameModel
        from scipy import stats         # installed here, named nowhere
        try:
            import torch                # optional: guarded by except ImportError
        except ImportError:
            torch = None
        """,
        "joblib\n",
    )
    (home / "helpers.py").write_text("")
    [found] = unlisted_imports(home)
    assert (found.module, found.where, found.distribution) == ("scipy", "model.py:5", "scipy")
    assert found.requirement() == f"scipy=={metadata.version('scipy')}"


def test_a_listed_distribution_provides_its_module_under_another_name(tmp_path: Path) -> None:
    home = home_with(tmp_path, "import sklearn\n", "Scikit_Learn>=1\n")
    assert unlisted_imports(home) == []


def test_requirements_are_pinned_to_this_environment_and_drift_is_named(tmp_path: Path) -> None:
    sklearn = metadata.version("scikit-learn")
    joblib = metadata.version("joblib")
    home = home_with(
        tmp_path,
        "",
        """\
        # the model's needs
        scikit-learn>=1.0
        joblib<1.0 ; python_version >= "3"
        not-installed-anywhere-xyz==1.2
        -r more.txt
        """,
    )
    pinned = pinned_requirements(home)
    assert pinned.text.splitlines() == [
        "# the model's needs",
        f"scikit-learn=={sklearn}",
        'joblib<1.0 ; python_version >= "3"',
        "not-installed-anywhere-xyz==1.2",
        "-r more.txt",
    ]
    assert pinned.pins == {"scikit-learn": sklearn}
    assert pinned.drift == [Drift("joblib", "<1.0", joblib)]


def test_a_file_nested_too_deep_to_parse_is_left_to_the_model_load(tmp_path: Path) -> None:
    # A hostile home: Python's parser gives up on it (RecursionError), as loading it would.
    home = home_with(tmp_path, "x = " + "-" * 5_000 + "1\nimport scipy\n")
    assert unlisted_imports(home) == []
