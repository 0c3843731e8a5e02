"""Model homes for the registry tests, and helpers that child processes import (spawn)."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import tarfile
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import pyml
from pyml.registry import LocalStorage, Registry, VersionRecord

DATAFRAME_MODEL = """
    import pandas as pd
    from pyml import DataFrameModel

    class Scaler(DataFrameModel):
        def __init__(self, home: str) -> None:
            with open(f"{home}/factor.txt") as file:
                self.factor = float(file.read())

        def predict(self, df: pd.DataFrame) -> pd.DataFrame:
            return pd.DataFrame({"y": df["x"] * self.factor, "label": df["name"]})
"""

TENSOR_MODEL = """
    import numpy as np
    from pyml import TensorModel

    class Doubler(TensorModel):
        def __init__(self, home: str) -> None:
            pass

        def predict(self, tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            return {"doubled": tensors["x"] * 2}
"""


def write_home(folder: Path, model_py: str, **files: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "model.py").write_text(textwrap.dedent(model_py).lstrip())
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


def dataframe_home(folder: Path) -> Path:
    home = write_home(folder, DATAFRAME_MODEL, **{"factor.txt": "2.5"})
    rows = pd.DataFrame({"x": [1.0, 2.0, 3.5], "name": ["a", "b", "c"]})
    pyml.save_validation(home, rows)
    return home


def tensor_home(folder: Path) -> Path:
    home = write_home(folder, TENSOR_MODEL)
    pyml.save_validation(home, {"x": np.arange(6, dtype=np.float32).reshape(3, 2)})
    return home


def tar_gz(*members: tuple[tarfile.TarInfo, bytes | None]) -> bytes:
    """A tar.gz made of exactly these entries (for archives no honest registry writes)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return buffer.getvalue()


def entry(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def store_raw_version(
    root: Path, name: str, archive: bytes, files: dict[str, str], template: VersionRecord
) -> str:
    """Write a ready version whose manifest matches `archive` byte for byte, as if registered."""
    record = dataclasses.replace(
        template,
        name=name,
        version=1,
        status="ready",
        archive_sha256=hashlib.sha256(archive).hexdigest(),
        archive_size_bytes=len(archive),
        files=files,
        image={"id": "sha256:x", "digest": None, "tag": "t", "size_bytes": 1},
    )
    storage = LocalStorage(root)
    prefix = f"models/{name}/versions/1"
    storage.write(f"{prefix}/building.json", record.to_json().encode())
    storage.write(f"{prefix}/home.tar.gz", archive)
    storage.write(f"{prefix}/manifest.json", record.to_json().encode())
    return record.ref


def version_file(root: Path, name: str, version: int, file: str = "home.tar.gz") -> Path:
    """Where the local registry at `root` keeps a version's file (the documented layout)."""
    return root / "models" / name / "versions" / str(version) / file


def create_many(root: str, home: str, count: int, start: Any, results: Any) -> None:
    """One racing process: `count` create_version calls on the same name, at the same time."""
    registry = Registry(LocalStorage(Path(root)))
    start.wait()
    versions = [registry.create_version("racer", Path(home)).version for _ in range(count)]
    results.put(versions)
