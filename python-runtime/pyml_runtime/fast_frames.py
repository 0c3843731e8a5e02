"""Fast Arrow ⇄ pandas conversions for plain numeric frames: the same result, less time.

Fast paths. ``pa.Table.from_pandas`` and ``Table.to_pandas`` spend most of a small request in
per-column Python bookkeeping, so common frames take a shorter road to the SAME result (the
tests compare both roads). Frames whose columns are all numpy bool, int, uint, float32 or
float64, with ``str`` labels and empty ``attrs``, become Arrow arrays straight from their numpy
values (not copied, but for bools) with the very schema ``from_pandas`` gives them: it is asked,
once per column names and dtypes. Tables of those Arrow types whose pandas metadata is absent
or the plain kind written for such frames become one fresh, writable 2-D block per dtype (NaN
for nulls in floats), under the column index ``to_pandas`` makes: it is asked, once per schema.
Int and bool columns with nulls (``to_pandas`` changes their dtype), and everything else, take
the general way.

`numeric_frame_to_table` and `numeric_table_to_frame` return None for anything they do not
handle; `codec` then takes the general way. Tests compare both ways on every case.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.internals import create_dataframe_from_blocks  # type: ignore[import-not-found]

from pyml_runtime.errors import ARROW_ERRORS

FAST_DTYPES = frozenset(
    np.dtype(name)
    for name in (
        "bool",
        *(f"{kind}{bits}" for kind in ("int", "uint") for bits in (8, 16, 32, 64)),
        "float32",
        "float64",
    )
)
FAST_ARROW_TYPES = {pa.from_numpy_dtype(dtype): dtype for dtype in FAST_DTYPES}
# Wider tables, or schemas longer than this, take the general path (their plans are not cached:
# at most CACHE_ENTRIES of each kind are, decoding's keyed by the serialized schema).
MAX_FAST_COLUMNS = 2048
MAX_CACHED_SCHEMA_BYTES = 256 * 1024
CACHE_ENTRIES = 64

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


class BoundedCache(Generic[_K, _V]):
    """A small least-recently-added cache, safe to share between request threads.

    Also keeps `ipc_budget`'s and `codec`'s schema verdicts, keyed by the schema message.
    """

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[_K, _V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: _K) -> _V | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: _K, value: _V) -> None:
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


@dataclass(frozen=True)
class _EncodePlan:
    schema: pa.Schema | None  # None: this frame's columns take the general path


@dataclass(frozen=True)
class _DecodePlan:
    columns: pd.Index | None  # what to_pandas names the columns; None: the general path
    # One block a dtype: its dtype and its columns' positions, as to_pandas groups them.
    blocks: tuple[tuple[np.dtype[np.generic], tuple[int, ...]], ...] = ()
    # Int and bool columns: nulls would change their dtype in to_pandas (general path).
    null_checked: tuple[int, ...] = ()


_ENCODE_PLANS: BoundedCache[tuple[tuple[str, ...], tuple[np.dtype[np.generic], ...]], _EncodePlan]
_ENCODE_PLANS = BoundedCache(CACHE_ENTRIES)
_DECODE_PLANS: BoundedCache[bytes, _DecodePlan] = BoundedCache(CACHE_ENTRIES)


def numeric_frame_to_table(df: pd.DataFrame) -> pa.Table | None:
    """``from_pandas(df, preserve_index=False)`` for frames of numpy numbers and bools, or None."""
    if (
        df.attrs
        or isinstance(df.columns, pd.MultiIndex)
        or not 0 < len(df.columns) <= MAX_FAST_COLUMNS
    ):
        return None
    names = df.columns.tolist()  # pandas 3's string Index: ~3x faster than iterating it
    if not all(type(name) is str for name in names):
        return None
    dtypes: list[np.dtype[np.generic]] = []
    for dtype in column_dtypes(df):
        if not isinstance(dtype, np.dtype) or dtype not in FAST_DTYPES:
            return None
        dtypes.append(dtype)
    key = (tuple(names), tuple(dtypes))
    plan = _ENCODE_PLANS.get(key)
    if plan is None:
        plan = _EncodePlan(_frame_schema(df, dtypes))
        _ENCODE_PLANS.put(key, plan)
    if plan.schema is None:
        return None
    schema = plan.schema
    if len(set(dtypes)) == 1 and dtypes[0].kind != "b":
        # One dtype: one Arrow array of all the values, column after column, cut into one slice
        # a column. When pandas keeps them so (one block) they are not copied. Not bools: one
        # bitmap's slices share bytes, and the stream would carry the next column's bits in a
        # column's spare ones (harmless to readers, but not the bytes of a column alone).
        values = df.to_numpy()
        rows = values.shape[0]
        by_column = values.T if values.T.flags.c_contiguous else _transposed_copy(values)
        flat = _numpy_to_arrow(by_column.reshape(-1), schema.field(0).type)
        arrays = [flat.slice(j * rows, rows) for j in range(len(names))]
    else:
        columns = [values for values in column_arrays(df) if isinstance(values, np.ndarray)]
        if [values.dtype for values in columns] != dtypes:
            return None
        arrays = [
            _numpy_to_arrow(values, field.type)
            for values, field in zip(columns, schema, strict=True)
        ]
    return pa.Table.from_arrays(arrays, schema=schema)


def column_dtypes(df: pd.DataFrame) -> list[object]:
    """Each column's dtype: pandas' own list, not df.dtypes, which builds a Series (~14 µs)."""
    get_dtypes = getattr(getattr(df, "_mgr", None), "get_dtypes", None)
    if get_dtypes is None:  # the public way, should a pandas release drop the private one
        return list(df.dtypes)
    return list(get_dtypes())


def column_arrays(df: pd.DataFrame) -> list[object]:
    """Each column's values as pandas stores them, to be read only."""
    # pandas' own read-only accessor makes no Series a column (a Series costs ~15 µs); the
    # public way is the fallback, should a pandas release drop it.
    get = getattr(df, "_get_column_array", None)
    if get is None:
        columns = [df.iloc[:, j] for j in range(df.shape[1])]
        # Extension columns stay extension arrays: their dtype must send them the general way.
        return [c.to_numpy() if isinstance(c.dtype, np.dtype) else c.array for c in columns]
    return [get(j) for j in range(df.shape[1])]


