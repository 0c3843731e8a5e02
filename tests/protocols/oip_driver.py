"""Runs inside .venv-oip (tritonclient, protobuf < 7), driven by test_oip.py via subprocess.

argv: PORT OPS_JSON INPUTS_NPZ OUTPUTS_NPZ. Each op's result is one JSON line on stdout; output
tensors go to OUTPUTS_NPZ as "<op index>/<tensor name>". Nothing of PyML is imported here: this
is what a team with only tritonclient would write.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import numpy as np
import tritonclient.grpc as triton
from tritonclient.grpc import service_pb2, service_pb2_grpc
from tritonclient.utils import InferenceServerException

TYPED_FIELDS = {
    "BOOL": "bool_contents",
    "INT8": "int_contents",
    "INT16": "int_contents",
    "INT32": "int_contents",
    "INT64": "int64_contents",
    "UINT8": "uint_contents",
    "UINT16": "uint_contents",
    "UINT32": "uint_contents",
    "UINT64": "uint64_contents",
    "FP32": "fp32_contents",
    "FP64": "fp64_contents",
    "BYTES": "bytes_contents",
}


def main() -> None:
    port, ops_path, inputs_path, outputs_path = sys.argv[1:5]
    url = f"127.0.0.1:{port}"
    client = triton.InferenceServerClient(url)
    stub = service_pb2_grpc.GRPCInferenceServiceStub(client._channel)
    with open(ops_path) as f:
        ops = json.load(f)
    arrays = dict(np.load(inputs_path, allow_pickle=False))
    outputs: dict[str, np.ndarray] = {}
    for index, op in enumerate(ops):
        try:
            result = run(client, stub, op, arrays, outputs, index)
        except InferenceServerException as error:
            result = {
                "code": str(error.status()).replace("StatusCode.", ""),
                "message": error.message(),
            }
        except Exception as error:  # the raw stub raises grpc.RpcError
            code = getattr(error, "code", None)
            if code is None:
                raise
            result = {"code": code().name, "message": error.details()}
        print(json.dumps(result), flush=True)
    np.savez(outputs_path, **outputs)


def run(
    client: Any,
    stub: Any,
    op: dict[str, Any],
    arrays: dict[str, np.ndarray],
    outputs: dict[str, np.ndarray],
    index: int,
) -> dict[str, Any]:
    kind = op["op"]
    if kind == "server_live":
        return {"live": client.is_server_live()}
    if kind == "server_ready":
        return {"ready": client.is_server_ready()}
    if kind == "model_ready":
        return {"ready": client.is_model_ready(op["model"])}
    if kind == "metadata":
        meta = client.get_model_metadata(op["model"], as_json=True)
        return {
            "name": meta["name"],
            "versions": meta.get("versions", []),
            "inputs": meta.get("inputs", []),
            "outputs": meta.get("outputs", []),
        }
    if kind == "config":  # Triton's extension, which perf_analyzer needs
        config = client.get_model_config(op["model"], as_json=True)["config"]
        return {
            "name": config["name"],
            "inputs": config.get("input", []),
            "max_batch_size": config.get("max_batch_size", 0),
        }
    if kind == "infer":
        inputs = []
        for name, key in op["inputs"].items():
            array = arrays[key]
            if array.dtype.kind in "US":  # text: tritonclient sends object arrays as BYTES
                array = array.astype(object)
            tensor = triton.InferInput(
                name, list(array.shape), op.get("datatype", {}).get(name, triton_type(array))
            )
            tensor.set_data_from_numpy(array)
            inputs.append(tensor)
        answer = client.infer(op["model"], inputs, client_timeout=op.get("client_timeout"))
        for output in answer.get_response().outputs:
            outputs[f"{index}/{output.name}"] = text_as_str(answer.as_numpy(output.name))
        return {
            "outputs": [o.name for o in answer.get_response().outputs],
            "shapes": {o.name: list(o.shape) for o in answer.get_response().outputs},
        }
    if kind == "infer_stub":
        # Hand-built requests: typed contents, or deliberately inconsistent raw bytes and shapes.
        request = service_pb2.ModelInferRequest(model_name=op["model"])
        for name, spec in op["inputs"].items():
            array = arrays[spec["key"]]
            datatype = spec.get("datatype", triton_type(array))
            tensor = request.inputs.add(
                name=name, datatype=datatype, shape=spec.get("shape", list(array.shape))
            )
            if op.get("typed"):
                getattr(tensor.contents, TYPED_FIELDS[datatype]).extend(array.ravel().tolist())
            else:
                raw = array.tobytes()
                request.raw_input_contents.append(raw[: spec.get("bytes", len(raw))])
        response = stub.ModelInfer(request, timeout=60)
        for i, output in enumerate(response.outputs):
            dtype = triton.triton_to_np_dtype(output.datatype)
            outputs[f"{index}/{output.name}"] = np.frombuffer(
                response.raw_output_contents[i], dtype=dtype
            ).reshape(list(output.shape))
        return {"outputs": [o.name for o in response.outputs]}
    raise ValueError(f"unknown op {kind}")


def text_as_str(array: np.ndarray) -> np.ndarray:
    """BYTES answers (object arrays of bytes) as str arrays: .npz holds them without pickle."""
    if array.dtype != np.object_:
        return array
    return np.array([value.decode() for value in array.ravel()], dtype=str).reshape(array.shape)


def triton_type(array: np.ndarray) -> str:
    return str(triton.np_to_triton_dtype(array.dtype))


if __name__ == "__main__":
    main()
