// The client-facing prediction API over Thrift, served by the gateway (default port 7071):
// a mirror of pyml.v1.PredictionService (prediction.proto) for services that speak Thrift.
// Transport: framed (TFramedTransport); protocol: binary (TBinaryProtocol). Frames larger than
// the gateway's payload limit plus a small margin are refused by closing the connection.
// The payload bytes mean exactly what they mean over gRPC: see docs/wire-format.md.

namespace java io.pyml.thrift.v1
namespace py pyml.thrift_v1.prediction

// What the Arrow IPC stream in a Payload holds (pyml.v1.PayloadKind).
enum PayloadKind {
  UNSPECIFIED = 0,
  // One Arrow IPC stream: a table whose columns are the DataFrame's columns.
  DATAFRAME = 1,
  // One Arrow IPC stream with one row: each column a named `arrow.fixed_shape_tensor`.
  TENSORS = 2,
}

// Arrow IPC stream bytes. The gateway routes them untouched; only the runtime decodes.
struct Payload {
  1: PayloadKind kind,
  2: binary arrowIpc,
}

struct PredictRequest {
  1: string modelName,
  // Absent: the live version of the model.
  2: optional i64 modelVersion,
  3: Payload payload,
  // Echoed in the response and in logs; the gateway makes one when empty.
  4: string requestId,
  // Thrift has no deadlines of its own: the time the client allows, in milliseconds.
  // Absent or <= 0: the gateway's default deadline (it is also the upper bound).
  5: optional i64 timeoutMs,
  // Who calls, as gRPC's `authorization` metadata: "Bearer <token>" (or the bare token).
  // Needed once the gateway has identities; Thrift has no headers of its own.
  6: optional string authorization,
}

struct PredictResponse {
  1: string modelName,
  2: i64 modelVersion,
  3: Payload payload,
  4: string requestId,
}

// pyml.v1.DeploymentState.
enum ModelState {
  UNSPECIFIED = 0,
  PENDING = 1,
  STARTING = 2,
  LOADING = 3,
  VALIDATING = 4,
  READY = 5,
  FAILED = 6,
  STOPPED = 7,
}

struct ModelInfo {
  1: string modelName,
  2: i64 modelVersion,
  3: ModelState state,
  // Why the model is FAILED or left READY; empty otherwise.
  4: string reason,
  5: PayloadKind kind,
}

// The gRPC status codes, same names and numbers, so an error reads the same on both wires.
enum ErrorCode {
  OK = 0,
  CANCELLED = 1,
  UNKNOWN = 2,
  INVALID_ARGUMENT = 3,
  DEADLINE_EXCEEDED = 4,
  NOT_FOUND = 5,
  ALREADY_EXISTS = 6,
  PERMISSION_DENIED = 7,
  RESOURCE_EXHAUSTED = 8,
  FAILED_PRECONDITION = 9,
  ABORTED = 10,
  OUT_OF_RANGE = 11,
  UNIMPLEMENTED = 12,
  INTERNAL = 13,
  UNAVAILABLE = 14,
  DATA_LOSS = 15,
  UNAUTHENTICATED = 16,
}

// Every failure. `details` carries what gRPC clients get as trailers: `pyml-error` (the
// error kind, e.g. INVALID_INPUT, MODEL_ERROR) and, for model errors, `pyml-exception-type`.
exception PymlError {
  1: ErrorCode code,
  2: string message,
  3: map<string, string> details,
}

service PredictionService {
  // Runs the named model on the payload; errors as in prediction.proto's Predict.
  PredictResponse predict(1: PredictRequest request) throws (1: PymlError error),
  // The models the gateway serves (live deployments and candidates), by name.
  // Only the models the caller may predict with; `authorization` as in PredictRequest.
  list<ModelInfo> listModels(1: string authorization) throws (1: PymlError error),
  // The live deployment of a model (else its candidate); NOT_FOUND when there is none.
  ModelInfo getModel(1: string modelName, 2: string authorization) throws (1: PymlError error),
}
