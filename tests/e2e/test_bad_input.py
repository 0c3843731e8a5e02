"""Bad input gets the right status and a message naming what was wrong; others keep serving."""

from __future__ import annotations

from pathlib import Path

import grpc
import numpy as np
import pandas as pd
import pytest

from pyml.client import Client, RemoteError
from pyml_runtime import codec

from .conftest import MAX_PAYLOAD_BYTES


def assert_others_serve(client: Client, rows: pd.DataFrame) -> None:
    result = client.predict("breast_cancer_lr", rows.head(3))
    assert isinstance(result, pd.DataFrame) and len(result) == 3
    tensors = client.predict("softmax_tensor", {"x": np.ones((2, 4), dtype=np.float32)})
    assert isinstance(tensors, dict) and tensors["label"].shape == (2,)


def remote_error(call: object) -> RemoteError:
    with pytest.raises(RemoteError) as caught:
        call()  # type: ignore[operator]
    return caught.value


def test_unknown_model_is_not_found(deployed: Client, cancer_rows: pd.DataFrame) -> None:
    error = remote_error(lambda: deployed.predict("no_such_model", cancer_rows.head(1)))

    assert error.code == grpc.StatusCode.NOT_FOUND
    assert "no_such_model" in error.details
    assert_others_serve(deployed, cancer_rows)


def test_unknown_version_is_not_found(deployed: Client, cancer_rows: pd.DataFrame) -> None:
    error = remote_error(lambda: deployed.predict("breast_cancer_lr", cancer_rows.head(1), 7))

    assert error.code == grpc.StatusCode.NOT_FOUND
    assert "7" in error.details


@pytest.mark.parametrize(
    "payload",
    [b"", b"not arrow at all", None],
    ids=["empty", "garbage", "truncated"],
)
def test_malformed_arrow_is_invalid_argument(
    deployed: Client, cancer_rows: pd.DataFrame, payload: bytes | None
) -> None:
    if payload is None:
        whole = codec.encode_dataframe(cancer_rows.head(20))
        payload = whole[: len(whole) // 2]

    error = remote_error(lambda: deployed.predict_raw("breast_cancer_lr", "dataframe", payload))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "breast_cancer_lr" in error.details
    assert_others_serve(deployed, cancer_rows)


def test_wrong_payload_kind_is_invalid_argument(
    deployed: Client, cancer_rows: pd.DataFrame
) -> None:
    tensors = {"x": np.ones((1, 30))}

    error = remote_error(lambda: deployed.predict("breast_cancer_lr", tensors))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "DATAFRAME" in error.details.upper() and "TENSORS" in error.details.upper()
    assert_others_serve(deployed, cancer_rows)


def test_missing_column_is_named(deployed: Client, cancer_rows: pd.DataFrame) -> None:
    rows = cancer_rows.head(2).drop(columns=["mean radius"])

    error = remote_error(lambda: deployed.predict("breast_cancer_lr", rows))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "mean radius" in error.details
    assert "breast_cancer_lr" in error.details
    assert_others_serve(deployed, cancer_rows)


def test_mistyped_column_names_both_types(deployed: Client, cancer_rows: pd.DataFrame) -> None:
    rows = cancer_rows.head(2).copy()
    # Text, not int64: whole numbers for a float column are a cast the conversion rule makes.
    rows["mean texture"] = rows["mean texture"].astype(str)

    error = remote_error(lambda: deployed.predict("breast_cancer_lr", rows))

    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.details == (
        "model 'breast_cancer_lr': column 'mean texture': large_string (pandas: str) "
        "(expected: float64)"
    )
    assert_others_serve(deployed, cancer_rows)


def test_model_exception_names_model_type_and_message(
    deployed: Client, faulty_home: Path, cancer_rows: pd.DataFrame
) -> None:
    deployed.deploy(faulty_home, name="faulty_raises")

    error = remote_error(
        lambda: deployed.predict("faulty_raises", pd.DataFrame({"x": [1.0, 13.0]}))
    )

    assert error.code == grpc.StatusCode.INTERNAL
    assert "faulty_raises" in error.details
    assert "ValueError" in error.details and "unlucky 13" in error.details
    assert error.trailers.get("pyml-exception-type") == "ValueError"
    # The model itself keeps serving after raising.
    ok = deployed.predict("faulty_raises", pd.DataFrame({"x": [4.0]}))
    assert isinstance(ok, pd.DataFrame) and ok["y"].tolist() == [8.0]
    assert_others_serve(deployed, cancer_rows)


def test_payload_over_the_limit_is_resource_exhausted(
    deployed: Client, cancer_rows: pd.DataFrame
) -> None:
    oversized = b"\0" * (MAX_PAYLOAD_BYTES + 1024)

    error = remote_error(lambda: deployed.predict_raw("breast_cancer_lr", "dataframe", oversized))

    assert error.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert_others_serve(deployed, cancer_rows)
