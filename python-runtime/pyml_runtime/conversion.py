"""The one rule for what a DataFrame model's input columns may arrive as, and what they become.

The validation input is the only schema a model is known to work with, so its pandas dtypes
are what the model gets. Most callers cannot say pandas-only things (a Hive table has no
category, a Thrift or Java client sends int32, a CSV with a blank cell makes floats), so the
casts that lose nothing are always made, on every protocol and offline alike:

=================================  =============================================================
arrives as (Arrow)                 becomes (the validation data's type)
=================================  =============================================================
an int type                        a wider int type (int32 → int64, uint8 → int16, ...)
an int type                        a float type, when every value is exact there (≤ 2**53 for
                                   float64; Arrow's safe cast checks each value)
a float type                       a wider float type (float32 → float64)
a float type                       an int type, when every value is a whole number in range;
                                   NaN becomes missing (the blank CSV cell)
string, large_string, string_view  each other
string (or another category)       category: the validation data's categories; a value not
                                   among them becomes missing, as ``pd.Categorical`` makes it
category                           string
timestamp (any unit or zone)       the expected unit and zone: the same instant (a finer unit
                                   only when no precision is lost); no zone is read as UTC
ISO-8601 string, date              timestamp (a string without an offset is read as UTC)
null (an all-missing column)       any type
=================================  =============================================================

Missing values: ``Int64``, ``boolean``, float, string, category and datetime columns hold
them; a plain numpy ``int64`` or ``bool`` column does not, so missing values sent for one are
refused (pandas would silently make the column float64 or object, not what was validated).

Everything else is refused with a message that names the model, the column, what came in and
what was expected, in Arrow's words and pandas'. A missing column gets a "did you mean" when a
sent column's name is close; extra columns are ignored and logged once per model and set.
"""

from __future__ import annotations

import difflib
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from pyml_runtime.errors import ARROW_ERRORS, PymlError, invalid_input

LOG = logging.getLogger("pyml_runtime.conversion")
# Extra-column sets logged per model: bounded, as a client chooses the names.
_LOGGED_EXTRAS_MAX = 64
_SHOWN_NAME_CHARS = 80
_SHOWN_COLUMNS = 8

Convert = Callable[[pa.ChunkedArray, "ExpectedColumn"], pa.ChunkedArray]


@dataclass(frozen=True)
class ExpectedColumn:
    """One input column as the validation data has it."""

    field: pa.Field
    pandas: str  # the pandas dtype the model saw, in pandas' words
    holds_missing: bool  # whether that dtype can hold a missing value
    categories: pa.Array | None  # a category column's categories, in order

    @property
    def name(self) -> str:
        return str(self.field.name)

    @property
    def type(self) -> pa.DataType:
        return self.field.type


