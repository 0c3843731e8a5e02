"""Spark batch predictions with a model's own image: SQL in, Hive table out.

`job` is the Spark job (the same `Dataplane.predict_table` the online sidecar runs, per Arrow
batch), `runner` starts it in a registered version's image, `session.open_warehouse()` opens
the embedded warehouse from the host. pyspark is imported only when a job or session starts.
"""

from pyml_offline.errors import OfflineJobError
from pyml_offline.session import open_warehouse

__all__ = ["OfflineJobError", "open_warehouse"]
