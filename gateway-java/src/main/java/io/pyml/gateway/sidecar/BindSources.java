package io.pyml.gateway.sidecar;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Names a folder of the gateway's the way the Docker engine knows it, for bind mounts.
 *
 * <p>A gateway on the engine's host passes its own paths. A gateway that runs in a container
 * sees its work dir at one path ({@code --work-dir}, inside its container) while the engine,
 * which resolves bind sources on its own host, knows the same folder by another
 * ({@code --host-work-dir}). The host path is kept as text, joined with {@code /}: it may be a
 * Docker Desktop path that means nothing to this JVM (e.g. {@code C:/Users/me/pyml-work}).
 *
 * @param workDir the gateway's work dir as the gateway sees it (absolute)
 * @param hostWorkDir the same folder as the engine sees it; empty: the same path
 */
public record BindSources(Path workDir, Optional<String> hostWorkDir) {
  public BindSources {
    workDir = workDir.toAbsolutePath().normalize();
    hostWorkDir = hostWorkDir.map(BindSources::trimTrailingSlashes).filter(s -> !s.isEmpty());
  }

  /** Bind sources are the gateway's own paths: it runs on the engine's host. */
  public static BindSources sameHost() {
    return new BindSources(Path.of("/"), Optional.empty());
  }

  /** The bind source of {@code dir}, a folder under the work dir. */
  public String of(Path dir) {
    Path absolute = dir.toAbsolutePath().normalize();
    if (hostWorkDir.isEmpty()) {
      return absolute.toString();
    }
    if (!absolute.startsWith(workDir)) {
      throw new IllegalArgumentException(absolute + " is not under the work dir " + workDir
          + ": the engine knows only the work dir's host path");
    }
    String relative = workDir.relativize(absolute).toString();
    return relative.isEmpty() ? hostWorkDir.get() : hostWorkDir.get() + "/" + relative;
  }

  private static String trimTrailingSlashes(String path) {
    String trimmed = Objects.requireNonNull(path).strip();
    while (trimmed.length() > 1 && (trimmed.endsWith("/") || trimmed.endsWith("\\"))) {
      trimmed = trimmed.substring(0, trimmed.length() - 1);
    }
    return trimmed;
  }
}
