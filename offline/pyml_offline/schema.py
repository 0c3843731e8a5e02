"""The model's input and output schemas (from its validation data) against the query's columns.

The validation data is the only schema the model is known to work with, so it decides what
the query must give (checked on the driver before any work) and what the table will hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from pyml_offline.errors import OfflineJobError
from pyml_runtime import codec
from pyml_runtime.conversion import InputColumns
from pyml_runtime.validation import has_validation, load_validation

if TYPE_CHECKING:
    from pyspark.sql.types import DataType, StructType


@dataclass(frozen=True)
class ModelSchema:
    name: str
    input: pa.Schema
    output: pa.Schema
    columns: InputColumns  # the input columns and the one rule of what they may arrive as


def model_schema(home: Path, name: str) -> ModelSchema:
    """The schemas of a DataFrame model's validation input and expected output."""
    if not has_validation(home, "dataframe"):
        raise OfflineJobError(
            f"model '{name}': offline predictions need a DataFrame model with validation data "
            f"(validation/input.parquet and expected.parquet in {home}); tensor models and "
            "models packaged without validation data are not supported"
        )
    data = load_validation(home, "dataframe")
    assert not isinstance(data.input, dict) and not isinstance(data.expected, dict)
    validation_input = codec.dataframe_to_table(data.input)
    return ModelSchema(
        name,
        validation_input.schema,
        codec.dataframe_to_table(data.expected).schema,
        InputColumns(name, validation_input),
    )


def check_query_columns(query_schema: StructType, model: ModelSchema) -> None:
    """Every model input column present, of a type the model's input may arrive as (the
    runtime's one conversion rule, as online); all problems named at once."""
    from pyspark.sql.pandas.types import to_arrow_type

    got = {field.name: field.dataType for field in query_schema.fields}
    missing = [name for name in model.input.names if name not in got]
    problems = [f"missing {_listed(missing)}"] if missing else []
    for want in model.input:
        if want.name not in got:
            continue
        try:
            arrow = to_arrow_type(got[want.name], timezone="UTC")  # as mapInArrow sends it
        except Exception:  # pyspark raises several kinds for types Arrow cannot carry
            problems.append(f"'{want.name}' is {got[want.name].simpleString()} (no Arrow type)")
            continue
        refusal = model.columns.type_refusal(want.name, arrow)
        if refusal is not None:
            problems.append(f"{refusal}; in Spark SQL {got[want.name].simpleString()}")
    if problems:
        raise OfflineJobError(
            f"model '{model.name}': the query's columns do not fit the model: "
            f"{'; '.join(problems)} (the model takes {len(model.input)} columns: "
            f"{_listed(model.input.names)})"
        )


def _listed(names: list[str], shown: int = 8) -> str:
    quoted = [f"'{name}'" for name in names[:shown]]
    more = f", … ({len(names)} in all)" if len(names) > shown else ""
    return ", ".join(quoted) + more


def check_key_columns(query_schema: StructType, keys: tuple[str, ...], model: ModelSchema) -> None:
    names = set(query_schema.fieldNames())
    missing = [key for key in keys if key not in names]
    if missing:
        raise OfflineJobError(
            f"key column(s) {', '.join(repr(k) for k in missing)} not in the query's columns "
            f"({', '.join(query_schema.fieldNames())})"
        )
    clashing = [key for key in keys if key in model.output.names]
    if clashing or len(set(keys)) != len(keys):
        raise OfflineJobError(
            f"key columns {list(keys)}: each must be named once and differ from the model's "
            f"output columns ({', '.join(model.output.names)})"
        )


def output_struct(
    query_schema: StructType, keys: tuple[str, ...], model: ModelSchema
) -> StructType:
    """The table's columns, in a fixed order: the key columns, then the model's outputs."""
    from pyspark.sql.types import StructField, StructType

    fields = [query_schema[key] for key in keys]
    for out in model.output:
        fields.append(StructField(out.name, spark_type(out.type, f"output column '{out.name}'")))
    return StructType(fields)


def spark_type(arrow_type: pa.DataType, what: str) -> DataType:
    from pyspark.sql.pandas.types import from_arrow_type

    try:
        return from_arrow_type(arrow_type)
    except Exception as exc:  # pyspark raises several kinds for types it has no mapping for
        raise OfflineJobError(f"{what}: Arrow type {arrow_type} has no Spark SQL type") from exc
