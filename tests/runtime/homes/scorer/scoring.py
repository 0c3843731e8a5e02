"""A helper module next to model.py: the home folder is on sys.path."""

from pathlib import Path


def read_weight(home: str) -> float:
    return float((Path(home) / "weight.txt").read_text())
