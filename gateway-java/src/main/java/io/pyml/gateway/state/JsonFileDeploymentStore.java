package io.pyml.gateway.state;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Desired deployments in one small JSON file, {@code deployments.json} in the gateway's state
 * folder. Every change rewrites the whole file atomically: a temporary file in the same folder,
 * fsync, rename over the old one, fsync the folder. A crash at any point leaves the old file or
 * the new one, never a mix. A file that cannot be read is an error, never an empty state: a
 * gateway that silently forgot its deployments would undeploy everything at its next start.
 */
public final class JsonFileDeploymentStore implements DeploymentStore {
  public static final String FILE = "deployments.json";
  /** The file format this gateway writes and reads; a newer one is refused, not misread. */
  static final int FORMAT = 1;

  /** The file's shape. */
  record StateFile(int format, List<DesiredDeployment> deployments) {}

  private final Path dir;
  private final Path file;
  private final ObjectMapper json = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
      .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES);
  private Map<String, DesiredDeployment> entries; // guarded by this; null until loaded

  public JsonFileDeploymentStore(Path dir) {
    this.dir = dir.toAbsolutePath().normalize();
    this.file = this.dir.resolve(FILE);
  }

  public Path file() {
    return file;
  }

  @Override
  public synchronized List<DesiredDeployment> load() throws StateException {
    entries = read();
    return List.copyOf(entries.values());
  }

  @Override
  public synchronized void put(DesiredDeployment desired) throws StateException {
    Map<String, DesiredDeployment> next = new TreeMap<>(current());
    if (desired.equals(next.put(desired.name(), desired))) {
      return; // unchanged: no write
    }
    write(next);
    entries = next;
  }

  @Override
  public synchronized void remove(String name) throws StateException {
    Map<String, DesiredDeployment> next = new TreeMap<>(current());
    if (next.remove(name) == null) {
      return;
    }
    write(next);
    entries = next;
  }

  private Map<String, DesiredDeployment> current() throws StateException {
    if (entries == null) {
      entries = read();
    }
    return entries;
  }

  private Map<String, DesiredDeployment> read() throws StateException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return new TreeMap<>(); // never written: a new gateway
    } catch (IOException e) {
      throw new StateException("cannot read the gateway state file " + file + ": " + e, e);
    }
    StateFile parsed;
    try {
      parsed = json.readValue(bytes, StateFile.class);
    } catch (IOException e) {
      String why = e instanceof JsonProcessingException p ? p.getOriginalMessage() : e.toString();
      throw new StateException("the gateway state file " + file + " is not valid: " + why
          + " (the gateway will not start without its desired deployments: repair the file, "
          + "or move it away to start with none)", e);
    }
    if (parsed == null || parsed.format() != FORMAT || parsed.deployments() == null) {
      throw new StateException("the gateway state file " + file + " has format "
          + (parsed == null ? "none" : parsed.format()) + " (this gateway reads format " + FORMAT
          + "); move it away to start with no deployments");
    }
    Map<String, DesiredDeployment> byName = new TreeMap<>();
    for (DesiredDeployment desired : parsed.deployments()) {
      if (byName.put(desired.name(), desired) != null) {
        throw new StateException("the gateway state file " + file + " lists model '"
            + desired.name() + "' twice");
      }
    }
    return byName;
  }

  private void write(Map<String, DesiredDeployment> next) throws StateException {
    try {
      Files.createDirectories(dir);
      byte[] bytes = json.writeValueAsBytes(new StateFile(FORMAT, new ArrayList<>(next.values())));
      Path temp = Files.createTempFile(dir, "." + FILE, ".tmp",
          PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      try {
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
          ByteBuffer buffer = ByteBuffer.wrap(bytes);
          while (buffer.hasRemaining()) {
            channel.write(buffer);
          }
          channel.force(true); // the bytes are on disk before the name points at them
        }
        move(temp);
      } finally {
        Files.deleteIfExists(temp);
      }
      try (FileChannel folder = FileChannel.open(dir, StandardOpenOption.READ)) {
        folder.force(true); // the rename itself survives a power loss
      }
    } catch (IOException e) {
      throw new StateException("cannot write the gateway state file " + file + ": " + e, e);
    }
  }

  private void move(Path temp) throws IOException {
    try {
      Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      throw new IOException("the file system of " + dir + " cannot rename atomically", e);
    }
  }
}