class InputColumns:
    """A DataFrame model's input columns, from its validation input; conforms what comes in."""

    def __init__(self, model: str, validation_input: pa.Table) -> None:
        self.model = model
        self.schema = validation_input.schema
        pandas = _pandas_columns(self.schema)
        self.columns = [
            _expected(field, pandas.get(field.name), validation_input.column(i))
            for i, field in enumerate(self.schema)
        ]
        self._names = frozenset(want.name for want in self.columns)
        self._logged_extras: set[frozenset[str]] = set()
        self._lock = threading.Lock()

    # --- whole tables ------------------------------------------------------------------------

    def conform(self, table: pa.Table) -> pa.Table:
        """The table as the model was validated with: its columns, order, types and dtypes."""
        if table.schema.equals(self.schema, check_metadata=True):
            # What a pyml client on the same library versions sends: only nulls can be wrong.
            for want, column in zip(self.columns, table.columns, strict=True):
                self._check_missing(want, column, table.schema)
            return table
        names = set(table.column_names)
        missing = [want.name for want in self.columns if want.name not in names]
        if missing:
            raise self._missing(missing, [n for n in table.column_names if n not in self._names])
        self._note_extras(table)
        columns = [self._column(want, table) for want in self.columns]
        # The validation data's pandas metadata: the model gets the dtypes it was validated with.
        return pa.Table.from_arrays(columns, schema=self.schema)

    def _missing(self, missing: list[str], extras: list[str]) -> PymlError:
        described = []
        for name in missing:
            close = _closest(name, extras)
            hint = f" (did you mean '{_shown(close)}'?)" if close else ""
            described.append(f"'{name}'{hint}")
        plural = "s" if len(missing) > 1 else ""
        listed = ", ".join(want.name for want in self.columns)
        return invalid_input(
            f"model '{self.model}': missing column{plural} {', '.join(described)} "
            f"(expected columns: {listed})"
        )

    def _note_extras(self, table: pa.Table) -> None:
        extras = frozenset(table.column_names) - self._names
        if not extras:
            return
        with self._lock:
            if extras in self._logged_extras or len(self._logged_extras) >= _LOGGED_EXTRAS_MAX:
                return
            self._logged_extras.add(extras)
        shown = ", ".join(f"'{_shown(name)}'" for name in sorted(extras)[:_SHOWN_COLUMNS])
        more = f" and {len(extras) - _SHOWN_COLUMNS} more" if len(extras) > _SHOWN_COLUMNS else ""
        LOG.warning(
            "model '%s': ignoring column(s) it does not take: %s%s (logged once)",
            self.model,
            shown,
            more,
        )

    # --- one column --------------------------------------------------------------------------

    def _column(self, want: ExpectedColumn, table: pa.Table) -> pa.ChunkedArray:
        column = table.column(want.name)
        if column.type == want.type:
            converted = column
        else:
            convert = conversion(column.type, want)
            if convert is None:
                raise self._refusal(want, table.schema)
            try:
                converted = convert(column, want)
            except ARROW_ERRORS as exc:
                raise self._refusal(want, table.schema, _arrow_detail(exc)) from exc
        self._check_missing(want, converted, table.schema)
        return converted

    def _check_missing(
        self, want: ExpectedColumn, converted: pa.ChunkedArray, sent: pa.Schema
    ) -> None:
        if want.holds_missing or not converted.null_count:
            return
        count = converted.null_count
        values = "value" if count == 1 else "values"
        nullable = "Int64" if pa.types.is_integer(want.type) else "boolean"
        raise self._refusal(
            want,
            sent,
            f"{count} missing {values}, which {want.pandas} cannot hold (the validation data had"
            f" none here): fill them, or validate the model with a nullable {nullable} column",
        )

    def _refusal(self, want: ExpectedColumn, sent: pa.Schema, detail: str = "") -> PymlError:
        """The refusal of column `want` as `sent` has it: its pandas words are read from the
        sender's metadata only here, never on the path of a call that is taken."""
        got = sent.field(want.name).type
        came = _words(got, _pandas_columns(sent).get(want.name) or pandas_name(got))
        expected = _words(want.type, want.pandas)
        return invalid_input(
            f"model '{self.model}': column '{want.name}': {came} (expected: {expected})"
            + (f": {detail}" if detail else "")
        )

    # --- types alone (the Spark driver's check, before any row is read) ---------------------

    def type_refusal(self, name: str, got: pa.DataType) -> str | None:
        """Why a column of Arrow type `got` can never be the model's column `name`, or None."""
        want = next(want for want in self.columns if want.name == name)
        if got == want.type or conversion(got, want) is not None:
            return None
        came = _words(got, pandas_name(got))
        return f"'{name}' is {came} (expected: {_words(want.type, want.pandas)})"


# --- the rule --------------------------------------------------------------------------------


def conversion(got: pa.DataType, want: ExpectedColumn) -> Convert | None:
    """How a column of type `got` becomes `want`'s type, or None when it never may."""
    target = want.type
    if pa.types.is_null(got):
        return _cast
    if pa.types.is_dictionary(target):
        if _is_text(got) or (pa.types.is_dictionary(got) and _is_text(got.value_type)):
            return _to_categories
        return None
    if _is_text(target):
        if _is_text(got) or (pa.types.is_dictionary(got) and _is_text(got.value_type)):
            return _cast
        return None
    if pa.types.is_integer(target):
        if pa.types.is_integer(got) and _int_widens(got, target):
            return _cast
        if pa.types.is_floating(got):
            return _float_to_int
        return None
    if pa.types.is_floating(target):
        if pa.types.is_integer(got):
            return _cast  # safe: Arrow refuses a value the float type cannot hold exactly
        if pa.types.is_floating(got) and got.bit_width <= target.bit_width:
            return _cast
        return None
    if pa.types.is_timestamp(target):
        if pa.types.is_timestamp(got):
            return _cast  # safe: a finer unit is refused if it would drop precision
        if pa.types.is_date(got):
            return _cast
        if _is_text(got):
            return _parse_timestamps
        return None
    return None


def _cast(column: pa.ChunkedArray, want: ExpectedColumn) -> pa.ChunkedArray:
    return column.cast(want.type, safe=True)


def _int_widens(got: pa.DataType, target: pa.DataType) -> bool:
    got_signed = pa.types.is_signed_integer(got)
    target_signed = pa.types.is_signed_integer(target)
    if got_signed and not target_signed:
        return False
    if got_signed == target_signed:
        return bool(got.bit_width <= target.bit_width)
    return bool(got.bit_width < target.bit_width)  # unsigned into a wider signed type


def _float_to_int(column: pa.ChunkedArray, want: ExpectedColumn) -> pa.ChunkedArray:
    # NaN is pandas' missing value in a float column; Arrow would call it a truncated value.
    without_nan = pc.if_else(pc.is_nan(column), pa.scalar(None, column.type), column)
    return without_nan.cast(want.type, safe=True)


