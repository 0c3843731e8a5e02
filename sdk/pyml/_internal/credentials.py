"""Where the SDK and the CLI find the caller's gateway token.

`PYML_TOKEN` wins; else the file `pyml login` writes, `$PYML_HOME/token` (default `~/.pyml`),
readable by its owner only. No token at all is fine for a gateway without identities
(loopback, development); a gateway with identities answers UNAUTHENTICATED.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV = "PYML_TOKEN"


def token_file() -> Path:
    return Path(os.environ.get("PYML_HOME") or "~/.pyml").expanduser() / "token"


def find_token() -> str | None:
    """The token from the environment or the token file; None when there is none."""
    from_env = os.environ.get(ENV, "").strip()
    if from_env:
        return from_env
    path = token_file()
    try:
        text = path.read_text(encoding="ascii").strip()
    except (FileNotFoundError, PermissionError, UnicodeDecodeError):
        return None
    return text or None


def save_token(token: str) -> Path:
    """Writes the token file, created owner-only before the secret goes in."""
    path = token_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(token.strip() + "\n")
    return path


def bearer_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    """gRPC metadata that carries the token (none without one)."""
    return (("authorization", f"Bearer {token}"),) if token else ()
