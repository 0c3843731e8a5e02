"""Adaptive batching in the runtime: several requests' rows through one model call.

`predict_batch` answers a `PredictBatch`: each payload is decoded and checked on its own (its
errors are its own, worded as `Predict` words them), the good ones are merged into groups of
at most ``max_rows`` rows (a larger request goes alone), the model is called once per group,
and its output is split back into each request's rows. When a group's model call fails
(raises, or returns the wrong number of rows), that group's requests are predicted one by
one, so each gets its own answer or its own error.

`check_batching` is the build-time proof that merging is safe for a model: the validation
rows predicted one by one and together must agree within the validation tolerance.

DataFrame requests are concatenated as Arrow tables (same schema: the validation input's);
tensor requests along the first dimension, which every input tensor must share. DataFrame
requests laid out as one already checked (`frame_streams`: sent exactly as validated, as
`pyml.Client` and a steady stream of one client's calls are) skip the tables: one frame is made
of all their values, and each answer is written as its known bytes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa

from pyml_runtime import codec
from pyml_runtime.errors import ErrorKind, PymlError
from pyml_runtime.frame_streams import KnownStream
from pyml_runtime.validation import BatchingCheck, compare_dataframes, compare_tensors

if TYPE_CHECKING:
    from pyml_runtime.dataplane import Dataplane, PayloadKindName

# The build-time check predicts at most this many validation rows one by one.
MAX_CHECKED_ROWS = 1000

log = logging.getLogger(__name__)


Answer: TypeAlias = bytes | pa.Buffer
"""An answer's Arrow IPC stream."""


@dataclass(frozen=True)
class _Request:
    index: int
    input: pa.Table | KnownStream
    rows: int | None
    """None: cannot be merged (tensors without a shared first dimension)."""

    def joins(self, other: _Request) -> bool:
        """Whether the two merge into one model input: tables of one schema, or known
        streams of one schema."""
        mine, theirs = self.input, other.input
        if isinstance(mine, KnownStream) or isinstance(theirs, KnownStream):
            return (
                isinstance(mine, KnownStream)
                and isinstance(theirs, KnownStream)
                and mine.layout.stacks_with(theirs.layout)
            )
        return bool(mine.schema.equals(theirs.schema))


def predict_batch(
    dp: Dataplane, payloads: Sequence[tuple[PayloadKindName | int, bytes | memoryview]]
) -> list[Answer | PymlError]:
    """One outcome per payload, in order: its Arrow answer or its own error."""
    outcomes: list[Answer | PymlError | None] = [None] * len(payloads)
    good: list[_Request] = []
    for index, (kind, data) in enumerate(payloads):
        try:
            checked = dp.checked_request(kind, data)
        except PymlError as exc:
            outcomes[index] = exc
            continue
        rows = checked.rows if isinstance(checked, KnownStream) else _rows(dp, checked)
        good.append(_Request(index, checked, rows))
    config = dp.model.config.batching
    max_rows = config.max_rows if config.enabled else 0  # off: every request alone
    for group in _groups(good, max_rows):
        for request, outcome in zip(group, _predict_group(dp, group), strict=True):
            outcomes[request.index] = outcome
    answered = [outcome for outcome in outcomes if outcome is not None]
    if len(answered) != len(payloads):  # never: every payload is in exactly one group
        raise PymlError(ErrorKind.INTERNAL, f"model '{dp.name}': a batch lost an outcome")
    return answered


def _rows(dp: Dataplane, table: pa.Table) -> int | None:
    if dp.kind == "dataframe":
        return int(table.num_rows)
    try:
        firsts = {codec.tensor_shape(f.name, f.type)[1][:1] for f in table.schema}
    except PymlError:
        return None  # unchecked input (no validation data): alone, where it meets its error
    if len(firsts) != 1:
        return None
    first = next(iter(firsts))
    return first[0] if first else None


def _groups(requests: list[_Request], max_rows: int) -> Iterator[list[_Request]]:
    """Consecutive requests, at most `max_rows` rows a group, one schema a group."""
    group: list[_Request] = []
    rows = 0
    for request in requests:
        mergeable = request.rows is not None and 0 < request.rows <= max_rows
        fits = (
            mergeable
            and bool(group)
            and rows + (request.rows or 0) <= max_rows
            and request.joins(group[0])
        )
        if group and not fits:
            yield group
            group, rows = [], 0
        group.append(request)
        rows += request.rows or 0
        if not mergeable:
            yield group
            group, rows = [], 0
    if group:
        yield group


def _predict_group(dp: Dataplane, group: list[_Request]) -> list[Answer | PymlError]:
    if len(group) == 1:
        return [_alone(dp, group[0])]
    try:
        return _together(dp, group)
    except PymlError as exc:
        # Which request broke the model is not known: each one alone finds out.
        log.warning(
            "model '%s': a batch of %d requests failed (%s); predicting them one by one",
            dp.name,
            len(group),
            exc.message,
        )
        return [_alone(dp, request) for request in group]


