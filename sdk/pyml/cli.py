"""`pyml` command line: the only place the SDK parses argv."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="PyML: validate, deploy and call Python models.", no_args_is_help=True)
models_app = typer.Typer(help="Registered models and their versions.")
images_app = typer.Typer(help="Docker images PyML builds.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(images_app, name="images")
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
def package(
    home: Path,
    name: Annotated[str | None, typer.Option(help="model name (default: from the home)")] = None,
    base_image: Annotated[str | None, typer.Option(help="base image (default: see docs)")] = None,
    allow_no_validation: Annotated[
        bool, typer.Option(help="package a home that has no validation data")
    ] = False,
) -> None:
    """Register a new version of a model home and build its image, validated at build."""
    from pyml.model import Model
    from pyml.version import PackagingFailed

    model = Model.from_home(home)
    try:
        version = model.package(
            name, base_image=base_image, allow_no_validation=allow_no_validation
        )
    except PackagingFailed as error:
        console.print(f"[red]✗ {error}[/red]")
        raise typer.Exit(1) from None
    image = version.image
    size_mb = image.get("size_bytes", 0) / 1e6
    console.print(
        f"[green]✓ {version.ref}[/green] packaged: image {image.get('tag')} "
        f"({image.get('id', '')[:19]}, {size_mb:.0f} MB, built in {image.get('build_seconds')} s)"
    )


@models_app.callback(invoke_without_command=True)
def models(context: typer.Context) -> None:
    """List registered models and their versions."""
    if context.invoked_subcommand is not None:
        return
    from pyml.registry import Registry

    registry = Registry.default()
    table = Table("model", "versions", "newest", "status", "image")
    for name in registry.names():
        versions = registry.versions(name)
        newest = versions[-1]
        image = (newest.image or {}).get("tag", "")
        table.add_row(name, str(len(versions)), str(newest.version), newest.status, image)
    console.print(table)


@models_app.command("show")
def models_show(ref: Annotated[str, typer.Argument(help="NAME or NAME:VERSION")]) -> None:
    """Show one version's manifest."""
    from pyml.registry import Registry

    registry = Registry.default()
    name, version = registry.parse_ref(ref)
    console.print_json(registry.get(name, version).to_json())


@images_app.command("base")
def images_base(
    rebuild: Annotated[bool, typer.Option(help="build it again even if it exists")] = False,
) -> None:
    """Build PyML's base image from Debian packages (no container registry needed)."""
    from pyml_launcher.base_image import ensure_base_image

    tag = ensure_base_image(rebuild=rebuild)
    console.print(f"[green]✓[/green] base image {tag}")


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
    thrift_port: Annotated[int, typer.Option(help="Thrift port")] = 7071,
    oip_port: Annotated[int, typer.Option(help="Open Inference Protocol gRPC port")] = 8001,
    host: Annotated[str, typer.Option(help="address to bind")] = "127.0.0.1",
) -> None:
    """Run the gateway in the foreground (the jar built by `make gateway-jar`)."""
    from pyml._internal.gateway_process import default_runtime_command, gateway_jar

    argv = ["java", "-jar", str(gateway_jar()), "--grpc-port", str(grpc_port), "--host", host]
    argv += ["--thrift-port", str(thrift_port), "--oip-port", str(oip_port)]
    argv += ["--runtime-command", default_runtime_command()]
    os.execvp("java", argv)


if __name__ == "__main__":
    app()
