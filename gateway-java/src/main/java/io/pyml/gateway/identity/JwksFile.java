package io.pyml.gateway.identity;

import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.text.ParseException;
import java.util.List;
import java.util.logging.Logger;

/**
 * The public keys of a JWK set file, re-read when its modification time or size changes, so
 * an operator rotates keys by replacing the file. A file that cannot be read or parsed after a
 * change keeps the keys last read (and says so once), so a half-written file never locks every
 * JWT caller out; at start it is an error instead.
 */
final class JwksFile implements JWKSource<SecurityContext> {
  private static final Logger LOG = Logger.getLogger(JwksFile.class.getName());
  /** Far above any real key set; the file is the operator's, the cap only bounds a mistake. */
  static final long MAX_BYTES = 1024 * 1024;

  private record Loaded(Object version, JWKSet keys) {}

  private final Path path;
  private volatile Loaded loaded;

  /** Reads the file now: a missing, unreadable or empty key set stops start-up. */
  JwksFile(Path path) throws IOException {
    this.path = path;
    try {
      this.loaded = new Loaded(version(), read());
    } catch (IOException e) {
      throw e.getMessage() != null && e.getMessage().startsWith("--") ? e
          : new IOException("--jwt-jwks-file " + path + " cannot be read: " + e, e);
    }
  }

  @Override
  public List<JWK> get(JWKSelector selector, SecurityContext context) {
    return selector.select(current());
  }

  private JWKSet current() {
    Loaded last = loaded;
    try {
      Object version = version();
      if (!version.equals(last.version())) {
        last = new Loaded(version, read());
        loaded = last;
        LOG.info("re-read the JWT key set " + path + ": " + last.keys().size() + " key(s)");
      }
    } catch (IOException e) {
      // Remembers the failed version: one warning per change, not one per call.
      Object failed = versionOrNull();
      if (!failed.equals(last.version())) {
        loaded = new Loaded(failed, last.keys());
        LOG.warning("keeping the JWT keys last read: " + e.getMessage());
      }
    }
    return last.keys();
  }

  /** Public keys only: private parts and shared (oct) keys are dropped, never used. */
  private JWKSet read() throws IOException {
    if (Files.size(path) > MAX_BYTES) {
      throw new IOException("--jwt-jwks-file " + path + " is over " + MAX_BYTES + " bytes");
    }
    JWKSet keys;
    try {
      keys = JWKSet.parse(Files.readString(path)).toPublicJWKSet();
    } catch (ParseException | RuntimeException e) {
      throw new IOException("--jwt-jwks-file " + path + " is not a JSON Web Key Set: "
          + e.getMessage(), e);
    }
    if (keys.isEmpty()) {
      throw new IOException("--jwt-jwks-file " + path + " holds no public key");
    }
    return keys;
  }

  private Object version() throws IOException {
    BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
    return List.of(attributes.lastModifiedTime(), attributes.size());
  }

  private Object versionOrNull() {
    try {
      return version();
    } catch (IOException e) {
      return List.of();
    }
  }
}