def _together(dp: Dataplane, group: list[_Request]) -> list[Answer]:
    inputs = [request.input for request in group]
    known = [one for one in inputs if isinstance(one, KnownStream)]
    if known:  # the whole group: requests join only their own kind
        return dp.predict_known(known)
    tables = [one for one in inputs if isinstance(one, pa.Table)]
    outputs = predict_together(dp, tables, [request.rows or 0 for request in group])
    return [codec.encode_table(output) for output in outputs]


def _alone(dp: Dataplane, request: _Request) -> Answer | PymlError:
    """What Predict answers for this request alone."""
    try:
        if isinstance(request.input, KnownStream):
            return dp.predict_known([request.input])[0]
        return codec.encode_table(dp.predict_checked(request.input))
    except PymlError as exc:
        if exc.kind is ErrorKind.MODEL_ERROR:
            log.warning("%s", exc.message, exc_info=exc.__cause__ or exc)
        return exc


def predict_together(dp: Dataplane, tables: list[pa.Table], rows: list[int]) -> list[pa.Table]:
    """One model call on the checked inputs' rows together, its output split back per input.

    Raises PymlError when the model raises or its output does not have a row per input row.
    """
    if dp.kind == "dataframe":
        # The requests were checked one by one (same schema): their rows together are too.
        output = dp.predict_checked(pa.concat_tables(tables))
        return [output.slice(offset, count) for offset, count in _spans(rows)]
    inputs = [codec.table_to_tensors(table) for table in tables]
    merged = {name: np.concatenate([i[name] for i in inputs]) for name in inputs[0]}
    output = codec.table_to_tensors(dp.predict_table(dp.kind, codec.tensors_to_table(merged)))
    total = sum(rows)
    for name, array in output.items():
        if array.ndim == 0 or array.shape[0] != total:
            raise PymlError(
                ErrorKind.MODEL_ERROR,
                f"model '{dp.name}' returned tensor '{name}' of shape {array.shape} "
                f"for {total} input rows (expected: one row per input row)",
            )
    return [
        codec.tensors_to_table(
            {name: array[offset : offset + count] for name, array in output.items()}
        )
        for offset, count in _spans(rows)
    ]


def _spans(rows: list[int]) -> Iterator[tuple[int, int]]:
    offset = 0
    for count in rows:
        yield offset, count
        offset += count


# --- the build-time proof ------------------------------------------------------------------


def check_batching(dp: Dataplane) -> BatchingCheck:
    """The validation rows predicted one by one and together (groups of max_rows) agree."""
    config = dp.model.config
    rows = _row_tables(dp, dp.input_rows())
    # Each row as its own payload, through the serving path's decoding and checks.
    requests = [dp.checked_input(dp.kind, codec.encode_table(row)) for row in rows]
    alone = [dp.predict_checked(request) for request in requests]
    together: list[pa.Table] = []
    size = config.batching.max_rows
    for start in range(0, len(requests), size):
        chunk = requests[start : start + size]
        try:
            together += predict_together(dp, chunk, [1] * len(chunk))
        except PymlError as exc:
            return BatchingCheck(False, len(rows), _refusal(dp, f"it fails: {exc.message}"))
    if dp.kind == "dataframe":
        report = compare_dataframes(_frame(together), _frame(alone), config.rtol, config.atol)
    else:
        report = compare_tensors(_tensors(together), _tensors(alone), config.rtol, config.atol)
    if report.passed:
        return BatchingCheck(True, len(rows), "")
    what = "its answers differ (actual: predicted together, expected: one by one):\n" + report.diff
    return BatchingCheck(False, len(rows), _refusal(dp, what))


def _refusal(dp: Dataplane, what: str) -> str:
    return (
        f"model '{dp.name}' sets batching = true in pyml.toml, but when its validation rows "
        f"are predicted together {what}\nRemove batching from pyml.toml, or make predict "
        "answer every row on its own (no statistics across rows)."
    )


def _row_tables(dp: Dataplane, table: pa.Table) -> list[pa.Table]:
    if dp.kind == "dataframe":
        count = min(table.num_rows, MAX_CHECKED_ROWS)
        return [table.slice(i, 1) for i in range(count)]
    tensors = codec.table_to_tensors(table)
    firsts = {a.shape[0] if a.ndim else None for a in tensors.values()}
    if len(firsts) != 1 or None in firsts:
        raise PymlError(
            ErrorKind.VALIDATION_MISMATCH,
            f"model '{dp.name}' sets batching = true in pyml.toml, but its validation input "
            "tensors do not share a first (batch) dimension: rows cannot be merged",
        )
    count = min(int(next(iter(firsts)) or 0), MAX_CHECKED_ROWS)
    return [
        codec.tensors_to_table({n: a[i : i + 1] for n, a in tensors.items()}) for i in range(count)
    ]


def _frame(tables: list[pa.Table]) -> pd.DataFrame:
    return pd.concat([codec.table_to_dataframe(t) for t in tables], ignore_index=True)


def _tensors(tables: list[pa.Table]) -> dict[str, Any]:
    parts = [codec.table_to_tensors(t) for t in tables]
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
