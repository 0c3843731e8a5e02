package io.pyml.gateway.sidecar;

import io.pyml.gateway.core.Payload;
import io.pyml.gateway.core.PayloadKind;
import io.pyml.proto.v1.ModelMetadata;
import io.pyml.proto.v1.ValidationReport;

/** Converters between the sidecar API's generated classes and domain types. */
final class RuntimeProtos {
  private RuntimeProtos() {}

  static io.pyml.proto.v1.Payload toProto(Payload payload) {
    return io.pyml.proto.v1.Payload.newBuilder()
        .setKind(toProto(payload.kind()))
        .setArrowIpc(payload.arrowIpc())
        .build();
  }

  static Payload fromProto(io.pyml.proto.v1.Payload payload) {
    return new Payload(fromProto(payload.getKind()), payload.getArrowIpc());
  }

  static io.pyml.proto.v1.PayloadKind toProto(PayloadKind kind) {
    return switch (kind) {
      case DATAFRAME -> io.pyml.proto.v1.PayloadKind.PAYLOAD_KIND_DATAFRAME;
      case TENSORS -> io.pyml.proto.v1.PayloadKind.PAYLOAD_KIND_TENSORS;
      case UNSPECIFIED -> io.pyml.proto.v1.PayloadKind.PAYLOAD_KIND_UNSPECIFIED;
    };
  }

  static PayloadKind fromProto(io.pyml.proto.v1.PayloadKind kind) {
    return switch (kind) {
      case PAYLOAD_KIND_DATAFRAME -> PayloadKind.DATAFRAME;
      case PAYLOAD_KIND_TENSORS -> PayloadKind.TENSORS;
      default -> PayloadKind.UNSPECIFIED;
    };
  }

  static RuntimeMetadata fromProto(ModelMetadata metadata) {
    return new RuntimeMetadata(
        metadata.getName(),
        metadata.getVersion(),
        fromProto(metadata.getKind()),
        metadata.getInputSchemaText(),
        metadata.getOutputSchemaText(),
        metadata.getRuntimeVersion(),
        metadata.getPythonVersion(),
        metadata.getLibraryVersionsMap(),
        metadata.getModelClass(),
        metadata.getInputSchema(),
        metadata.getOutputSchema(),
        new RuntimeMetadata.Batching(metadata.getBatching().getEnabled(),
            metadata.getBatching().getMaxRows(), metadata.getBatching().getMaxDelayMs()),
        metadata.getSidecarProtocol());
  }

  static ValidationResult fromProto(ValidationReport report) {
    return new ValidationResult(report.getPassed(), report.getDiff(), report.getRows());
  }
}
