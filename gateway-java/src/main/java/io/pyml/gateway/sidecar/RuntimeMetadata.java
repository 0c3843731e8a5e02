package io.pyml.gateway.sidecar;

import io.pyml.gateway.core.PayloadKind;
import java.util.Map;

/** What a runtime says about its model (from GetMetadata), in domain terms. */
public record RuntimeMetadata(
    String name,
    String version,
    PayloadKind kind,
    String inputSchemaText,
    String outputSchemaText,
    String runtimeVersion,
    String pythonVersion,
    Map<String, String> libraryVersions,
    String modelClass) {

  public RuntimeMetadata {
    libraryVersions = Map.copyOf(libraryVersions);
  }
}
