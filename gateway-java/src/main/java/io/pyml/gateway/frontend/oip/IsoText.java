package io.pyml.gateway.frontend.oip;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import org.apache.arrow.vector.DateDayVector;
import org.apache.arrow.vector.DateMilliVector;
import org.apache.arrow.vector.FieldVector;
import org.apache.arrow.vector.TimeStampVector;
import org.apache.arrow.vector.types.pojo.ArrowType;

/**
 * A DataFrame answer's timestamps and dates as ISO-8601 text (V2 has no time datatype; BYTES
 * carries them, as it carries them in): a timestamp with a zone gets its offset there, one
 * without none; a date is a date.
 */
final class IsoText {
  private static final long MICROS = 1_000_000;
  private static final long NANOS = 1_000_000_000;
  private static final long MILLIS_PER_DAY = 86_400_000;

  private IsoText() {}

  /** The value at {@code index} of a timestamp or date vector. */
  static String of(FieldVector vector, int index) {
    if (vector instanceof DateDayVector days) {
      return LocalDate.ofEpochDay(days.get(index)).toString();
    }
    if (vector instanceof DateMilliVector millis) {
      return LocalDate.ofEpochDay(Math.floorDiv(millis.get(index), MILLIS_PER_DAY)).toString();
    }
    ArrowType.Timestamp type = (ArrowType.Timestamp) vector.getField().getType();
    long value = ((TimeStampVector) vector).get(index);
    Instant instant = switch (type.getUnit()) {
      case SECOND -> Instant.ofEpochSecond(value);
      case MILLISECOND -> Instant.ofEpochMilli(value);
      case MICROSECOND -> Instant.ofEpochSecond(Math.floorDiv(value, MICROS),
          Math.floorMod(value, MICROS) * 1000);
      case NANOSECOND -> Instant.ofEpochSecond(Math.floorDiv(value, NANOS),
          Math.floorMod(value, NANOS));
    };
    if (type.getTimezone() == null) {
      return DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(
          LocalDateTime.ofInstant(instant, ZoneOffset.UTC));
    }
    try {
      return DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(
          instant.atZone(ZoneId.of(type.getTimezone())));
    } catch (DateTimeException e) {
      throw new GatewayException(ErrorKind.INTERNAL, "tensor '" + vector.getName()
          + "' has the time zone '" + type.getTimezone() + "', which Java does not know", e);
    }
  }
}
