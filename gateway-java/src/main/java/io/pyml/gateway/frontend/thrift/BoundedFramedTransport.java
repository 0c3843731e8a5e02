package io.pyml.gateway.frontend.thrift;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;
import org.apache.thrift.TConfiguration;
import org.apache.thrift.transport.TMemoryInputTransport;
import org.apache.thrift.transport.TSocket;
import org.apache.thrift.transport.TTransport;
import org.apache.thrift.transport.TTransportException;
import org.apache.thrift.transport.TTransportFactory;
import org.apache.thrift.transport.layered.TLayeredTransport;

/**
 * Thrift's framed transport (a 4-byte big-endian length, then the message) over one blocking
 * socket, with the limits libthrift's own framed transports lack: a connection that sends no
 * frame for {@code idle} is closed; a frame must arrive whole within {@code frameTimeout} of
 * its first byte; and a frame's buffer grows with the bytes that actually arrived, so announcing
 * 64 MiB and sending nothing costs nothing.
 */
final class BoundedFramedTransport extends TLayeredTransport {
  private static final int CHUNK = 64 * 1024;

  private final Socket socket;
  private final int maxFrameBytes;
  private final Duration idle;
  private final Duration frameTimeout;
  private final TMemoryInputTransport frame;
  private final Reply pending = new Reply();

  BoundedFramedTransport(TSocket socket, int maxFrameBytes, Duration idle, Duration frameTimeout)
      throws TTransportException {
    super(socket);
    this.socket = socket.getSocket();
    this.maxFrameBytes = maxFrameBytes;
    this.idle = idle;
    this.frameTimeout = frameTimeout;
    // Thrift counts a message's bytes against its configuration (100 MiB by default): the
    // frame limit is the payload limit, whatever it is.
    this.frame = new TMemoryInputTransport(new TConfiguration(maxFrameBytes, maxFrameBytes,
        TConfiguration.DEFAULT_RECURSION_DEPTH), new byte[0]);
  }

  static TTransportFactory factory(int maxFrameBytes, Duration idle, Duration frameTimeout) {
    return new TTransportFactory() {
      @Override
      public TTransport getTransport(TTransport base) throws TTransportException {
        return new BoundedFramedTransport((TSocket) base, maxFrameBytes, idle, frameTimeout);
      }
    };
  }

  @Override
  public boolean isOpen() {
    return getInnerTransport().isOpen();
  }

  @Override
  public void open() throws TTransportException {
    getInnerTransport().open();
  }

  @Override
  public void close() {
    getInnerTransport().close();
  }

  @Override
  public int read(byte[] buf, int off, int len) throws TTransportException {
    if (frame.getBytesRemainingInBuffer() <= 0) {
      readFrame();
    }
    return frame.read(buf, off, len);
  }

  // The protocol reads fields and binaries straight from the frame (as from libthrift's
  // TFramedTransport), not through read() into copies of its own.
  @Override
  public byte[] getBuffer() {
    return frame.getBuffer();
  }

  @Override
  public int getBufferPosition() {
    return frame.getBufferPosition();
  }

  @Override
  public int getBytesRemainingInBuffer() {
    return frame.getBytesRemainingInBuffer();
  }

  @Override
  public void consumeBuffer(int len) {
    frame.consumeBuffer(len);
  }

  @Override
  public void checkReadBytesAvailable(long numBytes) throws TTransportException {
    // A length inside the message cannot exceed what is left of its frame.
    if (numBytes > Math.max(0, frame.getBytesRemainingInBuffer())) {
      throw new TTransportException(TTransportException.CORRUPTED_DATA, "a length of "
          + numBytes + " bytes exceeds the rest of its frame");
    }
  }

  @Override
  public void write(byte[] buf, int off, int len) {
    pending.write(buf, off, len);
  }

  @Override
  public void flush() throws TTransportException {
    try {
      pending.sendTo(socket.getOutputStream());
    } catch (IOException e) {
      throw new TTransportException(TTransportException.UNKNOWN, e);
    } finally {
      pending.reset();
    }
  }

  /** A reply being written, with room at the front for its length: sent in one write. */
  private static final class Reply extends ByteArrayOutputStream {
    private static final int HEADER = 4;

    Reply() {
      count = HEADER;
    }

    @Override
    public synchronized void reset() {
      count = HEADER;
    }

    synchronized void sendTo(OutputStream out) throws IOException {
      int length = count - HEADER;
      buf[0] = (byte) (length >>> 24);
      buf[1] = (byte) (length >>> 16);
      buf[2] = (byte) (length >>> 8);
      buf[3] = (byte) length;
      out.write(buf, 0, count);
      out.flush();
    }
  }

  private void readFrame() throws TTransportException {
    try {
      InputStream in = socket.getInputStream();
      socket.setSoTimeout(timeoutMs(idle));
      int first = in.read();
      if (first < 0) {
        throw new TTransportException(TTransportException.END_OF_FILE, "the client closed");
      }
      long deadline = System.nanoTime() + frameTimeout.toNanos();
      byte[] header = new byte[] {(byte) first, 0, 0, 0};
      readFully(in, header, 1, 3, deadline);
      int size = ((header[0] & 0xff) << 24) | ((header[1] & 0xff) << 16)
          | ((header[2] & 0xff) << 8) | (header[3] & 0xff);
      if (size < 0 || size > maxFrameBytes) {
        throw new TTransportException(TTransportException.CORRUPTED_DATA, "a frame of "
            + Integer.toUnsignedString(size) + " bytes is over the limit of " + maxFrameBytes
            + " bytes (max-payload-bytes)");
      }
      byte[] body = new byte[Math.min(size, CHUNK)];
      for (int got = 0; got < size; ) {
        if (got == body.length) {
          body = Arrays.copyOf(body, (int) Math.min(size, 2L * body.length));
        }
        got += readFully(in, body, got, Math.min(body.length - got, CHUNK), deadline);
      }
      frame.reset(body, 0, size);
    } catch (SocketTimeoutException e) {
      throw new TTransportException(TTransportException.TIMED_OUT, "the client sent no frame "
          + "within " + idle.toMillis() + " ms (connection-idle-ms) or did not finish one within "
          + frameTimeout.toMillis() + " ms (request-read-timeout-ms)", e);
    } catch (IOException e) {
      throw new TTransportException(TTransportException.UNKNOWN, e);
    }
  }

  /** Reads exactly {@code len} bytes unless the deadline passes first. */
  private int readFully(InputStream in, byte[] buf, int off, int len, long deadline)
      throws IOException, TTransportException {
    for (int done = 0; done < len; ) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new SocketTimeoutException("frame deadline");
      }
      socket.setSoTimeout(timeoutMs(Duration.ofNanos(left)));
      int n = in.read(buf, off + done, len - done);
      if (n < 0) {
        throw new TTransportException(TTransportException.END_OF_FILE,
            "the client closed inside a frame");
      }
      done += n;
    }
    return len;
  }

  private static int timeoutMs(Duration d) {
    // 0 would mean no timeout at all.
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, d.toMillis()));
  }
}
