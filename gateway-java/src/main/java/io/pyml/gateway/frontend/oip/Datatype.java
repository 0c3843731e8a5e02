package io.pyml.gateway.frontend.oip;

import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.arrow.vector.types.FloatingPointPrecision;
import org.apache.arrow.vector.types.pojo.ArrowType;

/**
 * The V2 datatypes PyML serves, each with its Arrow type and bytes per element on the wire.
 * BYTES holds strings (Arrow Utf8), as Triton and KServe clients send them: its elements vary
 * in size (see {@link V2Bytes}).
 */
enum Datatype {
  BOOL(new ArrowType.Bool(), 1),
  INT8(new ArrowType.Int(8, true), 1),
  INT16(new ArrowType.Int(16, true), 2),
  INT32(new ArrowType.Int(32, true), 4),
  INT64(new ArrowType.Int(64, true), 8),
  UINT8(new ArrowType.Int(8, false), 1),
  UINT16(new ArrowType.Int(16, false), 2),
  UINT32(new ArrowType.Int(32, false), 4),
  UINT64(new ArrowType.Int(64, false), 8),
  FP32(new ArrowType.FloatingPoint(FloatingPointPrecision.SINGLE), 4),
  FP64(new ArrowType.FloatingPoint(FloatingPointPrecision.DOUBLE), 8),
  BYTES(new ArrowType.Utf8(), V2Bytes.LENGTH_BYTES);

  /** Read for every tensor of every call: hash lookups, not walks of the types. */
  private static final Map<ArrowType, Datatype> BY_ARROW = Arrays.stream(values())
      .collect(Collectors.toUnmodifiableMap(type -> type.arrow, type -> type));
  private static final Map<String, Datatype> BY_NAME = Arrays.stream(values())
      .collect(Collectors.toUnmodifiableMap(Datatype::name, type -> type));

  final ArrowType arrow;
  /**
   * V2 raw contents: BOOL is one byte per element (Arrow packs bits; converted both ways); BYTES
   * at least its 4-byte length, so that sizes reckoned from it are lower bounds.
   */
  final int width;

  Datatype(ArrowType arrow, int width) {
    this.arrow = arrow;
    this.width = width;
  }

  static Optional<Datatype> of(String name) {
    return Optional.ofNullable(BY_NAME.get(name));
  }

  static Optional<Datatype> of(ArrowType arrow) {
    return Optional.ofNullable(BY_ARROW.get(arrow));
  }
}
