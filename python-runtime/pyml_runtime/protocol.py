"""The sidecar protocol's version (the gateway ⇄ runtime API, protos/pyml/v1/runtime.proto).

A model image carries the runtime it was packaged with; the gateway that serves it may be of
another PyML. Each side says which protocol it speaks in GetMetadata (the gateway in the
request, the runtime in the answer) and refuses one it cannot serve, so a mismatch is one
clear failure of the deployment instead of calls that break in odd ways later.

Raise the number when a change of runtime.proto or of what the messages mean would make one
side misunderstand the other (a field that must be understood, a changed meaning); a field
the other side may safely ignore needs no new number.
"""

from __future__ import annotations

from pyml_runtime import __version__
from pyml_runtime.errors import ErrorKind, PymlError

PROTOCOL_VERSION = 1
"""The sidecar protocol this runtime speaks. 0 on the wire: a peer from before versioning."""

RUNTIME_VERSION_TRAILER = "pyml-runtime-version"
PROTOCOL_TRAILER = "pyml-sidecar-protocol"


def accepts(gateway_protocol: int) -> bool:
    """The one rule of which gateways this runtime serves: those of exactly its protocol.

    Why exactly: there is one protocol so far, so no older one is known to be safe to serve;
    a gateway from before versioning (0) cannot check the runtime, so it is refused here.
    When protocol 2 comes, this is where a runtime that can still serve 1 says so.
    """
    return gateway_protocol == PROTOCOL_VERSION


def refusal(model: str, gateway_protocol: int, gateway_version: str) -> PymlError:
    """The answer to a gateway this runtime cannot serve: both sides' versions, by name."""
    before = " (from before versioning)" if gateway_protocol == 0 else ""
    gateway = f"the gateway (PyML {gateway_version})" if gateway_version else "the gateway"
    return PymlError(
        ErrorKind.PROTOCOL_MISMATCH,
        f"model '{model}': this runtime (PyML {__version__}) speaks sidecar protocol "
        f"{PROTOCOL_VERSION}, {gateway} speaks sidecar protocol {gateway_protocol}{before}: "
        "they cannot talk",
    )


def refusal_trailers() -> tuple[tuple[str, str], ...]:
    """What the runtime is, for the gateway to word its own message without parsing text."""
    return ((RUNTIME_VERSION_TRAILER, __version__), (PROTOCOL_TRAILER, str(PROTOCOL_VERSION)))
