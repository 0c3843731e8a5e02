"""The registry's errors: every one is a `RegistryError`, re-exported by `pyml.registry`.

Messages name the model, the version and the bad value, and say what was expected, so the
CLI can print them as they are.
"""

from __future__ import annotations


class RegistryError(Exception):
    """Anything the registry refuses or cannot find."""


class InvalidName(RegistryError, ValueError):
    """A model name or version reference that the registry does not accept."""


class VersionNotFound(RegistryError, LookupError):
    """No such model, version, or no ready version; the message lists what exists."""


class ImmutableVersion(RegistryError):
    """An attempt to change a version that is already ready or failed."""


class NoValidationData(RegistryError):
    """A home without validation data, registered without `allow_no_validation=True`."""


class UnsafeArchive(RegistryError):
    """An archive entry that would escape the destination or is not a plain file or folder."""


class TamperedArtifact(RegistryError):
    """A stored archive or file whose sha256 differs from the one in the manifest."""

    def __init__(self, ref: str, artifact: str, message: str) -> None:
        super().__init__(message)
        self.ref = ref
        self.artifact = artifact
