package io.pyml.gateway.sidecar;

import com.google.protobuf.ByteString;
import io.pyml.gateway.core.PayloadKind;
import java.util.Map;

/**
 * What a runtime says about its model (from GetMetadata), in domain terms. The schemas are
 * Arrow IPC schema messages, kept as bytes: only the OIP front end reads them.
 */
public record RuntimeMetadata(
    String name,
    String version,
    PayloadKind kind,
    String inputSchemaText,
    String outputSchemaText,
    String runtimeVersion,
    String pythonVersion,
    Map<String, String> libraryVersions,
    String modelClass,
    ByteString inputSchema,
    ByteString outputSchema) {

  public RuntimeMetadata {
    libraryVersions = Map.copyOf(libraryVersions);
  }
}