def _to_categories(column: pa.ChunkedArray, want: ExpectedColumn) -> pa.ChunkedArray:
    """Values → the validation data's categories; others missing, as pd.Categorical makes them."""
    categories = want.categories
    assert categories is not None and pa.types.is_dictionary(want.type)
    values = column
    if pa.types.is_dictionary(column.type):
        values = column.cast(column.type.value_type)
    values = values.cast(categories.type)
    indices = pc.index_in(values, value_set=categories).cast(want.type.index_type)
    chunks = [
        pa.DictionaryArray.from_arrays(chunk, categories, ordered=want.type.ordered)
        for chunk in indices.chunks
    ]
    return pa.chunked_array(chunks, type=want.type)


def _parse_timestamps(column: pa.ChunkedArray, want: ExpectedColumn) -> pa.ChunkedArray:
    target: pa.TimestampType = want.type
    try:
        return column.cast(target, safe=True)
    except ARROW_ERRORS:
        if target.tz is None:
            raise
    # Text without an offset, for a zoned column: read as UTC, as zone-less timestamps are.
    naive = column.cast(pa.timestamp(target.unit), safe=True)
    return naive.cast(target, safe=True)


def _is_text(data_type: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(data_type)
        or pa.types.is_large_string(data_type)
        or pa.types.is_string_view(data_type)
    )


# --- the validation data's columns -----------------------------------------------------------


def _pandas_columns(schema: pa.Schema) -> dict[str, str]:
    """Each column's pandas dtype, in pandas' words, from a schema's pandas metadata."""
    try:
        metadata = schema.pandas_metadata if schema.metadata else None
    except ARROW_ERRORS:
        return {}  # a client's broken metadata: the Arrow types still speak
    if not isinstance(metadata, dict) or not isinstance(metadata.get("columns"), list):
        return {}
    words = {}
    for entry in metadata["columns"]:
        if isinstance(entry, dict) and isinstance(entry.get("field_name"), str):
            words[entry["field_name"]] = _pandas_words(entry)
    return words


def _pandas_words(entry: dict[str, Any]) -> str:
    pandas_type = str(entry.get("pandas_type"))
    numpy_type = str(entry.get("numpy_type"))
    found = entry.get("metadata")
    details: dict[str, Any] = found if isinstance(found, dict) else {}
    if pandas_type == "categorical":
        return "category"
    if pandas_type == "datetimetz":
        unit = re.sub(r"^datetime64\[(\w+)\].*$", r"\1", numpy_type)
        return f"datetime64[{unit}, {details.get('timezone')}]"
    if numpy_type == "object" and pandas_type in ("unicode", "string"):
        return "object (str)"
    return numpy_type


def _expected(field: pa.Field, pandas: str | None, column: pa.ChunkedArray) -> ExpectedColumn:
    words = pandas or pandas_name(field.type)
    categories = None
    if pa.types.is_dictionary(field.type):
        combined = column.unify_dictionaries().combine_chunks() if column.num_chunks else None
        categories = (
            combined.dictionary if combined is not None else pa.array([], field.type.value_type)
        )
    plain = words in _NUMPY_NO_MISSING
    return ExpectedColumn(field, words, not plain, categories)


# numpy dtypes (as pandas names them) with no missing value: pandas makes such a column with a
# null float64 or object.
_NUMPY_NO_MISSING = frozenset(
    ["bool", *(f"{kind}{bits}" for kind in ("int", "uint") for bits in (8, 16, 32, 64))]
)
_FLOAT_NAMES = {"halffloat": "float16", "float": "float32", "double": "float64"}


def pandas_name(data_type: pa.DataType) -> str:
    """The pandas dtype `to_pandas` gives a column of this Arrow type without pandas metadata."""
    if pa.types.is_null(data_type):
        return "object (all missing)"
    if pa.types.is_dictionary(data_type):
        return "category"
    if _is_text(data_type):
        return "str"
    if pa.types.is_timestamp(data_type):
        zone = f", {data_type.tz}" if data_type.tz else ""
        return f"datetime64[{data_type.unit}{zone}]"
    try:
        return str(data_type.to_pandas_dtype().__name__)
    except (NotImplementedError, AttributeError, *ARROW_ERRORS):
        return "object"


def arrow_name(data_type: pa.DataType) -> str:
    """Arrow type names, with floats named as numpy and pandas users know them."""
    return _FLOAT_NAMES.get(str(data_type), str(data_type))


def _words(data_type: pa.DataType, pandas: str) -> str:
    arrow = arrow_name(data_type)
    return arrow if arrow == pandas else f"{arrow} (pandas: {pandas})"


def _arrow_detail(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


def _closest(name: str, candidates: list[str]) -> str | None:
    """A sent column that is probably the missing one: same letters, or close spelling."""

    def key(text: str) -> str:
        return re.sub(r"[\s_\-.]+", "", text.lower())

    for candidate in candidates:
        if key(candidate) == key(name):
            return candidate
    close = difflib.get_close_matches(name, candidates[:1000], n=1)  # difflib's cutoff, 0.6
    return close[0] if close else None


def _shown(name: str) -> str:
    return name if len(name) <= _SHOWN_NAME_CHARS else name[:_SHOWN_NAME_CHARS] + "…"
