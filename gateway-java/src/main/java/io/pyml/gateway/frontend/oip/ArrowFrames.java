package io.pyml.gateway.frontend.oip;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.apache.arrow.flatbuf.Field;
import org.apache.arrow.flatbuf.Message;
import org.apache.arrow.flatbuf.MessageHeader;
import org.apache.arrow.flatbuf.MetadataVersion;
import org.apache.arrow.flatbuf.Schema;

/**
 * The messages of an Arrow IPC stream that a model's container wrote, checked before anything
 * reads them. Arrow's reader allocates what a message claims (up to 2 GiB of heap for one
 * message's metadata, whatever the stream's size) and converts a schema's nested fields by
 * recursion without a bound; a model runs arbitrary code. A stream passes when each message
 * (the continuation marker, its metadata's length, the metadata, its body) lies inside it and
 * is a schema, dictionary batch or record batch of metadata version V4 or V5, the first is a
 * schema whose fields nest at most one level (a tensor's list and its items), and it ends
 * where its last message does, or with the end-of-stream marker.
 */
final class ArrowFrames {
  static final int CONTINUATION = 0xFFFFFFFF;

  private ArrowFrames() {}

  /**
   * One message: {@code start} its continuation marker, {@code metadataEnd} where its body
   * starts, {@code end} where it ends (byte positions in the stream).
   */
  record Frame(Message message, int start, int metadataEnd, int end) {
    int bodyLength() {
      return end - metadataEnd;
    }
  }

  /** The stream's messages, schema first; INTERNAL naming {@code what} when it is malformed. */
  static List<Frame> of(ByteBuffer stream, String what) {
    ByteBuffer bytes = stream.slice().order(ByteOrder.LITTLE_ENDIAN);
    List<Frame> frames = new ArrayList<>();
    int at = 0;
    try {
      while (at < bytes.limit()) {
        int left = bytes.limit() - at;
        if (left < 8 || bytes.getInt(at) != CONTINUATION) {
          throw malformed(what, "at byte " + at + ", no message (expected the continuation "
              + "marker and a length; streams before Arrow 0.15 are not read)");
        }
        int length = bytes.getInt(at + 4);
        if (length == 0 && left == 8) {
          break; // the end-of-stream marker
        }
        if (length <= 0 || length > left - 8) {
          throw malformed(what, "the message at byte " + at + " claims " + length
              + " bytes of metadata, " + (left - 8) + " are left");
        }
        int metadataEnd = at + 8 + length;
        Message message = Message.getRootAsMessage(
            bytes.slice(at + 8, length).order(ByteOrder.LITTLE_ENDIAN));
        if (message.version() != MetadataVersion.V4 && message.version() != MetadataVersion.V5) {
          throw malformed(what, "the message at byte " + at + " has metadata version "
              + message.version() + " (expected V4 or V5, Arrow 0.15 and later)");
        }
        byte header = message.headerType();
        if (header != MessageHeader.Schema && header != MessageHeader.DictionaryBatch
            && header != MessageHeader.RecordBatch) {
          throw malformed(what, "the message at byte " + at + " is of type " + header
              + " (expected a schema, a dictionary batch or a record batch)");
        }
        long body = message.bodyLength();
        if (body < 0 || body > bytes.limit() - metadataEnd) {
          throw malformed(what, "the message at byte " + at + " claims a body of " + body
              + " bytes, " + (bytes.limit() - metadataEnd) + " are left");
        }
        frames.add(new Frame(message, at, metadataEnd, metadataEnd + (int) body));
        at = metadataEnd + (int) body;
      }
      if (frames.isEmpty() || frames.get(0).message.headerType() != MessageHeader.Schema) {
        throw malformed(what, "it does not start with a schema");
      }
      requireShallow((Schema) frames.get(0).message.header(new Schema()), what);
    } catch (GatewayException e) {
      throw e;
    } catch (RuntimeException e) { // flatbuffers read their offsets unchecked
      throw malformed(what, "unreadable metadata (" + e + ")");
    }
    return frames;
  }

  /** Fields nest at most one level: a fixed-shape tensor's list and its items. */
  private static void requireShallow(Schema schema, String what) {
    Field field = new Field();
    Field child = new Field();
    for (int i = 0; i < schema.fieldsLength(); i++) {
      schema.fields(field, i);
      if (field.childrenLength() > 1
          || (field.childrenLength() == 1 && field.children(child, 0).childrenLength() > 0)) {
        throw malformed(what, "field " + i + " nests deeper than a tensor's list of items");
      }
    }
  }

  private static GatewayException malformed(String what, String fault) {
    return new GatewayException(ErrorKind.INTERNAL, what + " is not a well-formed Arrow "
        + "stream: " + fault);
  }
}
