"""The one exception the offline job raises for the user's mistakes and the model's failures."""

from __future__ import annotations


class OfflineJobError(RuntimeError):
    """The job refused to start or failed; the destination table is as it was before."""
