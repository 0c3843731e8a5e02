package io.pyml.gateway.dispatch;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.pyml.gateway.config.AccessLogSettings;
import io.pyml.gateway.core.JsonDocuments;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.metrics.GatewayMetrics;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * The access log: one line per prediction request, whatever protocol brought it, written where
 * every protocol passes ({@link DataPlane#predict}) as a decorator of the call's future. A line
 * holds the time the call arrived, protocol, model, version, status (OK or the gateway's error
 * kind), latency, payload bytes in and out, the caller's identity (never a credential) and the
 * request id; as {@code key=value} pairs or one JSON object.
 */
public final class AccessLog implements AutoCloseable {
  /** A client chooses the model name and request id: they are cut to this length. */
  static final int MAX_FIELD_CHARS = 256;
  /** Values written bare in plain lines; any other is quoted and escaped as a JSON string. */
  private static final Pattern BARE = Pattern.compile("[A-Za-z0-9._:/()@+-]+");
  private static final JsonFactory JSON = new JsonFactory();

  private static final long NO_VERSION = -1;

  /** No access log: nothing is formatted or written. */
  public static final AccessLog OFF = new AccessLog(null, false, 0, Clock.systemUTC());

  private final AccessLogWriter writer;
  private final boolean json;
  private final double sampleRate;
  private final Clock clock;
  /** What every call gets when no access log is kept: nothing is allocated on its path. */
  private final Entry discarded;

  AccessLog(AccessLogWriter writer, boolean json, double sampleRate, Clock clock) {
    this.writer = writer;
    this.json = json;
    this.sampleRate = sampleRate;
    this.clock = clock;
    this.discarded = new Entry(null, "-"); // after the clock: an entry reads it
  }

  /** The access log the settings ask for (opening its file, if any, now: errors at start). */
  public static AccessLog open(AccessLogSettings settings) throws IOException {
    if (!settings.enabled()) {
      return OFF;
    }
    AccessLogWriter writer;
    try {
      writer = settings.file().isPresent()
          ? AccessLogWriter.toFile(settings.file().get()) : AccessLogWriter.toStderr();
    } catch (IOException e) {
      throw new IOException("cannot open the access log " + settings.destination()
          + " (--access-log): " + e, e);
    }
    return new AccessLog(writer, settings.json(), settings.sampleRate(), Clock.systemUTC());
  }

  /** One request on its way: who called is known once the data plane has authenticated it. */
  final class Entry {
    private final PredictCall call;
    private final String requestId;
    private final Instant arrived = clock.instant();
    private final long start = System.nanoTime();
    private volatile String caller = "-";
    private volatile long version = NO_VERSION; // until routed (home folders are version 0)

    private Entry(PredictCall call, String requestId) {
      this.call = call;
      this.requestId = requestId;
    }

    void caller(String identity) {
      if (this != discarded) {
        caller = identity;
      }
    }

    void routedTo(long deployedVersion) {
      if (this != discarded) {
        version = deployedVersion;
      }
    }
  }

  Entry start(PredictCall call, String requestId) {
    return writer == null ? discarded : new Entry(call, requestId);
  }

  /** {@code result}, logged once it completes (a sample of the successes, every failure). */
  CompletableFuture<PredictResult> record(Entry entry, CompletableFuture<PredictResult> result) {
    if (writer == null) {
      return result;
    }
    return result.whenComplete((answer, error) -> {
      if (error == null && sampleRate < 1
          && ThreadLocalRandom.current().nextDouble() >= sampleRate) {
        return;
      }
      writer.write(line(entry, answer, error));
    });
  }

  private String line(Entry entry, PredictResult answer, Throwable error) {
    PredictCall call = entry.call;
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("time", entry.arrived.toString());
    fields.put("protocol", call.protocol().wireName());
    fields.put("model", cut(call.modelName()));
    // The version that answered, else the one routed to or asked for: "-" when none is known.
    long version = answer != null ? answer.modelVersion()
        : entry.version != NO_VERSION ? entry.version : call.version().orElse(NO_VERSION);
    fields.put("version", version != NO_VERSION ? (Object) version : "-");
    fields.put("status", GatewayMetrics.outcome(error));
    fields.put("latency_ms", Math.round((System.nanoTime() - entry.start) / 1e3) / 1e3);
    fields.put("bytes_in", bytes(call.payload()));
    fields.put("bytes_out", answer == null ? 0 : bytes(answer.payload()));
    fields.put("caller", cut(entry.caller));
    fields.put("request_id", cut(entry.requestId));
    return json ? jsonLine(fields) : plainLine(fields);
  }

  private static int bytes(Payload payload) {
    return payload == null ? 0 : payload.sizeBytes();
  }

  private static String cut(String text) {
    return text.length() > MAX_FIELD_CHARS ? text.substring(0, MAX_FIELD_CHARS) : text;
  }

  private static String plainLine(Map<String, Object> fields) {
    StringBuilder line = new StringBuilder();
    fields.forEach((key, value) -> {
      if (line.length() > 0) {
        line.append(' ');
      }
      line.append(key).append('=');
      String text = value instanceof Double d ? String.format(Locale.ROOT, "%.3f", d)
          : String.valueOf(value);
      if (BARE.matcher(text).matches()) {
        line.append(text);
      } else {
        // Quoted and escaped: a hostile name cannot forge a field or a second line.
        line.append('"').append(JsonStringEncoder.getInstance().quoteAsString(text))
            .append('"');
      }
    });
    return line.toString();
  }

  private static String jsonLine(Map<String, Object> fields) {
    return new String(JsonDocuments.write(JSON, out -> {
      out.writeStartObject();
      for (Map.Entry<String, Object> field : fields.entrySet()) {
        Object value = field.getValue();
        if (value instanceof Number number) {
          out.writeFieldName(field.getKey());
          if (number instanceof Double d) {
            out.writeNumber(d);
          } else {
            out.writeNumber(number.longValue());
          }
        } else {
          out.writeStringField(field.getKey(), String.valueOf(value));
        }
      }
      out.writeEndObject();
    }), StandardCharsets.UTF_8);
  }

  /** Writes the lines queued so far, then stops writing. */
  @Override
  public void close() {
    if (writer != null) {
      writer.close();
    }
  }
}
