"""`pyml` command line: the only place the SDK parses argv."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="PyML: validate, deploy and call Python models.", no_args_is_help=True)
console = Console()
GatewayOption = Annotated[
    str, typer.Option("--gateway", "-g", envvar="PYML_GATEWAY", help="gateway host:port")
]


@app.command()
def validate(home: Path) -> None:
    """Run a model home's validation data in-process and compare with the expected outputs."""
    from pyml.model import Model

    model = Model.from_home(home)
    report = model.validate(raise_on_mismatch=False)
    if not report.passed:
        console.print(f"[red]✗ {model.name}: validation failed[/red]\n{report.diff}")
        raise typer.Exit(1)
    console.print(f"[green]✓ {model.name}[/green] ({model.kind}): {report.rows} rows match")


@app.command()
def deploy(
    home: Path,
    gateway: GatewayOption = "localhost:7070",
    name: Annotated[str | None, typer.Option(help="model name (default: from the home)")] = None,
) -> None:
    """Deploy a model home to a gateway and wait until it is READY."""
    from pyml.client import Client

    with Client(gateway) as client, console.status(f"deploying {home} to {gateway}…"):
        info = client.deploy(home, name=name)
    console.print(f"[green]✓ {info.model_name}[/green] is {info.state} on {gateway}")


@app.command()
def undeploy(name: str, gateway: GatewayOption = "localhost:7070") -> None:
    """Stop serving a model."""
    from pyml.client import Client

    with Client(gateway) as client:
        client.undeploy(name)
    console.print(f"{name} undeployed")


@app.command()
def deployments(gateway: GatewayOption = "localhost:7070") -> None:
    """List the gateway's deployments and their states."""
    from pyml.client import Client

    with Client(gateway) as client:
        rows = client.deployments()
    table = Table("model", "version", "kind", "state", "reason")
    for d in rows:
        table.add_row(d.model_name, str(d.model_version), d.kind, d.state, d.reason)
    console.print(table)


@app.command()
def predict(
    model: str,
    input_file: Annotated[Path, typer.Argument(help=".parquet or .csv (DataFrame), .npz")],
    gateway: GatewayOption = "localhost:7070",
    output: Annotated[Path | None, typer.Option(help="write outputs (.parquet/.npz)")] = None,
) -> None:
    """Send a file's rows (or arrays) to a deployed model and show or save the outputs."""
    from pyml._internal.files import read_input, show_output, write_output
    from pyml.client import Client

    with Client(gateway) as client:
        result = client.predict(model, read_input(input_file))
    if output is not None:
        write_output(result, output)
        console.print(f"outputs written to {output}")
    else:
        show_output(console, result)


@app.command()
def gateway(
    grpc_port: Annotated[int, typer.Option(help="gRPC port")] = 7070,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
) -> None:
    """Run the gateway in the foreground (the jar built by `make gateway-jar`)."""
    from pyml._internal.gateway_process import default_runtime_command, gateway_jar

    argv = ["java", "-jar", str(gateway_jar()), "--grpc-port", str(grpc_port), "--host", host]
    argv += ["--runtime-command", default_runtime_command()]
    os.execvp("java", argv)


if __name__ == "__main__":
    app()
