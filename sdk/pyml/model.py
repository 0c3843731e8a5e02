"""`pyml.Model`: a model home folder loaded in this process, the data scientist's handle.

`predict` goes through the runtime's own dataplane (Arrow encode → decode → schema check →
predict → encode → decode), the same code the sidecar runs, so what a notebook sees is what
the gateway and the Spark job will answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pyml._internal.payloads import ModelInput, ModelOutput, decode_payload, encode_payload
from pyml_runtime import codec
from pyml_runtime.dataplane import Dataplane
from pyml_runtime.loader import LoadedModel, load_model
from pyml_runtime.validation import (
    ValidationReport,
    compare_dataframes,
    compare_tensors,
    load_validation,
    write_validation,
)

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


class ValidationFailed(AssertionError):
    """The model's outputs on its validation input differ from the stored expected outputs."""

    def __init__(self, model: str, report: ValidationReport) -> None:
        super().__init__(f"model '{model}' does not reproduce its validation data:\n{report.diff}")
        self.report = report


class Model:
    """A model home folder, loaded: `Model.from_home("breast_cancer_lr/")`."""

    def __init__(self, home: Path, loaded: LoadedModel) -> None:
        self.home = home
        self._loaded = loaded
        self._dataplane: Dataplane | None = None

    @classmethod
    def from_home(cls, home: str | Path) -> Model:
        """Load `model.py`'s one contract class from the folder and instantiate it."""
        path = Path(home).resolve()
        return cls(path, load_model(path))

    @property
    def name(self) -> str:
        return self._loaded.name

    @property
    def kind(self) -> str:
        """ "dataframe" or "tensors"."""
        return self._loaded.kind

    def __repr__(self) -> str:
        return f"Model(name={self.name!r}, kind={self.kind!r}, home='{self.home}')"

    def predict(self, data: ModelInput) -> ModelOutput:
        """Predict on a DataFrame (DataFrame models) or a dict of arrays (Tensor models)."""
        payload = encode_payload(self.kind, data)
        return decode_payload(self.kind, self.dataplane.predict_arrow(self.kind, payload))

    def validate(self, raise_on_mismatch: bool = True) -> ValidationReport:
        """Run the stored validation input and compare with the stored expected outputs."""
        data = load_validation(self.home, self.kind)
        actual = self.predict(data.input)
        report = _compare(self._loaded, actual, data.expected)
        if raise_on_mismatch and not report.passed:
            raise ValidationFailed(self.name, report)
        return report

    @property
    def dataplane(self) -> Dataplane:
        # Built lazily: validation data may not exist yet (save_validation writes it).
        if self._dataplane is None:
            self._dataplane = Dataplane.for_home(self._loaded, self.home)
        return self._dataplane


def save_validation(home: str | Path, input: ModelInput) -> ValidationReport:
    """Run the model on `input` and store input and outputs as the home's validation data."""
    model = Model.from_home(home)
    expected = model.predict(input)
    write_validation(model.home, model.kind, input, expected)
    return model.validate()


def _compare(loaded: LoadedModel, actual: ModelOutput, expected: ModelOutput) -> ValidationReport:
    config = loaded.config
    if loaded.kind == "dataframe":
        return compare_dataframes(
            _as_frame(actual), _as_frame(expected), rtol=config.rtol, atol=config.atol
        )
    return compare_tensors(
        _as_tensors(actual), _as_tensors(expected), rtol=config.rtol, atol=config.atol
    )


def _as_frame(value: ModelOutput) -> pd.DataFrame:
    assert not isinstance(value, dict)
    return value


def _as_tensors(value: ModelOutput) -> dict[str, np.ndarray]:
    assert isinstance(value, dict)
    return value


__all__ = ["Model", "ValidationFailed", "codec", "save_validation"]