def _transposed_copy(values: np.ndarray) -> np.ndarray:
    """``values.T`` made C-contiguous, in memory from Arrow's allocator.

    Not numpy's: a large block numpy frees goes back to the OS, so every request would fault
    in fresh pages (measured: several ms for 10,000 x 30 float64).
    """
    buffer = pa.allocate_buffer(values.nbytes)
    out = np.frombuffer(buffer, dtype=values.dtype).reshape(values.shape[::-1])
    np.copyto(out, values.T)
    return out


def _numpy_to_arrow(values: np.ndarray, data_type: pa.DataType) -> pa.Array:
    """``pa.array(values, from_pandas=True)``: NaN becomes null, as from_pandas makes it.

    Only faster: numpy finds the NaNs, and without any the values are not copied.
    """
    if values.dtype.kind == "f":
        nan = np.isnan(values)
        if nan.any():
            return pa.array(values, type=data_type, mask=nan)
    return pa.array(values, type=data_type)


def _frame_schema(df: pd.DataFrame, dtypes: list[np.dtype[np.generic]]) -> pa.Schema | None:
    """The schema from_pandas gives the frame, by from_pandas (it does not depend on the rows)."""
    try:
        schema: pa.Schema = pa.Table.from_pandas(df.iloc[:0], preserve_index=False).schema
    except ARROW_ERRORS:
        return None
    expected = [pa.from_numpy_dtype(dtype) for dtype in dtypes]
    return schema if schema.types == expected else None


def numeric_table_to_frame(table: pa.Table) -> pd.DataFrame | None:
    """``table.to_pandas()`` for tables of plain numbers and bools; else None."""
    if not 0 < table.num_columns <= MAX_FAST_COLUMNS:
        return None
    plan = _decode_plan(table.schema)
    if plan.columns is None:
        return None
    if any(table.column(j).null_count for j in plan.null_checked):
        return None
    rows = table.num_rows
    blocks = []
    for dtype, placement in plan.blocks:
        part = table if len(plan.blocks) == 1 else table.select(list(placement))
        blocks.append((_block(part, dtype, rows), np.array(placement, dtype=np.intp)))
    df: pd.DataFrame = create_dataframe_from_blocks(
        blocks, index=pd.RangeIndex(rows), columns=shallow_copy(plan.columns)
    )
    return df


