"""Train the breast cancer example and write its home folder (model + validation data).

    python examples/train_breast_cancer.py [HOME]

Uses sklearn's bundled dataset (no download). Deterministic: the same weights every run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import joblib
import pandas as pd
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import pyml

DEFAULT_HOME = Path(__file__).parent / "breast_cancer_lr"


def features() -> pd.DataFrame:
    """The dataset's 569 rows of 30 float64 features, with sklearn's column names."""
    return load_breast_cancer(as_frame=True).data


def train(home: Path) -> None:
    data = load_breast_cancer(as_frame=True)
    pipeline = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    pipeline.fit(data.data, data.target)
    joblib.dump(pipeline, home / "model.joblib")
    # Every 10th row: a sample that covers both classes.
    report = pyml.save_validation(home, data.data.iloc[::10].reset_index(drop=True))
    print(f"trained {home.name}: {report.rows} validation rows written to {home}/validation")


if __name__ == "__main__":
    train(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_HOME)
