"""`pyml` command line: the only place the SDK parses argv."""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import re
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

app = typer.Typer(help="PyML: validate, deploy and call Python models.", no_args_is_help=True)
models_app = typer.Typer(help="Registered models and their versions.")
images_app = typer.Typer(help="Docker images PyML builds.", no_args_is_help=True)
app.add_typer(models_app, name="models")
app.add_typer(images_app, name="images")
tokens_app = typer.Typer(help="Gateway tokens: who may call.", no_args_is_help=True)
grants_app = typer.Typer(help="Who may predict with, deploy or administer a model.")
app.add_typer(tokens_app, name="tokens")
app.add_typer(grants_app, name="grants")
table_app = typer.Typer(help="Hive tables in PyML's embedded warehouse.", no_args_is_help=True)
app.add_typer(table_app, name="table")
console = Console()
GatewayOption = Annotated[
    str, typer.Option("--gateway", "-g", envvar="PYML_GATEWAY", help="gateway host:port")
]


class OnStop(StrEnum):
    """What a stopped gateway does with its model containers (the gateway's --on-stop)."""

    stop = "stop"
    leave = "leave"


@app.command()
def doctor() -> None:
    """What this machine has of what PyML uses (SDK, runtime, gateway, Java, Docker, Spark),
    with versions, and the step that adds what is missing. Exits 1 if anything is missing."""
    from pyml._internal.doctor import examine

    findings = examine()
    table = Table("part", "", "version / where", show_header=False, box=None)
    table.columns[2].overflow = "fold"  # a path or a hint is kept whole, never cut with …
    for finding in findings:
        mark = "[green]✓[/green]" if finding.ok else "[red]✗[/red]"
        # Text, not markup: the hints hold brackets ('pyml[thrift]').
        table.add_row(finding.part, mark, Text(finding.found or finding.missing))
    console.print(table)
    missing = [f.part for f in findings if not f.ok]
    if missing:
        console.print(f"missing: {', '.join(missing)}", highlight=False)
        raise typer.Exit(1)


