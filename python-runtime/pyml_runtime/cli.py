"""`pyml-runtime`: the only place the runtime's argv is parsed.

pyml-runtime serve --home DIR --socket PATH [--name NAME] [--socket-lock-seconds S]
                   [--workers N]
    exit 0 after SIGTERM/SIGINT, 1 when the model cannot be loaded or served; with N > 1
    runtime workers (`pyml_runtime.workers`), the code of a worker that ended on its own
pyml-runtime --version
    its PyML version and sidecar protocol
pyml-runtime validate --home DIR
    exit 0 when the outputs match, 1 with the diff when they do not (or the model raised),
    2 when the model or its validation data cannot be loaded
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
    from pyml_runtime.errors import PymlError

EXIT_MISMATCH = 1
EXIT_LOAD_ERROR = 2

app = typer.Typer(
    name="pyml-runtime",
    help="The PyML model runtime: serves one model home on a Unix socket.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _show_version(wanted: bool) -> None:
    if wanted:
        from pyml_runtime import __version__
        from pyml_runtime.protocol import PROTOCOL_VERSION

        # What an image's runtime is: `docker run --rm --entrypoint pyml-runtime IMAGE --version`.
        print(f"pyml-runtime {__version__} (sidecar protocol {PROTOCOL_VERSION})")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_show_version,
            is_eager=True,
            help="Print the runtime's PyML version and sidecar protocol, then exit.",
        ),
    ] = False,
) -> None:
    """The PyML model runtime: serves one model home on a Unix socket."""


HomeOption = Annotated[
    Path,
    typer.Option("--home", help="The model home folder (model.py, validation/, ...)."),
]


@app.command()
def serve(
    home: HomeOption,
    socket: Annotated[Path, typer.Option("--socket", help="Unix socket path to listen on.")],
    name: Annotated[
        str | None, typer.Option("--name", help="Model name (default: pyml.toml or folder).")
    ] = None,
    socket_lock_seconds: Annotated[
        float,
        typer.Option(
            "--socket-lock-seconds",
            help="Model containers: load the model only once the launcher made the socket's "
            "folder read-only, waiting at most this long (0: do not wait).",
        ),
    ] = 0.0,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            help="Runtime workers: processes that each load the model and serve on a socket "
            "of their own beside --socket (default: PYML_RUNTIME_WORKERS, else 1).",
        ),
    ] = None,
) -> None:
    """Load the model and serve pyml.v1.ModelRuntime and grpc.health.v1 on a Unix socket."""
    from pyml_runtime import grpc_core
    from pyml_runtime import workers as runtime_workers

    _configure_logging()
    try:
        count = runtime_workers.worker_count(workers, os.environ)
        cpus = runtime_workers.worker_cpus(count, os.environ)  # before the pools are sized
    except ValueError as exc:
        print(f"pyml-runtime: invalid runtime setting: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    runtime_workers.limit_native_threads(count, os.environ)
    grpc_core.use_polling_listener(os.environ)  # before any worker imports grpcio
    if count == 1:
        if cpus:  # no thread started yet: every thread of the runtime inherits it
            runtime_workers.run_on(cpus[0])
        _serve_one(home, socket, name, socket_lock_seconds, None)
        return

    def run_worker(index: int) -> int:
        if cpus:  # the forked worker's only thread, before its server or model starts any
            runtime_workers.run_on(cpus[index])
        socket_path = runtime_workers.worker_socket(socket, index)
        _serve_one(home, socket_path, name, socket_lock_seconds, index)
        return 0

    stop = threading.Event()
    with runtime_workers.signals_set(stop):
        code = runtime_workers.supervise(run_worker, count, stop)
    raise SystemExit(code)


def _serve_one(
    home: Path, socket: Path, name: str | None, socket_lock_seconds: float, worker: int | None
) -> None:
    """One runtime in this process (`worker`: its index under a supervisor, else None)."""
    from pyml_runtime.errors import PymlError
    from pyml_runtime.server import report_load_failure
    from pyml_runtime.server import serve as run_server
    from pyml_runtime.workers import watch_parent

    stop = threading.Event()
    if worker is not None:
        watch_parent(stop)
    try:
        run_server(
            home, socket, name, stop=stop, socket_lock_seconds=socket_lock_seconds, worker=worker
        )
    except PymlError as error:
        report_load_failure(error)
        raise SystemExit(1) from None


@app.command()
def validate(
    home: HomeOption,
    name: Annotated[
        str | None, typer.Option("--name", help="Model name (default: pyml.toml or folder).")
    ] = None,
    allow_no_validation_data: Annotated[
        bool, typer.Option(help="a home without validation data passes once its model loads")
    ] = False,
) -> None:
    """Run the stored validation input through the serving path and compare the outputs."""
    from pyml_runtime.dataplane import Dataplane
    from pyml_runtime.errors import ErrorKind, PymlError
    from pyml_runtime.loader import load_model
    from pyml_runtime.validation import has_validation, load_validation

    _configure_logging()
    try:
        model = load_model(home, name)
        if allow_no_validation_data and not has_validation(model.home, model.kind):
            if model.config.batching.enabled:
                raise PymlError(
                    ErrorKind.NO_VALIDATION_DATA,
                    f"model '{model.name}' sets batching = true in pyml.toml but has no "
                    "validation data to prove that its rows can be predicted together",
                )
            print(f"model '{model.name}': loads; no validation data, outputs not checked")
            return
        dataplane = Dataplane(model, load_validation(model.home, model.kind))
    except PymlError as error:
        _fail(error, EXIT_LOAD_ERROR)
    try:
        report = dataplane.run_validation()
    except PymlError as error:
        # The model raised or returned something unusable: the validation ran and failed.
        code = EXIT_MISMATCH if error.kind is ErrorKind.MODEL_ERROR else EXIT_LOAD_ERROR
        _fail(error, code)
    if report.passed:
        print(f"model '{model.name}': validation passed ({report.rows} rows)")
        if report.batching is not None:
            print(
                f"model '{model.name}': batching check passed ({report.batching.rows} rows "
                "predicted one by one and together agree)"
            )
        return
    print(f"model '{model.name}': validation FAILED ({report.rows} rows)\n{report.diff}")
    raise SystemExit(EXIT_MISMATCH)


def _fail(error: PymlError, code: int) -> NoReturn:
    print(f"pyml-runtime: {error.kind.name}: {error.message}", file=sys.stderr)
    raise SystemExit(code)


def _configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def main() -> None:
    app()


if __name__ == "__main__":
    main()
