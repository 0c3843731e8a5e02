package io.pyml.gateway.frontend.oip;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * V2's BYTES tensors in Triton's raw form: per element a 4-byte little-endian length, then its
 * bytes. A {@link Tensor} of BYTES holds this form, checked once where it comes in (every
 * length within what is left, exactly its elements, nothing left over, UTF-8), so that what
 * reads it later walks it without checks. PyML's BYTES carry strings (Arrow Utf8): the runtime
 * would refuse invalid UTF-8 too, but only here is the element known to name it.
 */
final class V2Bytes {
  static final int LENGTH_BYTES = 4;
  private static final String FORM =
      "each a 4-byte little-endian length then its bytes";

  private V2Bytes() {}

  /** One element: its bytes start at {@code at} in the buffer and take {@code length}. */
  interface Element {
    void accept(int index, int at, int length);
  }

  /**
   * {@code raw} if it holds exactly {@code elements} well-formed elements; else INVALID_INPUT
   * naming {@code where} (the model and input). Nothing is allocated for a claimed length.
   */
  static ByteString checked(String where, long elements, ByteString raw) {
    if (elements > raw.size() / LENGTH_BYTES) {
      throw V2Tensors.invalid(where + ": " + raw.size() + " bytes of raw contents cannot hold "
          + elements + " elements (expected: " + FORM + ")");
    }
    ByteBuffer buffer = buffer(raw);
    for (int i = 0; i < elements; i++) {
      if (buffer.remaining() < LENGTH_BYTES) {
        throw V2Tensors.invalid(where + ": element " + i + " of " + elements
            + " has no 4-byte length, " + buffer.remaining() + " bytes are left (expected: "
            + FORM + ")");
      }
      long length = Integer.toUnsignedLong(buffer.getInt());
      if (length > buffer.remaining()) {
        throw V2Tensors.invalid(where + ": element " + i + " of " + elements + " needs "
            + length + " bytes, " + buffer.remaining() + " are left (expected: " + elements
            + " elements, " + FORM + ")");
      }
      int at = buffer.position();
      checkUtf8(where, i, raw.substring(at, at + (int) length));
      buffer.position(at + (int) length);
    }
    if (buffer.hasRemaining()) {
      throw V2Tensors.invalid(where + ": " + buffer.remaining() + " bytes left over after "
          + elements + " elements (expected: " + FORM + ")");
    }
    return raw;
  }

  /** Typed contents ({@code bytes_contents}, one entry per element) in the raw form. */
  static ByteString of(String where, List<ByteString> elements) {
    long size = 0;
    for (int i = 0; i < elements.size(); i++) {
      checkUtf8(where, i, elements.get(i));
      size += LENGTH_BYTES + (long) elements.get(i).size();
    }
    if (size > Integer.MAX_VALUE - 8) {
      throw V2Tensors.invalid(where + ": " + size + " bytes of contents are too large");
    }
    ByteBuffer out = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
    for (ByteString element : elements) {
      out.putInt(element.size());
      element.copyTo(out);
    }
    return UnsafeByteOperations.unsafeWrap(out.array());
  }

  /** Each element of a checked buffer, in order. */
  static void forEach(ByteString prefixed, Element element) {
    ByteBuffer buffer = buffer(prefixed);
    for (int i = 0; buffer.hasRemaining(); i++) {
      int length = buffer.getInt();
      element.accept(i, buffer.position(), length);
      buffer.position(buffer.position() + length);
    }
  }

  /** The bytes from position 0 (a substring's buffer starts where it is in its array). */
  static ByteBuffer buffer(ByteString bytes) {
    return bytes.asReadOnlyByteBuffer().slice().order(ByteOrder.LITTLE_ENDIAN);
  }

  private static void checkUtf8(String where, int index, ByteString element) {
    if (!element.isValidUtf8()) {
      throw V2Tensors.invalid(where + ": element " + index
          + " is not valid UTF-8 (expected: text; BYTES tensors carry strings here)");
    }
  }
}
