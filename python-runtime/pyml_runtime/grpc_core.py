"""gRPC core's settings for the runtime's server, made before grpcio is imported: gRPC core
reads them from the environment once, when it starts.

grpcio 1.85 accepts connections and reads them on its event engine's own threads, which then
wake the server's polling thread, which wakes a pool thread to run the call. The older poller
(`-event_engine_listener`) reads on the polling thread itself: one cross-thread wake-up less a
call. Measured through a grpc-java hop over a Unix socket (the gateway's way), an empty answer
at one call at a time: p50 760 -> 643 µs and 557 -> 443 µs of server CPU a call
(docs/decisions.md, "The runtime's gRPC poller").
"""

from __future__ import annotations

from collections.abc import MutableMapping

EXPERIMENTS_ENV = "GRPC_EXPERIMENTS"
POLLING_LISTENER = "-event_engine_listener"


def use_polling_listener(environ: MutableMapping[str, str]) -> None:
    """Asks gRPC core for the listener that reads on the polling thread, unless the model's
    image already sets gRPC's experiments (then they are its choice). Model code runs in the
    same process and its child processes inherit the setting; it concerns only servers."""
    environ.setdefault(EXPERIMENTS_ENV, POLLING_LISTENER)
