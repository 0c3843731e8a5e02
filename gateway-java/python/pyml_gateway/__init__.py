"""PyML's gateway jar, carried by this distribution (``pip install 'pyml[gateway]'``).

`pyml gateway` runs it with ``java -jar`` (Java 17 or newer); `pyml images gateway` puts it in
the gateway image. Only `make dist` puts the jar in: a checkout has none here.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__version__ = "0.1.0"


def jar() -> Path:
    """Where the jar is (it may be missing in a source tree)."""
    return Path(str(files(__name__) / "pyml-gateway.jar"))
