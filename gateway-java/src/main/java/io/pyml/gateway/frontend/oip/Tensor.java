package io.pyml.gateway.frontend.oip;

import java.util.Arrays;

/**
 * One named tensor, as V2 and Arrow both can hold it: its values little-endian and row-major
 * (BOOL one byte each). Arrays are not copied: a tensor is built once and only read after.
 */
record Tensor(String name, Datatype datatype, long[] shape, byte[] data) {
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
