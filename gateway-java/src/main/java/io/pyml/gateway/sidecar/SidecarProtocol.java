package io.pyml.gateway.sidecar;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.GatewayVersion;
import io.pyml.gateway.core.RuntimeStatus;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The sidecar protocol's version, the gateway's side (the runtime's is pyml_runtime.protocol).
 * A model image carries the runtime it was packaged with, and the gateway serving it may be of
 * another PyML: both sides say which protocol they speak in GetMetadata, the first call after
 * the runtime loaded, and each refuses one it cannot serve. A mismatch fails the deployment
 * for good (like a bad image: restarting the same image cannot help), with one message that
 * names both sides and the fix.
 */
public final class SidecarProtocol {
  /** The sidecar protocol this gateway speaks. 0 on the wire: a peer from before versioning. */
  public static final int VERSION = 1;

  /** The runtime's refusal: its error kind and what it says of itself. */
  static final String MISMATCH = "PROTOCOL_MISMATCH";
  static final String RUNTIME_VERSION_TRAILER = "pyml-runtime-version";
  static final String PROTOCOL_TRAILER = "pyml-sidecar-protocol";
  static final int MAX_VERSION_CHARS = 40;

  private SidecarProtocol() {}

  /**
   * The one rule of which runtimes this gateway serves: those of exactly its protocol. Why
   * exactly: there is one protocol so far, so no other is known to be safe; a runtime from
   * before versioning (0) is refused too, since it cannot tell what it speaks. When protocol 2
   * comes, this is where a gateway that can still serve runtimes of 1 says so.
   */
  static boolean accepts(int runtimeProtocol) {
    return runtimeProtocol == VERSION;
  }

  /**
   * Asks the runtime for its model's metadata, saying which protocol this gateway speaks;
   * answers it only when the two can talk. Otherwise, whichever side noticed,
   * FAILED_PRECONDITION with {@link #mismatch}'s message.
   *
   * @param modelVersion the deployed version, for the message
   */
  public static RuntimeMetadata metadata(SidecarClient client, String model, long modelVersion,
      Duration timeout) {
    RuntimeMetadata metadata;
    try {
      metadata = client.metadata(timeout);
    } catch (GatewayException e) {
      Optional<RuntimeStatus> refusal = e.runtimeStatus()
          .filter(status -> MISMATCH.equals(status.trailers().get(SidecarErrors.ERROR_TRAILER)));
      if (refusal.isEmpty()) {
        throw e;
      }
      Map<String, String> trailers = refusal.get().trailers();
      throw mismatch(model, modelVersion, trailers.getOrDefault(RUNTIME_VERSION_TRAILER, ""),
          protocolOf(trailers.getOrDefault(PROTOCOL_TRAILER, "")));
    }
    if (!accepts(metadata.sidecarProtocol())) {
      throw mismatch(model, modelVersion, metadata.runtimeVersion(), metadata.sidecarProtocol());
    }
    return metadata;
  }

  /** The one message of a mismatch: the model, both sides' PyML and protocol, the fix. */
  static GatewayException mismatch(String model, long modelVersion, String runtimeVersion,
      int runtimeProtocol) {
    // The runtime shares its process with model code: what it says of itself is shown bounded.
    String said = runtimeVersion.strip();
    said = said.length() > MAX_VERSION_CHARS ? said.substring(0, MAX_VERSION_CHARS) + "…" : said;
    String runtime = said.isEmpty() ? "an unknown PyML" : "PyML " + said;
    String gateway = GatewayVersion.current();
    return new GatewayException(ErrorKind.FAILED_PRECONDITION, "model '" + model + "' version "
        + modelVersion + " cannot be served by this gateway: its runtime is " + runtime
        + " (sidecar protocol " + describe(runtimeProtocol) + ") and this gateway is PyML "
        + gateway + " (sidecar protocol " + VERSION + "). Package the model again with PyML "
        + gateway + " (`pyml package`), or serve it with a gateway of " + runtime);
  }

  private static String describe(int protocol) {
    return switch (protocol) {
      case 0 -> "0: from before versioning";
      case -1 -> "unknown";
      default -> String.valueOf(protocol);
    };
  }

  /** A trailer the runtime wrote: a number, or -1 when it is not one. */
  private static int protocolOf(String text) {
    try {
      return Integer.parseInt(text.strip());
    } catch (NumberFormatException e) {
      return -1;
    }
  }
}
