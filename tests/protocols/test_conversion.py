"""The one conversion rule, end to end (issue 15): every cast that is always made, sent over
gRPC and Thrift and by the CLI from a CSV file, gives the answer of the model's own predict on
the rows in its validated dtypes; what is refused names the model, the column and both types."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pandas as pd
import pandas.testing as pdt
import pyarrow as pa
import pytest

import pyml
from pyml._internal.gateway_process import GatewayProcess
from pyml.client import Client, RemoteError
from pyml.model import Model
from pyml_runtime import codec
from tests.cli import run_pyml
from tests.conversion_cases import ALWAYS_MADE, every_cast_at_once, sent, wanted

MODEL = "typed"
CASES = {**ALWAYS_MADE, "every cast at once": {}}


def table_of(case: str) -> pa.Table:
    return every_cast_at_once() if case == "every cast at once" else sent(**ALWAYS_MADE[case])


@pytest.fixture(scope="module")
def typed(grpc_client: Client, typed_home: Path) -> Iterator[pd.DataFrame]:
    """The model deployed; yields its own answer on the rows in the validated dtypes."""
    grpc_client.deploy(typed_home, name=MODEL)
    own = Model.from_home(typed_home).predict(wanted())
    assert isinstance(own, pd.DataFrame)
    assert own["dtypes"][0] == ("int64,float64,category,Int64,datetime64[us, UTC],str,bool"), (
        "the model reports the dtypes it was validated with"
    )
    yield own
    grpc_client.undeploy(MODEL)


@pytest.fixture()
def thrift(protocol_gateway: GatewayProcess) -> Iterator[pyml.ThriftClient]:
    with pyml.ThriftClient("127.0.0.1", protocol_gateway.thrift_port, timeout=60) as client:
        yield client


@pytest.mark.parametrize("case", CASES.keys())
def test_every_cast_over_grpc_gives_the_models_own_answer(
    grpc_client: Client, typed: pd.DataFrame, case: str
) -> None:
    response = grpc_client.predict_raw(MODEL, "dataframe", codec.encode_table(table_of(case)))
    pdt.assert_frame_equal(codec.decode_dataframe(response.payload.arrow_ipc), typed)


@pytest.mark.parametrize("case", CASES.keys())
def test_every_cast_over_thrift_gives_the_models_own_answer(
    thrift: pyml.ThriftClient, typed: pd.DataFrame, case: str
) -> None:
    response = thrift.predict_raw(MODEL, "dataframe", codec.encode_table(table_of(case)))
    pdt.assert_frame_equal(codec.decode_dataframe(response.payload.arrowIpc), typed)


def test_a_refused_type_names_the_model_column_and_both_types_on_both_protocols(
    grpc_client: Client, thrift: pyml.ThriftClient, typed: pd.DataFrame
) -> None:
    data = codec.encode_table(sent(score=pa.array(["1", "2", "3"])))
    expected = f"model '{MODEL}': column 'score': string (pandas: str) (expected: float64)"
    with pytest.raises(RemoteError) as over_grpc:
        grpc_client.predict_raw(MODEL, "dataframe", data)
    with pytest.raises(RemoteError) as over_thrift:
        thrift.predict_raw(MODEL, "dataframe", data)
    for caught in (over_grpc.value, over_thrift.value):
        assert caught.code is grpc.StatusCode.INVALID_ARGUMENT, caught
        assert caught.details == expected
    misspelt = codec.encode_table(sent().rename_columns([*sent().column_names[:-1], "okay"]))
    with pytest.raises(RemoteError) as missing:
        grpc_client.predict_raw(MODEL, "dataframe", misspelt)
    assert "missing column 'ok' (did you mean 'okay'?)" in missing.value.details


def test_the_cli_sends_a_csv_with_a_blank_cell_and_iso_times(
    protocol_gateway: GatewayProcess, typed: pd.DataFrame, tmp_path: Path
) -> None:
    # pandas reads this as int64 counts and scores, str cities and times, and float64 visits
    # (the blank cell): each becomes the validated dtype.
    csv = tmp_path / "rows.csv"
    csv.write_text(
        "count,score,city,visits,seen,name,ok\n"
        "4,1,Lyon,7,2024-05-01T12:00:00+02:00,x,False\n"
        "5,2,Rome,,2024-05-01T13:00:00+02:00,y,True\n"
        "6,3,Nice,9,2024-05-01T14:00:00+02:00,z,False\n"
    )
    out = tmp_path / "out.parquet"
    done = run_pyml(
        "predict", MODEL, str(csv), "--gateway", protocol_gateway.target, "--output", str(out)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    pdt.assert_frame_equal(pd.read_parquet(out), typed)
