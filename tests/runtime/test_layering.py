"""The runtime is the lowest Python layer: every pyml_runtime module imports with `pyml` gone.

Model images, the offline job and the SDK all stand on pyml_runtime; an import of the SDK from
the runtime would make a cycle (the SDK imports the runtime) and drag the SDK into every runtime.
tests/packaging runs the same check inside a model image.
"""

from __future__ import annotations

import subprocess
import sys

# Runs in a fresh interpreter (here or in a model image): `pyml` and its submodules fail to
# import, then every pyml_runtime module is imported (not __main__, which would run the CLI);
# the failures are printed and fail the process.
IMPORT_RUNTIME_WITHOUT_SDK = """
import importlib, pkgutil, sys
sys.modules["pyml"] = None  # "import pyml" and "from pyml.x import y" now raise ImportError
import pyml_runtime
names = [m.name for m in pkgutil.walk_packages(pyml_runtime.__path__, "pyml_runtime.")]
failures = []
for name in sorted(names):
    if not name.endswith(".__main__"):
        try:
            importlib.import_module(name)
        except ImportError as error:
            failures.append(f"{name}: {error}")
print(len(names), "modules")
sys.exit("\\n".join(failures) or None)
"""


def test_the_runtime_imports_nothing_from_the_sdk() -> None:
    result = subprocess.run(
        [sys.executable, "-c", IMPORT_RUNTIME_WITHOUT_SDK],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert int(result.stdout.split()[0]) > 10  # the walk found the package's modules


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
