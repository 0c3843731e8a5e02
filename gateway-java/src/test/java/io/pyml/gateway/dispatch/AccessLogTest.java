package io.pyml.gateway.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.core.Payload;
import io.pyml.gateway.core.PayloadKind;
import io.pyml.gateway.identity.Credentials;
import java.io.IOException;
import java.io.StringWriter;
import java.io.Writer;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The access log's lines, its sampling, and its writer that never makes a call wait. */
class AccessLogTest {
  static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);
  static final Payload FIVE_BYTES = new Payload(PayloadKind.DATAFRAME,
      ByteString.copyFromUtf8("hello"));

  static PredictCall call(String model, String requestId) {
    return new PredictCall(model, OptionalLong.of(3), FIVE_BYTES, requestId, Optional.empty(),
        Credentials.NONE, Protocol.THRIFT);
  }

  static CompletableFuture<PredictResult> ok(PredictCall call) {
    return CompletableFuture.completedFuture(new PredictResult(call.modelName(), 3,
        new Payload(PayloadKind.DATAFRAME, ByteString.copyFromUtf8("ab")), call.requestId()));
  }

  static CompletableFuture<PredictResult> failed() {
    return CompletableFuture.failedFuture(new GatewayException(ErrorKind.UNAVAILABLE, "down"));
  }

  /** Logs each call through {@code log}, closes it (writing what is queued), returns lines. */
  static List<String> lines(StringWriter out, AccessLog log) {
    log.close();
    return out.toString().lines().toList();
  }

  @Test
  void jsonLinesHoldEveryField() throws Exception {
    StringWriter out = new StringWriter();
    AccessLog log = new AccessLog(new AccessLogWriter(out, true, 16), true, 1.0, CLOCK);
    PredictCall call = call("m", "r-1");
    AccessLog.Entry entry = log.start(call, "r-1");
    entry.caller("ann");
    log.record(entry, ok(call));
    JsonNode line = new ObjectMapper().readTree(lines(out, log).get(0));
    assertEquals("2026-01-02T03:04:05Z", line.get("time").asText());
    assertEquals("thrift", line.get("protocol").asText());
    assertEquals("m", line.get("model").asText());
    assertEquals(3, line.get("version").asLong());
    assertEquals("OK", line.get("status").asText());
    assertTrue(line.get("latency_ms").isNumber(), line.toString());
    assertEquals(5, line.get("bytes_in").asLong());
    assertEquals(2, line.get("bytes_out").asLong());
    assertEquals("ann", line.get("caller").asText());
    assertEquals("r-1", line.get("request_id").asText());
  }

  @Test
  void aHostileNameStaysInsideItsFieldOnOneLine() {
    StringWriter out = new StringWriter();
    AccessLog log = new AccessLog(new AccessLogWriter(out, true, 16), false, 1.0, CLOCK);
    String hostile = "x\nstatus=OK \"y\" " + "z".repeat(1000);
    log.record(log.start(call(hostile, "r"), "r"), failed());
    List<String> lines = lines(out, log);
    assertEquals(1, lines.size(), lines.toString());
    assertTrue(lines.get(0).contains(" model=\"x\\nstatus=OK \\\"y\\\" zzz"), lines.get(0));
    assertTrue(lines.get(0).contains(" status=UNAVAILABLE "), lines.get(0));
    assertTrue(lines.get(0).length() < 2 * AccessLog.MAX_FIELD_CHARS + 300, "cut to length");
  }

  @Test
  void aHomeFolderIsVersionZeroAndAnUnknownVersionADash() {
    StringWriter out = new StringWriter();
    AccessLog log = new AccessLog(new AccessLogWriter(out, true, 16), false, 1.0, CLOCK);
    PredictCall home = new PredictCall("h", OptionalLong.empty(), FIVE_BYTES, "r", Optional.empty(),
        Credentials.NONE, Protocol.GRPC);
    log.record(log.start(home, "r"), CompletableFuture.completedFuture(
        new PredictResult("h", 0, FIVE_BYTES, "r")));
    log.record(log.start(home, "r"), failed());
    AccessLog.Entry routed = log.start(home, "r");
    routed.routedTo(0);
    log.record(routed, failed());
    List<String> lines = lines(out, log);
    assertTrue(lines.get(0).contains(" version=0 status=OK "), lines.get(0));
    assertTrue(lines.get(1).contains(" version=- status=UNAVAILABLE "), lines.get(1));
    assertTrue(lines.get(2).contains(" version=0 status=UNAVAILABLE "), lines.get(2));
  }

  @Test
  void samplingDropsSuccessesButKeepsEveryFailure() {
    StringWriter out = new StringWriter();
    AccessLog log = new AccessLog(new AccessLogWriter(out, true, 64), false, 0.0, CLOCK);
    for (int i = 0; i < 10; i++) {
      PredictCall call = call("m", "ok-" + i);
      log.record(log.start(call, call.requestId()), ok(call));
      log.record(log.start(call("m", "bad-" + i), "bad-" + i), failed());
    }
    List<String> lines = lines(out, log);
    assertEquals(10, lines.size(), lines.toString());
    assertTrue(lines.stream().allMatch(line -> line.contains("status=UNAVAILABLE")));
  }

  @Test
  void aStuckDiskDropsAndCountsLinesWithoutBlockingCalls() throws Exception {
    CountDownLatch unstuck = new CountDownLatch(1);
    StringWriter written = new StringWriter();
    Writer stuck = new Writer() {
      @Override
      public void write(char[] text, int offset, int length) throws IOException {
        try {
          unstuck.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        written.write(text, offset, length);
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
    AccessLogWriter writer = new AccessLogWriter(stuck, true, 4);
    AccessLog log = new AccessLog(writer, false, 1.0, CLOCK);
    for (int i = 0; i < 20; i++) { // the writer holds one line, the queue four more
      log.record(log.start(call("m", "r" + i), "r" + i), failed());
    }
    assertTrue(writer.dropped() >= 15 - 1, "dropped " + writer.dropped());
    unstuck.countDown();
    log.close();
    // Every call is either written or counted in the one line that says how many were lost.
    List<String> lines = written.toString().lines().toList();
    List<String> counts = lines.stream().filter(l -> l.startsWith("access_log_dropped="))
        .toList();
    assertEquals(1, counts.size(), lines.toString());
    long dropped = Long.parseLong(counts.get(0).split("[= ]")[1]);
    assertEquals(20, lines.size() - 1 + dropped, lines.toString());
  }
}