@app.command()
def validate(home: Path) -> None:
    """Run a model home's validation data in-process and compare with the expected outputs."""
    from pyml.model import Model

    model = Model.from_home(home)
    with _warnings_shown():
        model.check_requirements()
    report = model.validate(raise_on_mismatch=False)
    if not report.passed:
        console.print(f"[red]✗ {model.name}: validation failed[/red]\n{report.diff}")
        raise typer.Exit(1)
    console.print(f"[green]✓ {model.name}[/green] ({model.kind}): {report.rows} rows match")
    if report.batching is not None:
        console.print(
            f"[green]✓ batching[/green]: {report.batching.rows} rows predicted one by one "
            "and together agree"
        )


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
        with _warnings_shown():
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
    batching = (version.record.validation or {}).get("batching") or {}
    if batching.get("enabled"):
        console.print(
            f"  batching on (max_rows {batching.get('max_rows')}, max_delay_ms "
            f"{batching.get('max_delay_ms')}): {batching.get('rows_checked')} validation rows "
            "predicted one by one and together agree"
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


@images_app.command("gateway")
def images_gateway(
    no_cache: Annotated[bool, typer.Option(help="run every step afresh (cold build)")] = False,
) -> None:
    """Build the gateway's image (JRE 17 + the gateway jar) for `pyml gateway --container`."""
    from pyml._internal.gateway_process import GatewayStartError, gateway_jar
    from pyml_launcher.errors import ImageBuildError
    from pyml_launcher.gateway_image import build_gateway_image

    try:
        built = build_gateway_image(gateway_jar(), no_cache=no_cache)
    except (GatewayStartError, ImageBuildError) as error:
        console.print(f"✗ {error}", style="red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    console.print(f"[green]✓[/green] gateway image {built.tag} (also :latest)")


@app.command()
def deploy(
    target: Annotated[
        str, typer.Argument(help="NAME[:VERSION] from the registry (with --home: a folder)")
    ],
    gateway: GatewayOption = "localhost:7070",
    home: Annotated[
        bool,
        typer.Option(
            "--home",
            help="serve TARGET, a model home folder, as a local process of the gateway's "
            "machine (development: the gateway must allow it with --home-deploy-root)",
        ),
    ] = False,
    name: Annotated[str | None, typer.Option(help="model name of a home folder")] = None,
    replicas: Annotated[int, typer.Option(help="runtimes serving the model")] = 1,
    memory: Annotated[str | None, typer.Option(help="memory per container, e.g. 512m")] = None,
    cpus: Annotated[float | None, typer.Option(help="CPUs per container")] = None,
    pids: Annotated[int | None, typer.Option(help="processes per container")] = None,
) -> None:
    """Deploy a registered version (containers), or with --home a folder (process); wait for
    READY."""
    from pyml.client import Client, DeploymentFailed, DeploymentInfo, Resources

    deployed: str | Path = _home_target(target, name) if home else _registry_target(target)
    limits = (memory, cpus, pids)
    resources = None if limits == (None, None, None) else Resources(memory, cpus, pids)
    with Client(gateway) as client, console.status(f"deploying {target} to {gateway}…") as status:

        def show(info: DeploymentInfo) -> None:
            status.update(
                f"deploying {target} to {gateway}: {info.state} "
                f"({info.ready_replicas}/{info.replicas} replicas ready)"
            )

        try:
            info = client.deploy(
                deployed, name=name, replicas=replicas, resources=resources, progress=show
            )
        except DeploymentFailed as exc:  # its reason, then the runtime's last log lines
            console.print(f"[red]✗[/red] {exc}")
            raise typer.Exit(1) from None
    console.print(
        f"[green]✓ {info.model_name}:{info.model_version}[/green] is {info.state} on {gateway}"
    )


def _registry_target(target: str) -> str:
    """NAME[:VERSION]: always the registry's, even beside a folder of that name."""
    from pyml.registry import parse_ref

    try:
        name, version = parse_ref(target)
    except ValueError:
        raise CommandError(
            f"'{target}' is not a registered model's NAME or NAME:VERSION",
            f"to serve a model home folder as a local process: pyml deploy --home {target}",
        ) from None
    if Path(target).is_dir():
        console.print(
            f"[yellow]![/yellow] deploying the registered model '{target}'; the folder "
            f"./{target} is not used (pyml deploy --home {target} serves the folder)"
        )
    return name if version is None else f"{name}:{version}"


def _home_target(target: str, name: str | None) -> Path:
    """A model home folder, with a warning when it shadows a registered model's name."""
    from pyml.registry import Registry
    from pyml_runtime.config import load_config

    folder = Path(target)
    if not folder.is_dir():
        raise CommandError(
            f"{target} is not a model home folder",
            "--home takes a folder; without it, TARGET is NAME[:VERSION] from the registry",
        )
    served = name or load_config(folder).name or folder.resolve().name
    if served in Registry.default().names():
        console.print(
            f"[yellow]![/yellow] '{served}' is a registered model: this serves the folder "
            f"{target} as a local process instead (pyml deploy {served} serves the registry's)"
        )
    return folder


@app.command()
def undeploy(name: str, gateway: GatewayOption = "localhost:7070") -> None:
    """Stop serving a model."""
    from pyml.client import Client

    with Client(gateway) as client:
        client.undeploy(name)
    console.print(f"{name} undeployed")


@app.command()
def deployments(gateway: GatewayOption = "localhost:7070") -> None:
    """List the gateway's deployments: state, version, replicas, uptime, restarts, image."""
    from pyml.client import Client

    with Client(gateway) as client:
        rows = client.deployments()
    table = Table("model", "version", "state", "replicas", "uptime", "restarts", "image", "reason")
    for d in rows:
        table.add_row(
            d.model_name,
            str(d.model_version),
            d.state,
            f"{d.ready_replicas}/{d.replicas}",
            _duration(d.uptime_seconds) if d.ready_since_ms else "-",
            str(d.restarts),
            d.image[:19] if d.image else "(process)",
            d.reason,
        )
    console.print(table)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


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
def offline(
    ref: Annotated[str, typer.Argument(help="NAME or NAME:VERSION (a packaged model)")],
    query: Annotated[str, typer.Option(help="Spark SQL query giving the model's input rows")],
    dest_table: Annotated[str, typer.Option(help="Hive table to write: db.table")],
    key: Annotated[
        list[str] | None, typer.Option(help="column copied next to the predictions (repeat)")
    ] = None,
    mode: Annotated[str, typer.Option(help="error (default), overwrite or append")] = "error",
) -> None:
    """Batch predictions with Spark, in the model's own image: SQL in, Hive table out."""
    from pyml.model import Model
    from pyml.registry import Registry
    from pyml_offline.errors import OfflineJobError
    from pyml_offline.spec import WRITE_MODES

    if mode not in WRITE_MODES:
        console.print(f"[red]✗ --mode {mode}: expected one of {', '.join(WRITE_MODES)}[/red]")
        raise typer.Exit(2)
    version = Model.from_registry(*Registry.parse_ref(ref))
    try:
        summary = version.predict_offline(
            query,
            dest_table,
            key_columns=tuple(key or ()),
            mode=mode,
        )
    except OfflineJobError as error:
        console.print(f"✗ {_cli_syntax(str(error))}", style="red", markup=False, highlight=False)
        raise typer.Exit(1) from None
    console.print(f"[green]✓[/green] {version.ref} → {summary.text()}", highlight=False)


@app.command("offline-sample-table")
def offline_sample_table(
    table: Annotated[str, typer.Option(help="db.table to (re)create")] = "cancer.cells",
    rows: Annotated[int | None, typer.Option(help="resample to N rows with noise")] = None,
) -> None:
    """Create the example's source table from sklearn's breast cancer data (with an `id`)."""
    import subprocess
    import sys

    # Its own process: Derby's metastore lock goes with the JVM, not with the session.
    argv = [sys.executable, "-m", "pyml_offline.sample_tables", "--table", table]
    argv += ["--rows", str(rows)] if rows is not None else []
    raise typer.Exit(subprocess.run(argv, check=False).returncode)


@table_app.command("import")
def table_import(
    source: Annotated[Path, typer.Argument(help="a .parquet or .csv file")],
    table: Annotated[str, typer.Option(help="db.table to create in the embedded warehouse")],
    mode: Annotated[str, typer.Option(help="error (default), overwrite or append")] = "error",
) -> None:
    """Make a Hive table (PyML's embedded warehouse) from a Parquet or CSV file's rows."""
    from pyml_offline.errors import OfflineJobError
    from pyml_offline.spec import WRITE_MODES
    from pyml_offline.table_import import import_table

    if mode not in WRITE_MODES:
        raise CommandError(f"--mode {mode}", f"--mode takes one of {', '.join(WRITE_MODES)}")
    console.print(f"importing {source} into {table} (Spark, about 20 s)…", highlight=False)
    try:
        rows = import_table(source, table, mode)
    except OfflineJobError as error:
        raise CommandError(_cli_syntax(str(error)), "'pyml table import --help'") from None
    console.print(f"[green]✓[/green] {table}: {rows} rows", highlight=False)


def _cli_syntax(message: str) -> str:
    """A job's hint in the CLI's words: mode='overwrite' → --mode overwrite."""
    return re.sub(r"mode='(\w+)'", r"--mode \1", message)


@app.command()
def gateway(
    ctx: typer.Context,
    grpc_port: Annotated[int, typer.Option(help="gRPC port")] = 7070,
    thrift_port: Annotated[int, typer.Option(help="Thrift port")] = 7071,
    oip_port: Annotated[int, typer.Option(help="Open Inference Protocol gRPC port")] = 8001,
    http_port: Annotated[int, typer.Option(help="HTTP port (/metrics, V2 REST, console)")] = 7080,
    host: Annotated[str, typer.Option(help="address to bind (the jar)")] = "127.0.0.1",
    container: Annotated[
        bool, typer.Option(help="run the gateway image as a container (ports on 127.0.0.1)")
    ] = False,
    image: Annotated[str, typer.Option(help="gateway image (--container)")] = "pyml/gateway:latest",
    gateway_id: Annotated[str, typer.Option(help="label of its model containers")] = "default",
    shutdown_grace: Annotated[
        float | None,
        typer.Option(
            help="seconds the calls in flight get to finish on SIGTERM/SIGINT "
            "(default: the gateway's, 30)",
            min=0,
        ),
    ] = None,
    on_stop: Annotated[
        OnStop | None,
        typer.Option(
            help="on SIGTERM/SIGINT, once calls in flight are done: stop the model containers, "
            "or leave them for the next gateway of the same id to adopt (default: stop)",
        ),
    ] = None,
    home_deploy_roots: Annotated[
        list[Path] | None,
        typer.Option(
            "--home-deploy-root",
            metavar="DIR",
            help="development only: allow `deploy HOME` of home folders under this folder "
            "(runs their code on this machine; repeatable; default: none, refused)",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            metavar="FILE",
            help="TOML file of the jar's settings, keys named as its flags (docs/gateway.toml); "
            "it wins over this command's defaults, an option given here wins over it",
        ),
    ] = None,
) -> None:
    """Run the gateway in the foreground: the jar (pyml[gateway], or `make gateway-jar` in a
    checkout) on Java 17+, or its image (--container).

    SIGTERM or SIGINT (Ctrl-C) stops it: no new calls, the calls in flight finish within
    --shutdown-grace, then the model containers are stopped or left (--on-stop).
    """
    from pyml._internal.gateway_process import (
        default_runtime_command,
        gateway_jar,
        home_deploy_args,
        java_command,
    )
    from pyml_launcher import gateway_jvm

    if container and home_deploy_roots:
        console.print("✗ the gateway container serves registered versions only", style="red")
        raise typer.Exit(2)
    if container and config:
        console.print("✗ --config is for the jar; the gateway container takes flags", style="red")
        raise typer.Exit(2)
    stop_args = [] if on_stop is None else ["--on-stop", on_stop.value]
    if container:
        ports = {"grpc": grpc_port, "thrift": thrift_port, "oip": oip_port, "http": http_port}
        raise typer.Exit(_gateway_container(image, ports, gateway_id, shutdown_grace, stop_args))
    if shutdown_grace is not None:
        stop_args += ["--shutdown-grace-ms", str(round(shutdown_grace * 1000))]
    java = java_command()
    jar = gateway_jar()
    argv = [java, *gateway_jvm.JVM_OPTIONS, *gateway_jvm.class_archive(jar), "-jar", str(jar)]
    argv += ["--grpc-port", str(grpc_port), "--host", host]
    argv += ["--thrift-port", str(thrift_port), "--oip-port", str(oip_port)]
    argv += ["--http-port", str(http_port), "--gateway-id", gateway_id]
    argv += ["--runtime-command", default_runtime_command()]
    argv += home_deploy_args(home_deploy_roots or []) + stop_args
    argv = _with_config_file(ctx, argv, config) if config else argv
    # The JVM replaces this process: SIGTERM/SIGINT reach it directly (no one to forward them).
    os.execve(java, argv, {**os.environ, **gateway_jvm.ENV})


# The jar's flags that `pyml gateway` sets from its own options, and those options' names.
_GATEWAY_OPTIONS = {
    "--grpc-port": "grpc_port",
    "--host": "host",
    "--thrift-port": "thrift_port",
    "--oip-port": "oip_port",
    "--http-port": "http_port",
    "--gateway-id": "gateway_id",
}


def _with_config_file(ctx: typer.Context, argv: list[str], config: Path) -> list[str]:
    """`argv` with `--config`, less the flags this command set from its own defaults: the
    jar takes a flag over the file, so a default passed as a flag would hide the file's value.
    The runtime command (this virtualenv's) is dropped when the file sets one."""
    import tomllib

    try:
        in_file = tomllib.loads(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        in_file = {}  # the jar reports the file's problem, naming its line
    start = argv.index("-jar") + 2
    kept = argv[:start]
    for flag, value in zip(argv[start::2], argv[start + 1 :: 2], strict=True):
        option = _GATEWAY_OPTIONS.get(flag)
        source = ctx.get_parameter_source(option) if option else None
        defaulted = source is not None and source.name == "DEFAULT"
        if not defaulted and not (flag == "--runtime-command" and "runtime-command" in in_file):
            kept += [flag, value]
    return [*kept, "--config", str(config.resolve())]


def _gateway_container(
    image: str,
    ports: dict[str, int],
    gateway_id: str,
    shutdown_grace: float | None,
    stop_args: list[str],
) -> int:
    """Start the gateway container, follow its log until SIGTERM or SIGINT, then stop it as
    `docker stop` does (with time for the calls in flight) and remove it."""
    from pyml._internal.gateway_container import (
        StopRequested,
        StopSignals,
        follow_until_stopped,
        start_gateway_container,
    )
    from pyml._internal.gateway_process import GatewayStartError
    from pyml.registry import registry_root

    registry = registry_root()
    # From the start: a supervisor's SIGTERM while the container starts must not leave it.
    with StopSignals() as signals:
        try:
            with console.status("starting the gateway container…"):
                gateway = start_gateway_container(
                    image,
                    registry_dir=registry,
                    gateway_id=gateway_id,
                    host_ports=ports,
                    shutdown_grace=shutdown_grace,
                    extra_args=stop_args,
                )
        except GatewayStartError as error:
            console.print(f"✗ {error}", style="red", markup=False, highlight=False)
            return 1
        except StopRequested:
            return 0  # start_gateway_container removed what it had started
        served = ", ".join(f"{name} 127.0.0.1:{port}" for name, port in gateway.ports.items())
        console.print(f"[green]✓[/green] {gateway.name} serving {served}; registry {registry}")
        console.file.flush()
        return follow_until_stopped(gateway, sys.stdout, signals)


# --- identities: who may do what on a gateway ---------------------------------------------------


@app.command()
def login(
    token: Annotated[str, typer.Argument(help="a token from 'pyml tokens create'")],
    gateway: GatewayOption = "localhost:7070",
) -> None:
    """Check a token against the gateway and keep it in $PYML_HOME/token (owner-only)."""
    from pyml._internal.credentials import save_token
    from pyml.client import Client

    with Client(gateway, token=token) as client:
        me = client.whoami()
    path = save_token(token)
    console.print(f"[green]✓[/green] signed in to {gateway} as {me.identity}; token kept in {path}")


@app.command()
def whoami(gateway: GatewayOption = "localhost:7070") -> None:
    """Who the current token names on the gateway."""
    from pyml.client import Client

    with Client(gateway) as client:
        me = client.whoami()
    if not me.authentication:
        console.print(
            f"{me.identity}: the gateway has no identities (loopback only, all may do all)"
        )
        return
    console.print(me.identity + (" (gateway admin)" if me.gateway_admin else ""))


@tokens_app.command("create")
def tokens_create(
    identity: Annotated[str, typer.Argument(help="who the token is for")],
    admin: Annotated[
        bool, typer.Option("--admin", help="make the identity a gateway admin")
    ] = False,
    gateway: GatewayOption = "localhost:7070",
) -> None:
    """Make a token (gateway admins; the first token, an admin's, turns authentication on)."""
    from pyml.client import Client

    with Client(gateway) as client:
        token, info = client.create_token(identity, gateway_admin=admin)
    console.print(f"[green]✓[/green] token {info.id} for {info.identity}; shown once, keep it:")
    print(token)


@tokens_app.command("list")
def tokens_list(gateway: GatewayOption = "localhost:7070") -> None:
    """Tokens (all for gateway admins, your own otherwise), never their secrets."""
    from pyml.client import Client

    with Client(gateway) as client:
        rows = client.tokens()
    table = Table("id", "identity", "created", "revoked")
    for t in rows:
        revoked = _when(t.revoked_at_ms) if t.revoked_at_ms else "-"
        table.add_row(t.id, t.identity, _when(t.created_at_ms), revoked)
    console.print(table)


@tokens_app.command("revoke")
def tokens_revoke(token_id: str, gateway: GatewayOption = "localhost:7070") -> None:
    """Revoke a token by its id (yours, or any for gateway admins); it stops working at once."""
    from pyml.client import Client

    with Client(gateway) as client:
        client.revoke_token(token_id)
    console.print(f"token {token_id} revoked")


@grants_app.command("add")
def grants_add(
    model: Annotated[str, typer.Argument(help="model name, or '*' for every model")],
    identity: str,
    permission: Annotated[str, typer.Argument(help="predict, deploy or admin")],
    gateway: GatewayOption = "localhost:7070",
) -> None:
    """Give IDENTITY PERMISSION on MODEL (replacing its grant there); each includes the lesser."""
    from pyml.client import Client

    with Client(gateway) as client:
        grant = client.grant(model, identity, permission)
    console.print(f"{grant.identity} may now {grant.permission} on {grant.model_name}")


@grants_app.command("remove")
def grants_remove(model: str, identity: str, gateway: GatewayOption = "localhost:7070") -> None:
    """Take IDENTITY's grant on MODEL away."""
    from pyml.client import Client

    with Client(gateway) as client:
        client.revoke_grant(model, identity)
    console.print(f"{identity} no longer holds a grant on {model}")


@grants_app.command("list")
def grants_list(
    model: Annotated[str, typer.Argument(help="one model (default: all you may see)")] = "",
    gateway: GatewayOption = "localhost:7070",
) -> None:
    """Grants you may see: all for gateway admins, those of models you administer, your own."""
    from pyml.client import Client

    with Client(gateway) as client:
        rows = client.grants(model)
    table = Table("model", "identity", "permission", "granted by", "when")
    for g in rows:
        table.add_row(g.model_name, g.identity, g.permission, g.granted_by, _when(g.granted_at_ms))
    console.print(table)


@app.command()
def audit(
    model: Annotated[str, typer.Option(help="one model's entries only")] = "",
    limit: Annotated[int, typer.Option(help="newest entries to show (at most 1000)")] = 50,
    gateway: GatewayOption = "localhost:7070",
) -> None:
    """The audit log, newest first: admin actions and refused calls."""
    from pyml.client import Client

    with Client(gateway) as client:
        rows = client.audit(model, limit)
    table = Table("#", "when", "who", "action", "model", "version", "outcome", "detail")
    for e in rows:
        version = str(e.model_version) if e.model_version else ""
        table.add_row(
            str(e.seq),
            _when(e.at_ms),
            e.identity,
            e.action,
            e.model_name,
            version,
            e.outcome,
            e.detail,
        )
    console.print(table)


def _when(epoch_ms: int) -> str:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


# --- failures: one line and a hint, the traceback only with --debug -----------------------------


@contextlib.contextmanager
def _warnings_shown() -> Iterator[None]:
    """PyML's warnings as one `!` line each, not Python's file:line: UserWarning form."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        try:
            yield
        finally:
            for warning in caught:
                console.print(f"[yellow]![/yellow] {warning.message}", highlight=False)


class CommandError(ValueError):
    """A command used wrongly: its message, and the hint that says what to type instead."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


DEBUG_FLAG = "--debug"


def _show_version(wanted: bool) -> None:
    if wanted:
        import pyml_runtime
        from pyml_runtime.protocol import PROTOCOL_VERSION

        version = importlib.metadata.version("pyml")
        runtime = pyml_runtime.__version__
        print(f"pyml {version} (runtime {runtime}, sidecar protocol {PROTOCOL_VERSION})")
        raise typer.Exit()


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option(DEBUG_FLAG, help="on failure, show the traceback too (any position)")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="print PyML's version, its runtime's and the sidecar protocol, then exit",
        ),
    ] = False,
) -> None:
    """PyML: validate, deploy and call Python models."""
    # --debug is read by main() before the command line is parsed, wherever it stands; it is
    # declared here so that --help lists it.


