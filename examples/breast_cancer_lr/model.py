"""Breast cancer logistic regression: a DataFrame model (the README's example)."""

import joblib
import pandas as pd

from pyml import DataFrameModel


class BreastCancer(DataFrameModel):
    def __init__(self, home: str):
        self.pipeline = joblib.load(f"{home}/model.joblib")
        self.features = list(self.pipeline.feature_names_in_)

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        # Class 0 of sklearn's breast cancer data is "malignant".
        proba = self.pipeline.predict_proba(df[self.features])[:, 0]
        return pd.DataFrame({"malignant_proba": proba, "malignant": proba >= 0.5})
