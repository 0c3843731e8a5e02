"""`pyml.Model`: a model home folder loaded in this process, the data scientist's handle.

`predict` goes through the runtime's own dataplane (Arrow encode → decode → schema check →
predict → encode → decode), the same code the sidecar runs, so what a notebook sees is what
the gateway and the Spark job will answer.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from pyml._internal.payloads import ModelInput, ModelOutput, decode_payload, encode_payload

if TYPE_CHECKING:
    from pyml.version import ModelVersion
    from pyml_launcher.requirements import UnlistedImport
from pyml.contract import ModelKind
from pyml_runtime.dataplane import Dataplane
from pyml_runtime.loader import LoadedModel, load_model
from pyml_runtime.validation import ValidationReport, write_validation


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
        self._dataplane = Dataplane.for_home(loaded, home)

    @classmethod
    def from_home(cls, home: str | Path) -> Model:
        """Load `model.py`'s one contract class from the folder and instantiate it."""
        path = Path(home).resolve()
        return cls(path, load_model(path))

    @staticmethod
    def from_registry(name: str, version: int | None = None) -> ModelVersion:
        """A registered version (the newest ready one when `version` is None)."""
        from pyml.registry import Registry
        from pyml.version import ModelVersion

        registry = Registry.default()
        return ModelVersion(registry.get(name, version), registry)

    @property
    def name(self) -> str:
        return self._loaded.name

    @property
    def kind(self) -> ModelKind:
        """ "dataframe" or "tensors"."""
        return self._loaded.kind

    def __repr__(self) -> str:
        return f"Model(name={self.name!r}, kind={self.kind!r}, home='{self.home}')"

    def predict(self, data: ModelInput) -> ModelOutput:
        """Predict on a DataFrame (DataFrame models) or a dict of arrays (Tensor models)."""
        kind = self._loaded.kind
        payload = encode_payload(kind, data)
        return decode_payload(kind, self._dataplane.predict_arrow(kind, payload))

    def validate(self, raise_on_mismatch: bool = True) -> ValidationReport:
        """Run the stored validation input through the serving path and compare outputs.

        With `batching = true` in pyml.toml, the rows are also predicted one by one and
        together, and answers that differ fail the validation (`report.batching`)."""
        # Re-read the home's validation files: they may have been written since loading.
        self._dataplane = Dataplane.for_home(self._loaded, self.home)
        report = self._dataplane.run_validation()
        if raise_on_mismatch and not report.passed:
            raise ValidationFailed(self.name, report)
        return report

    def check_requirements(self) -> None:
        """What the image build would miss, caught here: raises `UnlistedImports` for modules
        the code imports that nothing provides; warns `RequirementsDrift` where
        requirements.txt excludes the version installed here (the image would compute with
        another version than the one that trained the model)."""
        from pyml_launcher.requirements import pinned_requirements, unlisted_imports

        found = unlisted_imports(self.home)
        if found:
            raise UnlistedImports(self.name, found)
        for drift in pinned_requirements(self.home).drift:
            warnings.warn(
                f"model '{self.name}': requirements.txt asks for {drift.name}{drift.asked}, "
                f"but {drift.installed} is installed here: the image would compute with "
                "another version than the one that trained the model",
                RequirementsDrift,
                stacklevel=2,
            )

    def package(
        self,
        name: str | None = None,
        *,
        base_image: str | None = None,
        allow_no_validation: bool = False,
        progress: bool = True,
    ) -> ModelVersion:
        """Register a new immutable version and build its image, validated at build time."""
        from pyml.version import package_home

        self.check_requirements()  # seconds here, instead of a failed image build later
        if not allow_no_validation:
            self.validate()
        return package_home(
            self.home,
            name or self.name,
            base_image=base_image,
            allow_no_validation=allow_no_validation,
            progress=progress,
        )


class RequirementsDrift(UserWarning):
    """requirements.txt asks for a version other than the one that trained the model here."""


class UnlistedImports(ValueError):
    """The home's code imports modules that nothing in its image would provide."""

    def __init__(self, model: str, found: list[UnlistedImport]) -> None:
        described = "; ".join(
            f"{item.where} imports '{item.module}' ("
            + (f"{item.distribution} {item.version} here" if item.distribution else "not installed")
            + ")"
            for item in found
        )
        super().__init__(
            f"model '{model}': {described}, which no line of requirements.txt provides: "
            "the image would not have it"
        )
        self.found = found
        self.hint = "add to requirements.txt: " + ", ".join(item.requirement() for item in found)


class OneSidedValidation(UserWarning):
    """Validation rows that check little: a column with one value, in the input or outputs."""


def save_validation(home: str | Path, input: ModelInput) -> ValidationReport:
    """Run the model on `input` and store input and outputs as the home's validation data.

    Warns (`OneSidedValidation`) when a column of the rows or of the model's answers holds a
    single value: the first rows of sorted data often do, and then a model that predicts one
    class for everything passes its own validation.
    """
    model = Model.from_home(home)
    expected = model.predict(input)
    if isinstance(input, pd.DataFrame) and isinstance(expected, pd.DataFrame):
        _warn_if_one_sided(model.name, input, expected)
    write_validation(model.home, model.kind, input, expected)
    return model.validate()


def _warn_if_one_sided(name: str, rows: pd.DataFrame, outputs: pd.DataFrame) -> None:
    if len(rows) < 2:
        return
    found = [
        f"{side} '{column}' is {_shown(frame[column].iloc[0])} in all {len(frame)} rows"
        for side, frame in (("output", outputs), ("input", rows))
        for column in frame.columns
        if frame[column].nunique(dropna=False) == 1
    ]
    if found:
        shown = "; ".join(found[:5]) + (f"; and {len(found) - 5} more" if len(found) > 5 else "")
        warnings.warn(
            f"model '{name}': the validation rows are one-sided: {shown}. Rows from one end of "
            "sorted data check little; pass a sample, e.g. df.sample(50, random_state=0)",
            OneSidedValidation,
            stacklevel=3,
        )


def _shown(value: object) -> str:
    item = getattr(value, "item", None)  # a numpy scalar as the plain value it holds
    text = repr(item() if callable(item) else value)
    return text if len(text) <= 40 else text[:39] + "…"


__all__ = [
    "Model",
    "OneSidedValidation",
    "RequirementsDrift",
    "UnlistedImports",
    "ValidationFailed",
    "save_validation",
]
