"""`make demo`: train the examples, validate, package, start the gateway, deploy the packaged
version as a container (and the tensor example as a process), predict over gRPC; then the
offline part: the example's source table `cancer.cells`, Spark batch predictions in the same
image into `cancer.predictions`, and a parity check against the gateway, which stays up for it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table
from sklearn.datasets import load_breast_cancer

import pyml
from pyml._internal.gateway_process import start_gateway
from pyml.version import ModelVersion
from pyml_offline.spec import WriteMode

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SOURCE, DEST, KEY = "cancer.cells", "cancer.predictions", "id"
# Runs this file's host-side Spark steps in a child process (see `warehouse_step`).
WAREHOUSE_STEP = "--warehouse-step"
console = Console()
# Where the gateway's HTTP port serves its web console.
CONSOLE_PATH = "/console"


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
        # Development mode for the tensor model's home folder, run as a local process. A new
        # state folder each run: its identities are this run's (a token is shown only once).
        state = Path(tempfile.mkdtemp(prefix="pyml-demo-state-"))
        gateway = start_gateway(
            ["--state-dir", str(state)], gateway_id="pyml-demo", home_deploy_roots=[tensor.home]
        )
    console.print(f"gateway serving gRPC on {gateway.target} (pid {gateway.process.pid})")
    try:
        sign_in(gateway.target, gateway.http_port)
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
            # The gateway stays up: the parity check predicts the offline rows through it.
            offline(version, client)
    finally:
        gateway.stop()
        shutil.rmtree(state, ignore_errors=True)
    console.print("[bold green]demo finished[/bold green]: gateway, containers and runtime stopped")


def sign_in(target: str, http_port: int) -> None:
    """The first token, a gateway admin's, turns authentication on; the demo uses it."""
    with pyml.Client(target) as local:
        token, info = local.create_token("demo", gateway_admin=True)
    # Every client of this process (the SDK's deploys, the parity check) finds it here.
    os.environ["PYML_TOKEN"] = token
    console.print(
        f"[green]✓[/green] signed in as {info.identity} (gateway admin); from now on every "
        f"call needs a token. Token (shown once): {token}"
    )
    console.print(f"console: http://127.0.0.1:{http_port}{CONSOLE_PATH} (sign in with the token)")


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


def offline(version: ModelVersion, client: pyml.Client) -> None:
    step(f"6. The offline source table: {SOURCE} from the bundled dataset")
    with tempfile.TemporaryDirectory(prefix="pyml-demo-") as scratch:
        # The helper behind `pyml offline-sample-table`, run by the host's pyspark.
        with console.status(f"creating {SOURCE} with the host's pyspark"):
            done = run_warehouse_step("prepare", Path(scratch))
        prepared = json.loads((done / "prepare.json").read_text())
    console.print(f"[green]✓[/green] {SOURCE}: {prepared['rows']} rows in $PYML_HOME/warehouse")
    # The default mode refuses an existing table; a rerun of the demo replaces its own.
    mode: WriteMode = "overwrite" if prepared["dest_exists"] else "error"
    if prepared["dest_exists"]:
        console.print(f"{DEST} exists (an earlier demo): mode='overwrite'")

    step(f"7. Offline: Spark in {version.ref}'s own image → {DEST}")
    summary = version.predict_offline(
        query=f"SELECT * FROM {SOURCE}", dest_table=DEST, key_columns=[KEY], mode=mode
    )
    console.print(f"[green]✓[/green] {summary.text()}", highlight=False)

    step("8. Parity: the Hive table against the gateway, bit for bit")
    with tempfile.TemporaryDirectory(prefix="pyml-demo-") as scratch:
        with console.status(f"reading {SOURCE} and {DEST} with the host's pyspark"):
            read = run_warehouse_step("read", Path(scratch))
        cells = pq.read_table(read / f"{SOURCE}.parquet").to_pandas()
        stored = pq.read_table(read / f"{DEST}.parquet").to_pandas()
        properties = json.loads((read / f"{DEST}.json").read_text())
    online = client.predict(version.name, cells.drop(columns=KEY), version=version.version)
    assert isinstance(online, pd.DataFrame)
    parity = compare(cells[KEY], online, stored)
    show_parity(parity, properties)
    if not parity.ok:
        raise SystemExit(f"offline and online predictions differ: {parity}")


