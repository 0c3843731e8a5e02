"""The runtime is the lowest Python layer: every pyml_runtime module imports with `pyml` gone.

Model images, the offline job and the SDK all stand on pyml_runtime; an import of the SDK from
the runtime would make a cycle (the SDK imports the runtime) and drag the SDK into every runtime.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pyml_runtime

# Runs in a fresh interpreter: `pyml` (and any submodule) fails to import, then every
# pyml_runtime module is imported; the first failure is printed and fails the process.
_IMPORT_ALL_WITHOUT_PYML = """
import importlib, sys
sys.modules["pyml"] = None  # "import pyml" and "from pyml.x import y" now raise ImportError
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except ImportError as error:
        sys.exit(f"{name}: {error}")
"""


def _runtime_modules() -> list[str]:
    found = pkgutil.walk_packages(pyml_runtime.__path__, prefix="pyml_runtime.")
    # __main__ would run the CLI; it imports only pyml_runtime.cli.
    names = sorted(module.name for module in found if not module.name.endswith(".__main__"))
    return ["pyml_runtime", *names]


def test_the_runtime_imports_nothing_from_the_sdk() -> None:
    modules = _runtime_modules()
    assert "pyml_runtime.servicer" in modules and "pyml_runtime.loader" in modules

    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_ALL_WITHOUT_PYML, *modules],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr


def test_the_sdk_re_exports_the_runtime_contract_and_stubs() -> None:
    import pyml
    import pyml.contract
    import pyml.v1.payload_pb2
    from pyml.v1 import runtime_pb2_grpc
    from pyml_runtime import contract
    from pyml_runtime.v1 import payload_pb2
    from pyml_runtime.v1 import runtime_pb2_grpc as runtime_grpc

    assert pyml.DataFrameModel is pyml.contract.DataFrameModel is contract.DataFrameModel
    assert pyml.TensorModel is pyml.contract.TensorModel is contract.TensorModel
    assert pyml.v1.payload_pb2 is payload_pb2
    assert runtime_pb2_grpc is runtime_grpc
