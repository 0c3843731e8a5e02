"""The README's notebook flow, as a data scientist runs it with PyML installed from its wheels
(tests/release/test_installed.py runs this file with that virtualenv's Python, outside the
checkout): train, write a home, save validation data, validate, package (image), deploy to a
running gateway, predict, an offline job over a Hive table, undeploy.

    python notebook_flow.py WORK_DIR GATEWAY_ADDRESS

Prints one JSON line: where pyml was imported from, the image tag, what was compared.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import pyml

NAME = "dist_cancer"
MODEL = """
import joblib
import pandas as pd

from pyml import DataFrameModel


class Cancer(DataFrameModel):
    def __init__(self, home: str):
        self.pipeline = joblib.load(f"{home}/model.joblib")

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"malignant_proba": self.pipeline.predict_proba(df)[:, 0]})
"""


def write_home(home: Path) -> pd.DataFrame:
    data = load_breast_cancer(as_frame=True)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    pipeline.fit(data.data, data.target)
    home.mkdir()
    joblib.dump(pipeline, home / "model.joblib")
    (home / "model.py").write_text(MODEL)
    (home / "requirements.txt").write_text("scikit-learn>=1.9\njoblib\n")
    (home / "pyml.toml").write_text(f'name = "{NAME}"\n')
    pyml.save_validation(home, data.data.sample(50, random_state=0))
    return data.data


def main(work: Path, gateway: str) -> None:
    rows = write_home(work / NAME)
    model = pyml.Model.from_home(work / NAME)
    model.validate()
    local = model.predict(rows.head(20))

    version = model.package(progress=False)
    version.deploy(gateway=gateway)
    client = pyml.Client(gateway)
    online = client.predict(NAME, rows.head(20))
    pd.testing.assert_frame_equal(online, local, check_exact=True)

    cells = rows.head(100).assign(id=np.arange(100, dtype="int64"))
    pyml.import_table(cells, "dist.cells")
    summary = version.predict_offline(
        "SELECT * FROM dist.cells", "dist.predictions", key_columns=["id"], progress=False
    )
    stored = offline_rows(Path(pyml_home()) / "warehouse")
    expected = model.predict(rows.head(100))["malignant_proba"].to_numpy()
    assert np.array_equal(stored, expected), "offline predictions differ from the local ones"
    print(
        json.dumps(
            {
                "pyml_file": pyml.__file__,
                "image": version.image["tag"],
                "online_rows": len(online),
                "offline_rows": summary.rows_predicted,
            }
        )
    )


def offline_rows(warehouse: Path) -> np.ndarray:
    """dist.predictions' malignant_proba in id order, read from its files (no Spark)."""
    table = pq.read_table(warehouse / "tables" / "dist.db" / "predictions").to_pandas()
    return table.sort_values("id")["malignant_proba"].to_numpy()


def pyml_home() -> str:
    import os

    return os.environ["PYML_HOME"]


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2])
