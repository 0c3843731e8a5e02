"""`make demo`: train the examples, validate, package, start the gateway, deploy the packaged
version as a container (and the tensor example as a process), predict over gRPC."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.datasets import load_breast_cancer

import pyml
from pyml._internal.gateway_process import start_gateway

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
console = Console()


def step(title: str) -> None:
    console.rule(f"[bold]{title}")


def main() -> None:
    step("1. Train the examples and write their home folders")
    for script in ("train_breast_cancer.py", "make_softmax_tensor.py"):
        subprocess.run([sys.executable, str(EXAMPLES / script)], check=True)

    step("2. Validate in-process (the model reproduces its validation data)")
    cancer = pyml.Model.from_home(EXAMPLES / "breast_cancer_lr")
    tensor = pyml.Model.from_home(EXAMPLES / "softmax_tensor")
    for model in (cancer, tensor):
        report = model.validate()
        console.print(f"[green]✓[/green] {model.name} ({model.kind}): {report.rows} rows match")

    step("3. Package breast_cancer_lr: an immutable version and its image, validated inside it")
    version = cancer.package()
    console.print(f"[green]✓[/green] {version.ref} → {version.image['tag']}")

    step("4. Start the gateway; deploy the version as a container, the tensor model as a process")
    with console.status("starting the gateway (java -jar gateway-java/target/pyml-gateway.jar)"):
        # Its own id: the gateway removes containers left by an earlier run of the same id.
        gateway = start_gateway(gateway_id="pyml-demo")
    console.print(f"gateway serving gRPC on {gateway.target} (pid {gateway.process.pid})")
    try:
        started = time.monotonic()
        info = version.deploy(gateway=gateway.target)
        console.print(
            f"[green]✓[/green] {info.model_name}:{info.model_version} {info.state} in "
            f"{time.monotonic() - started:.1f} s (container of {info.image[:19]})"
        )
        with pyml.Client(gateway.target) as client:
            started = time.monotonic()
            with console.status(f"deploying {tensor.name}…"):
                info = client.deploy(tensor.home)
            elapsed = time.monotonic() - started
            console.print(f"[green]✓[/green] {info.model_name} {info.state} in {elapsed:.1f} s")
            predict(client)
    finally:
        gateway.stop()
    console.print("[bold green]demo finished[/bold green]: gateway, container and runtime stopped")


def predict(client: pyml.Client) -> None:
    step("5. Predict over gRPC through the gateway")
    data = load_breast_cancer(as_frame=True)
    rows = data.data.sample(8, random_state=0)
    online = client.predict("breast_cancer_lr", rows)
    table = Table("row", "true class", "malignant_proba", "malignant")
    for index, (_, out) in zip(rows.index, online.iterrows(), strict=True):  # type: ignore[union-attr]
        truth = "malignant" if data.target[index] == 0 else "benign"
        table.add_row(str(index), truth, f"{out['malignant_proba']:.4f}", str(out["malignant"]))
    console.print(table)

    x = np.random.default_rng(0).normal(size=(3, 4)).astype(np.float32)
    tensors = client.predict("softmax_tensor", {"x": x})
    assert isinstance(tensors, dict)
    console.print("softmax_tensor probabilities:\n", tensors["probabilities"])
    console.print("labels:", tensors["label"], " rows (a 0-d tensor):", tensors["rows"])


if __name__ == "__main__":
    main()
