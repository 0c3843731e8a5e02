package io.pyml.gateway.core;

import com.google.protobuf.ByteString;
import java.util.Objects;

/**
 * Arrow IPC bytes plus what they hold. The gateway never decodes them; {@link ByteString} is
 * kept (rather than byte[]) so that a 64 MiB payload is not copied on its way to the runtime.
 */
public record Payload(PayloadKind kind, ByteString arrowIpc) {
  public Payload {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(arrowIpc, "arrowIpc");
  }

  public int sizeBytes() {
    return arrowIpc.size();
  }
}
