package io.pyml.gateway.core;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/** JSON documents written with Jackson's streaming generator, as UTF-8 bytes. */
public final class JsonDocuments {
  private JsonDocuments() {}

  /** What writes one JSON document. */
  @FunctionalInterface
  public interface Writer {
    void write(JsonGenerator out) throws IOException;
  }

  /** The document {@code writer} writes. */
  public static byte[] write(JsonFactory json, Writer writer) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (JsonGenerator out = json.createGenerator(bytes)) {
      writer.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(e); // into memory: does not happen
    }
    return bytes.toByteArray();
  }
}
