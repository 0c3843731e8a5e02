"""Peer benchmark: MLServer 1.7 (mlserver-sklearn) against PyML on the breast cancer example.

    make bench-peers            # or: .venv/bin/python -m bench.peers [--quick] [...]

One run, both servers one after the other on the same cores, each with its default settings:
h2load on each native gRPC API with a pre-encoded request frame (PyML's pyml.v1 Predict through
the gateway to the model's container, MLServer's V2 ModelInfer), Triton's perf_analyzer on each
Open Inference Protocol port, and the in-process floor (two processes calling predict_proba).
See bench/peers/README.md for what is measured and how failures are counted.
"""
