package io.pyml.gateway.sidecar;

import com.google.protobuf.ByteString;
import io.pyml.gateway.core.PayloadKind;
import java.util.Map;

/**
 * What a runtime says about its model (from GetMetadata), in domain terms. The schemas are
 * Arrow IPC schema messages, kept as bytes: only the OIP front end reads them. The runtime's
 * sidecar protocol is 0 for a runtime from before versioning (see {@link SidecarProtocol}).
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
    ByteString outputSchema,
    Batching batching,
    int sidecarProtocol) {

  public RuntimeMetadata {
    libraryVersions = Map.copyOf(libraryVersions);
  }

  /**
   * The model's adaptive batching settings (its pyml.toml), which the gateway follows.
   *
   * @param maxRows rows the runtime gives the model in one call at most
   * @param maxDelayMs how long a batch may wait for its share of the calls in flight (0: not
   *     at all)
   */
  public record Batching(boolean enabled, long maxRows, long maxDelayMs) {
    public static final Batching OFF = new Batching(false, 0, 0);
  }
}
