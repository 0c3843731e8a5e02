package io.pyml.gateway.identity;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The audit log's one writer. Calls never wait for the disk: entries go through a bounded
 * queue to one thread that appends them in order. An admin action waits for room in the
 * queue (it is never dropped); a refused call does not, so a flood of refused calls cannot
 * slow anyone down or fill the disk faster than the queue drains: what does not fit is
 * counted and recorded as one line saying how many refusals went unrecorded.
 */
public final class AuditLog implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(AuditLog.class.getName());
  private static final int CAPACITY = 10_000;
  private static final int MAX_DETAIL_CHARS = 1024;
  /** How long a reader waits for the entries written before its query to be stored. */
  private static final Duration READ_WAIT = Duration.ofSeconds(2);
  private static final AuditEntry STOP = new AuditEntry(-1, null, "", "", "", 0, "", "");

  private final IdentityStore store;
  private final Clock clock;
  private final BlockingQueue<AuditEntry> queue = new ArrayBlockingQueue<>(CAPACITY);
  private final AtomicLong lastSeq;
  private final AtomicLong dropped = new AtomicLong();
  private final Object progress = new Object();
  private long stored;
  private final Thread writer;

  public AuditLog(IdentityStore store, Clock clock) {
    this.store = store;
    this.clock = clock;
    this.lastSeq = new AtomicLong(store.lastAuditSeq());
    this.stored = lastSeq.get();
    this.writer = new Thread(this::write, "pyml-audit");
    writer.setDaemon(true);
    writer.start();
  }

  /** An admin action (or its failure): recorded, waiting for room in the queue if need be. */
  public void action(String identity, String action, String model, long version,
      String outcome, String detail) {
    try {
      queue.put(entry(identity, action, model, version, outcome, detail));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A refused call: recorded if the queue has room, else counted. */
  public void refusal(String identity, String action, String model, long version,
      String outcome, String detail) {
    if (!queue.offer(entry(identity, action, model, version, outcome, detail))) {
      dropped.incrementAndGet();
    }
  }

  /** The entries the query selects, including every one recorded before this call. */
  public List<AuditEntry> read(IdentityStore.AuditQuery query) {
    long upTo = lastSeq.get();
    long deadline = System.nanoTime() + READ_WAIT.toNanos();
    synchronized (progress) {
      while (stored < upTo && System.nanoTime() < deadline) {
        try {
          progress.wait(50);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    return store.audit(query);
  }

  private synchronized AuditEntry entry(String identity, String action, String model,
      long version, String outcome, String detail) {
    // Numbered under this lock so the queue holds them in sequence order.
    String shortDetail = detail.length() > MAX_DETAIL_CHARS
        ? detail.substring(0, MAX_DETAIL_CHARS) : detail;
    return new AuditEntry(lastSeq.incrementAndGet(), clock.instant(), identity, action, model,
        version, outcome, shortDetail);
  }

  private void write() {
    while (true) {
      AuditEntry next;
      try {
        next = queue.take();
      } catch (InterruptedException e) {
        return;
      }
      if (next == STOP) {
        return;
      }
      store(next);
      long lost = dropped.getAndSet(0);
      if (lost > 0) {
        store(entry("-", "refusals", "", 0, AuditEntry.FAILED,
            lost + " refused calls were not recorded: the audit queue was full"));
      }
    }
  }

  private void store(AuditEntry entry) {
    try {
      store.appendAudit(entry);
    } catch (RuntimeException e) {
      LOG.log(Level.SEVERE, "cannot record an audit entry (" + entry.action() + " by "
          + entry.identity() + "): " + e.getMessage(), e);
    }
    synchronized (progress) {
      stored = Math.max(stored, entry.seq());
      progress.notifyAll();
    }
  }

  /** Writes what is queued, then stops the writer. */
  @Override
  public void close() {
    try {
      queue.put(STOP);
      writer.join(TimeUnit.SECONDS.toMillis(5));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
