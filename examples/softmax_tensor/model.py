"""Softmax regression on named numpy arrays: a Tensor model (numpy only)."""

import numpy as np

from pyml import TensorModel


class SoftmaxRegression(TensorModel):
    def __init__(self, home: str):
        with np.load(f"{home}/weights.npz", allow_pickle=False) as weights:
            self.weights = weights["weights"]  # (4, 3) float32
            self.bias = weights["bias"]  # (3,) float32

    def predict(self, tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        logits = tensors["x"] @ self.weights + self.bias
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        probabilities = (exp / exp.sum(axis=1, keepdims=True)).astype(np.float32)
        return {
            "probabilities": probabilities,
            "label": probabilities.argmax(axis=1).astype(np.int64),
            "rows": np.array(len(logits), dtype=np.int64),  # a 0-d output
        }
