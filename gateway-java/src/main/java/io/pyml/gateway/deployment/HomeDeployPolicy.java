package io.pyml.gateway.deployment;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Which home folders an Admin Deploy may run as local processes: host code, so a development
 * mode only. With no roots (the default) every home deploy is refused; with roots, only folders
 * whose real path (symlinks resolved) lies under a root's real path, and never anything under
 * the gateway's work dir (where models' socket folders live). A refusal never says whether a
 * folder exists, so the Deploy call cannot be used to probe the gateway's file system.
 *
 * <p>Refusals are FAILED_PRECONDITION, not PERMISSION_DENIED: they do not depend on who asks
 * (there are no identities to grant yet) but on how the operator configured this gateway,
 * and the same request succeeds on a gateway started with the development flag.
 */
public record HomeDeployPolicy(List<Path> roots, Path workDir) {
  public static final String OFF =
      "home-folder deploys are off on this gateway (development only: --home-deploy-roots)";
  /** Enough of a path to recognise it in an error, not a way to fill logs. */
  private static final int MAX_SHOWN_CHARS = 256;

  public HomeDeployPolicy {
    roots = roots.stream().map(HomeDeployPolicy::real).toList();
    workDir = real(workDir);
  }

  /** Refuses every home deploy: the secure default, and what tests of containers use. */
  public static HomeDeployPolicy off(Path workDir) {
    return new HomeDeployPolicy(List.of(), workDir);
  }

  public boolean enabled() {
    return !roots.isEmpty();
  }

  /** The real path of {@code homePath} if it may be deployed; else FAILED_PRECONDITION. */
  public Path check(String homePath) {
    if (!enabled()) {
      throw new GatewayException(ErrorKind.FAILED_PRECONDITION, OFF);
    }
    Optional<Path> home = realDirectory(homePath)
        .filter(real -> roots.stream().anyMatch(real::startsWith))
        .filter(real -> !real.startsWith(workDir) && !workDir.startsWith(real));
    return home.orElseThrow(() -> new GatewayException(ErrorKind.FAILED_PRECONDITION,
        "home folder '" + shown(homePath) + "' is not a folder under this gateway's "
            + "home-deploy roots (development only: --home-deploy-roots)"));
  }

  /** Empty for a relative, missing, unreadable or invalid path, or one that is no folder. */
  private static Optional<Path> realDirectory(String homePath) {
    try {
      Path path = Path.of(homePath);
      if (!path.isAbsolute()) {
        return Optional.empty();
      }
      Path real = path.toRealPath();
      return Files.isDirectory(real) ? Optional.of(real) : Optional.empty();
    } catch (IOException | InvalidPathException | SecurityException e) {
      return Optional.empty();
    }
  }

  /** A root or work dir that does not exist (yet) is kept as written: it matches nothing real. */
  private static Path real(Path path) {
    Path absolute = path.toAbsolutePath().normalize();
    try {
      return absolute.toRealPath();
    } catch (IOException e) {
      return absolute;
    }
  }

  private static String shown(String path) {
    String text = path == null ? "" : path;
    return text.length() <= MAX_SHOWN_CHARS ? text : text.substring(0, MAX_SHOWN_CHARS) + "...";
  }
}