def main() -> None:
    """The `pyml` command. A failure prints one `✗` line with a hint and exits 1."""
    debug = DEBUG_FLAG in sys.argv[1:]
    if debug:
        sys.argv = [arg for arg in sys.argv if arg != DEBUG_FLAG]
    try:
        app()
    except Exception as error:  # every failure a person meets: one line, not a traceback
        if debug:
            raise
        console.print(f"[red]✗[/red] {_one_line(error)}", highlight=False, soft_wrap=True)
        console.print(f"  hint: {_hint(error)}", style="dim", highlight=False, soft_wrap=True)
        sys.exit(1)


def _one_line(error: Exception) -> str:
    from pyml.client import RemoteError

    text = error.details if isinstance(error, RemoteError) else str(error)
    return " ".join(text.split()) or type(error).__name__


def _hint(error: Exception) -> str:
    from pyml._internal.gateway_process import GatewayStartError
    from pyml._internal.registry_errors import RegistryError
    from pyml.client import RemoteError

    again = f"run again with {DEBUG_FLAG} for the traceback"
    hint = getattr(error, "hint", None)
    if isinstance(hint, str):  # CommandError, UnlistedImports: errors that know what to do
        return hint
    if isinstance(error, RemoteError):
        by_code = {
            "UNAVAILABLE": "is a gateway running there? start one with 'pyml gateway', or "
            "point --gateway (or PYML_GATEWAY) at it",
            "NOT_FOUND": "'pyml deployments' lists what the gateway serves, 'pyml models' "
            "what the registry holds",
            "UNAUTHENTICATED": "set PYML_TOKEN or run 'pyml login TOKEN'",
            "PERMISSION_DENIED": "ask a gateway admin or the model's admin for a grant",
            "DEADLINE_EXCEEDED": "the gateway did not answer in time; 'pyml deployments' "
            "shows the model's state",
        }
        return by_code.get(error.code.name, again)
    if isinstance(error, RegistryError):
        return "'pyml models' lists the registry ($PYML_HOME/registry)"
    if isinstance(error, GatewayStartError):
        return "the lines above say why the gateway stopped"
    return again


if __name__ == "__main__":
    main()
