package io.pyml.gateway.dispatch;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The access log's one writer thread. Request threads never wait for the disk: a line goes
 * through a bounded queue, and when the queue is full (a slow disk, a flood of calls) it is
 * dropped and counted, and the writer records how many were lost, as the audit log does
 * with refusals.
 */
final class AccessLogWriter implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(AccessLogWriter.class.getName());
  static final int CAPACITY = 10_000;
  private static final String STOP = new String("stop"); // compared by identity

  private final BlockingQueue<String> queue;
  private final AtomicLong dropped = new AtomicLong();
  private final Writer out;
  private final boolean ownsOut;
  private final Thread thread;

  /** @param ownsOut close {@code out} at the end (a file); else only flush it (stderr) */
  AccessLogWriter(Writer out, boolean ownsOut, int capacity) {
    this.out = out;
    this.ownsOut = ownsOut;
    this.queue = new ArrayBlockingQueue<>(capacity);
    this.thread = new Thread(this::run, "pyml-access-log");
    thread.setDaemon(true);
    thread.start();
  }

  /** Appends to {@code file}, creating it if need be. */
  static AccessLogWriter toFile(Path file) throws IOException {
    return new AccessLogWriter(Files.newBufferedWriter(file, StandardCharsets.UTF_8,
        StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE),
        true, CAPACITY);
  }

  static AccessLogWriter toStderr() {
    return new AccessLogWriter(new BufferedWriter(
        new OutputStreamWriter(System.err, StandardCharsets.UTF_8)), false, CAPACITY);
  }

  /** Queues one line; drops and counts it when the queue is full. */
  void write(String line) {
    if (!queue.offer(line)) {
      dropped.incrementAndGet();
    }
  }

  /** Lines dropped since the last report of them (for tests). */
  long dropped() {
    return dropped.get();
  }

  private void run() {
    while (true) {
      String line;
      try {
        line = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      if (line == STOP) {
        flush();
        return;
      }
      append(line);
      long lost = dropped.getAndSet(0);
      if (lost > 0) {
        append("access_log_dropped=" + lost + " (the access log's queue was full)");
      }
      if (queue.isEmpty()) {
        flush(); // a burst is written in one go; a quiet log is on disk at once
      }
    }
  }

  private void append(String line) {
    try {
      out.write(line);
      out.write('\n');
    } catch (IOException e) {
      LOG.log(Level.WARNING, "cannot write the access log: " + e.getMessage());
    }
  }

  private void flush() {
    try {
      out.flush();
    } catch (IOException e) {
      LOG.log(Level.WARNING, "cannot write the access log: " + e.getMessage());
    }
  }

  /** Writes what is queued, then stops (the file is closed; stderr is only flushed). */
  @Override
  public void close() {
    try {
      queue.put(STOP);
      thread.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      if (ownsOut) {
        out.close();
      } else {
        out.flush();
      }
    } catch (IOException e) {
      LOG.log(Level.WARNING, "cannot close the access log: " + e.getMessage());
    }
  }
}
