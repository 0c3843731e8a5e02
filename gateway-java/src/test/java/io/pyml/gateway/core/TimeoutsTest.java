package io.pyml.gateway.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class TimeoutsTest {
  @Test
  void aDeadlineRunsWhenItsCallOutlivesItAndNeverAfterTheCallEnded() throws Exception {
    CountDownLatch expired = new CountDownLatch(1);
    long start = System.nanoTime();
    Timeouts.onTimeout(new CompletableFuture<>(), Duration.ofMillis(30), expired::countDown);
    assertTrue(expired.await(5, TimeUnit.SECONDS));
    assertTrue(System.nanoTime() - start >= Duration.ofMillis(30).toNanos());

    AtomicInteger ranAfterTheEnd = new AtomicInteger();
    for (int i = 0; i < 100; i++) {
      CompletableFuture<Void> call = new CompletableFuture<>();
      Timeouts.onTimeout(call, Duration.ofMillis(20), ranAfterTheEnd::incrementAndGet);
      call.complete(null);
    }
    Thread.sleep(200);
    assertEquals(0, ranAfterTheEnd.get());
  }

  /**
   * At one call at a time, every deadline set used to wake the timer's thread (a
   * ScheduledThreadPoolExecutor signals it when a new task is the first due): two wake-ups a
   * 1-row call. Now the thread wakes at its ticks only, however many deadlines come and go.
   */
  @Test
  void settingAndCancellingDeadlinesOneAtATimeWakesNoThread() throws Exception {
    CompletableFuture<Void> first = new CompletableFuture<>();
    Timeouts.onTimeout(first, Duration.ofSeconds(30), () -> { }); // the thread starts
    first.complete(null);
    Thread.sleep(50);
    int calls = 4000;
    long before = switches(Timeouts.DEADLINE_THREAD);
    for (int i = 0; i < calls; i++) {
      CompletableFuture<Void> call = new CompletableFuture<>();
      Timeouts.onTimeout(call, Duration.ofSeconds(30), () -> { });
      LockSupport.parkNanos(50_000); // one call at a time: the timer's thread idles between
      call.complete(null);
    }
    long woken = switches(Timeouts.DEADLINE_THREAD) - before;
    assertTrue(woken < calls / 4, woken + " thread switches for " + calls + " deadlines");
  }

  /** The context switches of this JVM's thread whose name starts so (Linux's /proc). */
  private static long switches(String threadName) throws IOException {
    String comm = threadName.substring(0, Math.min(15, threadName.length()));
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      long total = 0;
      int found = 0;
      for (Path task : tasks.toList()) {
        if (nameOf(task).startsWith(comm)) {
          found++;
          for (String line : Files.readAllLines(task.resolve("status"))) {
            if (line.contains("ctxt_switches")) {
              total += Long.parseLong(line.split("\\s+")[1]);
            }
          }
        }
      }
      assertEquals(1, found, "threads named " + threadName);
      return total;
    }
  }

  /** A task's name; "" for one that ended since the folder was listed (another test's thread). */
  private static String nameOf(Path task) throws IOException {
    try {
      return Files.readString(task.resolve("comm")).strip();
    } catch (NoSuchFileException e) {
      return "";
    }
  }
}