def shallow_copy(columns: pd.Index) -> pd.Index:
    """A new Index object over the plan's labels that shares its lookup table.

    A model's first ``df[features]`` builds the Index's hash table (~80 µs for 30 labels): a
    copy would build it again for every request. pandas' shallow copy shares that cache (only
    values derived from the immutable labels) but not the name, which a model may set.
    """
    view = getattr(columns, "_view", None)
    return view() if view is not None else columns.copy()


def _block(table: pa.Table, dtype: np.dtype[np.generic], rows: int) -> np.ndarray:
    """The table's columns (all of this dtype) as a fresh, writable (columns, rows) array.

    That is the layout of a pandas block, as to_pandas builds it; nulls in float columns
    become NaN, as to_pandas makes them.
    """
    batches = table.to_batches()
    if len(batches) > 1:
        batches = table.combine_chunks().to_batches()
    if not rows or not batches:
        return np.empty((table.num_columns, rows), dtype=dtype)
    if dtype.kind == "b":  # to_tensor does not take bools
        block = np.empty((table.num_columns, rows), dtype=dtype)
        for j, column in enumerate(batches[0].columns):
            block[j] = column.to_numpy(zero_copy_only=False)
        return block
    # Column-major (rows, columns) is the transposed block, in memory that Arrow allocated.
    tensor = batches[0].to_tensor(null_to_nan=dtype.kind == "f", row_major=False)
    block = tensor.to_numpy().T
    if block.dtype != dtype or not block.flags.writeable or not block.flags.c_contiguous:
        block = np.array(block, dtype=dtype, order="C")
    return block


def _decode_plan(schema: pa.Schema) -> _DecodePlan:
    key = schema.serialize().to_pybytes()
    if len(key) > MAX_CACHED_SCHEMA_BYTES:
        return _DecodePlan(None)
    plan = _DECODE_PLANS.get(key)
    if plan is None:
        plan = _make_decode_plan(schema)
        _DECODE_PLANS.put(key, plan)
    return plan


def _make_decode_plan(schema: pa.Schema) -> _DecodePlan:
    general = _DecodePlan(None)
    dtypes = []
    for field in schema:
        dtype = FAST_ARROW_TYPES.get(field.type)
        if dtype is None or field.metadata:
            return general
        dtypes.append(dtype)
    if not _is_plain_pandas_metadata(schema, dtypes):
        return general
    # What to_pandas itself makes of this schema (the column index above all): nothing here
    # depends on the rows once the metadata is plain.
    try:
        probe = schema.empty_table().to_pandas()
    except ARROW_ERRORS:
        return general
    if (
        probe.dtypes.tolist() != dtypes
        or probe.columns.tolist() != schema.names
        or probe.attrs
        or not isinstance(probe.index, pd.RangeIndex)
    ):
        return general
    positions: dict[np.dtype[np.generic], list[int]] = {}
    for j, dtype in enumerate(dtypes):
        positions.setdefault(dtype, []).append(j)
    blocks = tuple((dtype, tuple(placement)) for dtype, placement in positions.items())
    null_checked = tuple(j for j, dtype in enumerate(dtypes) if dtype.kind != "f")
    return _DecodePlan(probe.columns, blocks, null_checked)


def _is_plain_pandas_metadata(schema: pa.Schema, dtypes: list[np.dtype[np.generic]]) -> bool:
    """No pandas metadata, or exactly what from_pandas writes for a frame of these columns."""
    if not schema.metadata or b"pandas" not in schema.metadata:
        return True
    try:
        metadata = schema.pandas_metadata
    except ARROW_ERRORS:
        return False
    if not isinstance(metadata, dict) or (
        metadata.get("index_columns") != []
        or metadata.get("column_indexes", []) != []
        or metadata.get("attributes", {}) != {}
    ):
        return False
    expected = [
        {
            "name": name,
            "field_name": name,
            "pandas_type": dtype.name,
            "numpy_type": dtype.name,
            "metadata": None,
        }
        for name, dtype in zip(schema.names, dtypes, strict=True)
    ]
    return bool(metadata.get("columns") == expected)
