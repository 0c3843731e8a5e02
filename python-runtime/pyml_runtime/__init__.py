"""The PyML model runtime: loads a model home and serves it on a Unix socket (the sidecar)."""

__version__ = "0.1.0"
