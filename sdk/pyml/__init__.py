"""PyML: one model home folder → a local copy, an online endpoint and Spark batch predictions.

Only the public API lives here. The contract classes are imported eagerly (every model.py
needs them); the rest loads on first use so that `from pyml import DataFrameModel` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pyml.contract import DataFrameModel, TensorModel

if TYPE_CHECKING:
    from pyml.client import Client, DeploymentFailed, RemoteError, Resources
    from pyml.model import Model, OneSidedValidation, save_validation
    from pyml.thrift_client import ThriftClient
    from pyml.version import ModelVersion
    from pyml_offline.table_import import import_table

__all__ = [
    "Client",
    "DataFrameModel",
    "DeploymentFailed",
    "Model",
    "ModelVersion",
    "OneSidedValidation",
    "RemoteError",
    "Resources",
    "TensorModel",
    "ThriftClient",
    "import_table",
    "save_validation",
]

_LAZY = {
    "Client": "pyml.client",
    "DeploymentFailed": "pyml.client",
    "RemoteError": "pyml.client",
    "Resources": "pyml.client",
    "Model": "pyml.model",
    "OneSidedValidation": "pyml.model",
    "ModelVersion": "pyml.version",
    "save_validation": "pyml.model",
    "ThriftClient": "pyml.thrift_client",
    "import_table": "pyml_offline.table_import",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'pyml' has no attribute {name!r}")
