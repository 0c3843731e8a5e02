package io.pyml.gateway.frontend.oip;

import com.google.protobuf.ByteString;
import java.util.Arrays;

/**
 * One named tensor, as V2 and Arrow both can hold it: its values little-endian and row-major
 * (BOOL one byte each; BYTES each a 4-byte length then its bytes, checked by {@link V2Bytes}),
 * as the request's or answer's own bytes (a ByteString is not copied from a message or into
 * one). The shape array is not copied: a tensor is only read once built.
 */
record Tensor(String name, Datatype datatype, long[] shape, ByteString data) {
  Tensor(String name, Datatype datatype, long[] shape, byte[] data) {
    this(name, datatype, shape, ByteString.copyFrom(data));
  }

  static long elements(long[] shape) {
    long count = 1;
    for (long dimension : shape) {
      count = Math.multiplyExact(count, dimension);
    }
    return count;
  }

  long elements() {
    return elements(shape);
  }

  static String shapeText(long[] shape) {
    return Arrays.toString(shape);
  }
}
