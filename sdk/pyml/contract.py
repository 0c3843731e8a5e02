"""The model contract, re-exported from the runtime that owns it (`pyml_runtime.contract`).

The same class objects, not copies: a class deriving from `pyml.DataFrameModel` is a
`pyml_runtime.contract.DataFrameModel` for the runtime's loader and `isinstance` checks.
"""

from pyml_runtime.contract import ContractClass, DataFrameModel, ModelKind, TensorModel

__all__ = ["ContractClass", "DataFrameModel", "ModelKind", "TensorModel"]