@dataclass(frozen=True)
class Parity:
    rows: int
    online_rows: int
    offline_rows: int
    identical: int
    max_abs_diff: float

    @property
    def ok(self) -> bool:
        return 0 < self.rows == self.online_rows == self.offline_rows == self.identical


def compare(keys: pd.Series, online: pd.DataFrame, stored: pd.DataFrame) -> Parity:
    """Online and offline outputs joined by the key; identical means the same float64 bits."""
    online = online.assign(**{KEY: keys.to_numpy()})
    joined = online.merge(stored, on=KEY, suffixes=("_online", "_offline"), validate="1:1")
    proba = [
        joined[f"malignant_proba_{side}"].to_numpy(np.float64) for side in ("online", "offline")
    ]
    same_bits = proba[0].view(np.uint64) == proba[1].view(np.uint64)
    same_label = joined["malignant_online"].to_numpy() == joined["malignant_offline"].to_numpy()
    return Parity(
        rows=len(joined),
        online_rows=len(online),
        offline_rows=len(stored),
        identical=int((same_bits & same_label).sum()),
        max_abs_diff=float(np.abs(proba[0] - proba[1]).max(initial=0.0)),
    )


def show_parity(parity: Parity, properties: dict[str, str]) -> None:
    table = Table("rows (joined by id)", "identical", "max abs diff", title="online vs offline")
    mark = "[green]✓[/green]" if parity.ok else "[red]✗[/red]"
    table.add_row(f"{parity.rows:,}", f"{mark} {parity.identical:,}", f"{parity.max_abs_diff:g}")
    console.print(table)
    model = f"{properties['pyml.model.name']}:{properties['pyml.model.version']}"
    console.print(f"{DEST} was written by {model}, image {properties['pyml.image.id'][:19]}")


def run_warehouse_step(action: str, out: Path) -> Path:
    """`warehouse_step` in a child process; its files land in `out`.

    Derby, the metastore's database, admits one JVM at a time and its lock goes with the
    JVM, not with `spark.stop()`: the host's Spark must be gone before the job's container
    opens the metastore. Capturing the output also waits for the child's JVM (it holds the
    pipes) and keeps Spark's start-up warnings out of the demo's output.
    """
    argv = [sys.executable, __file__, WAREHOUSE_STEP, action, str(out)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        console.print(done.stdout[-3000:], done.stderr[-3000:], markup=False, highlight=False)
        raise SystemExit(f"the host's Spark step {action!r} failed (exit {done.returncode})")
    return out


def warehouse_step(action: str, out: Path) -> None:
    """The host's pyspark on $PYML_HOME/warehouse, as a user opens it (`open_warehouse`).

    prepare: (re)create the source table with PyML's helper; tell whether the destination
    exists. read: the source and destination tables as Arrow (the stored values, no pandas
    in between) and the destination's table properties.
    """
    from pyml_offline.sample_tables import create_cancer_table
    from pyml_offline.session import open_warehouse
    from pyml_offline.tables import TableName, table_exists, table_properties

    spark = open_warehouse()
    try:
        if action == "prepare":
            rows = create_cancer_table(spark, SOURCE)
            exists = table_exists(spark, TableName.parse(DEST))
            (out / "prepare.json").write_text(json.dumps({"rows": rows, "dest_exists": exists}))
        else:
            for table in (SOURCE, DEST):
                pq.write_table(spark.table(table).toArrow(), out / f"{table}.parquet")
            properties = table_properties(spark, TableName.parse(DEST))
            (out / f"{DEST}.json").write_text(json.dumps(properties))
    finally:
        spark.stop()


if __name__ == "__main__":
    if sys.argv[1:2] == [WAREHOUSE_STEP]:
        warehouse_step(sys.argv[2], Path(sys.argv[3]))
    else:
        main()
