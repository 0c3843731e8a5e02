"""`pyml.Model`: a model home folder loaded in this process, the data scientist's handle.

`predict` goes through the runtime's own dataplane (Arrow encode → decode → schema check →
predict → encode → decode), the same code the sidecar runs, so what a notebook sees is what
the gateway and the Spark job will answer.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from pyml._internal.payloads import ModelInput, ModelOutput, decode_payload, encode_payload

if TYPE_CHECKING:
    from pyml.version import ModelVersion
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

        if not allow_no_validation:
            self.validate()  # seconds here, instead of a failed image build minutes later
        return package_home(
            self.home,
            name or self.name,
            base_image=base_image,
            allow_no_validation=allow_no_validation,
            progress=progress,
        )


def save_validation(home: str | Path, input: ModelInput) -> ValidationReport:
    """Run the model on `input` and store input and outputs as the home's validation data."""
    model = Model.from_home(home)
    expected = model.predict(input)
    write_validation(model.home, model.kind, input, expected)
    return model.validate()


__all__ = ["Model", "ValidationFailed", "save_validation"]
