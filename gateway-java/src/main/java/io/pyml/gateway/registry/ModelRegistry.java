package io.pyml.gateway.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Reads the registry the Python SDK writes ({@code models/<name>/versions/<n>/manifest.json}
 * and {@code home.tar.gz}). Read-only: the gateway never registers or changes a version.
 * A version is deployable only when its manifest says "ready" and the archive's bytes still
 * hash to the manifest's sha256; anything else is refused naming the artifact.
 */
public final class ModelRegistry {
  static final String MANIFEST = "manifest.json";
  static final String ARCHIVE = "home.tar.gz";
  /** The manifest format this gateway understands; a newer one is refused, not misread. */
  static final int MANIFEST_FORMAT = 1;

  private final Path root;
  private final ObjectMapper json = new ObjectMapper();

  public ModelRegistry(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  /** {@code $PYML_HOME/registry}, with PYML_HOME defaulting to {@code ~/.pyml}. */
  public static Path defaultDir(Map<String, String> env) {
    String home = env.get("PYML_HOME");
    Path pymlHome = home == null || home.isBlank()
        ? Path.of(System.getProperty("user.home"), ".pyml") : Path.of(home);
    return pymlHome.resolve("registry");
  }

  public Path root() {
    return root;
  }

  /**
   * The deployable version {@code version} of {@code name} (0: the newest ready one).
   * NOT_FOUND lists what exists; FAILED_PRECONDITION when not ready or tampered.
   */
  public RegisteredVersion resolve(String name, long version) {
    Path versions = root.resolve("models").resolve(name).resolve("versions");
    List<Long> known = versionsOf(versions);
    if (known.isEmpty()) {
      throw new GatewayException(ErrorKind.NOT_FOUND, "model '" + name
          + "' is not in the registry at " + root + " (registered models: "
          + describe(modelsIn(root.resolve("models"))) + ")");
    }
    long chosen = version == 0 ? newestReady(name, versions, known) : version;
    if (!known.contains(chosen)) {
      throw new GatewayException(ErrorKind.NOT_FOUND, "model '" + name + "' has no version "
          + chosen + " in the registry at " + root + " (versions: " + describe(known) + ")");
    }
    return verified(name, chosen, versions.resolve(Long.toString(chosen)));
  }

  /** The registered models' names, sorted (folders that hold at least one version). */
  public List<String> names() {
    return modelsIn(root.resolve("models")).stream()
        .filter(name -> !versionsOf(versionsDir(name)).isEmpty()).toList();
  }

  /**
   * What the manifests of {@code name}'s versions say, oldest first; a version whose manifest
   * is missing (still building) or unreadable is listed with that status.
   */
  public List<VersionManifest> manifests(String name) {
    if (!plainName(name)) {
      return List.of(); // "../x" and the like name no folder of this registry
    }
    Path versions = versionsDir(name);
    List<VersionManifest> out = new ArrayList<>();
    for (long version : versionsOf(versions)) {
      out.add(summary(name, version, versions.resolve(Long.toString(version))));
    }
    return out;
  }

  /** One folder name: not empty, no separator or NUL, not "." or "..". */
  private static boolean plainName(String name) {
    return !name.isEmpty() && !name.equals(".") && !name.equals("..")
        && name.chars().noneMatch(c -> c == '/' || c == '\\' || c == 0);
  }

  private Path versionsDir(String name) {
    return root.resolve("models").resolve(name).resolve("versions");
  }

  private VersionManifest summary(String name, long version, Path dir) {
    JsonNode manifest;
    try {
      manifest = readManifestOrNull(dir);
    } catch (GatewayException e) {
      return unreadable(name, version, "unreadable", e.getMessage());
    }
    if (manifest == null) {
      return unreadable(name, version, "building", "");
    }
    JsonNode validation = manifest.path("validation");
    String validated = validation.isObject()
        ? (validation.path("passed").asBoolean(false) ? "passed" : "failed")
            + (validation.path("where").asText("").isEmpty() ? ""
                : " at " + validation.path("where").asText())
        : "not run";
    List<String> files = new ArrayList<>();
    manifest.path("files").fieldNames().forEachRemaining(files::add);
    JsonNode image = manifest.path("image");
    return new VersionManifest(name, version, manifest.path("status").asText(""),
        manifest.path("kind").asText(""), manifest.path("creator").asText(""),
        manifest.path("created_at").asText(""), image.path("tag").asText(""),
        image.path("digest").asText("").isEmpty() ? image.path("id").asText("")
            : image.path("digest").asText(),
        manifest.path("input_schema").asText(""), manifest.path("output_schema").asText(""),
        validated, manifest.path("runtime_version").asText(""),
        manifest.path("python_version").asText(""),
        manifest.path("failure").path("reason").asText(""), files);
  }

  private static VersionManifest unreadable(String name, long version, String status,
      String why) {
    return new VersionManifest(name, version, status, "", "", "", "", "", "", "", "not run",
        "", "", why, List.of());
  }

  private long newestReady(String name, Path versions, List<Long> known) {
    for (int i = known.size() - 1; i >= 0; i--) {
      JsonNode manifest = readManifestOrNull(versions.resolve(known.get(i).toString()));
      if (manifest != null && "ready".equals(manifest.path("status").asText())) {
        return known.get(i);
      }
    }
    throw new GatewayException(ErrorKind.FAILED_PRECONDITION, "model '" + name
        + "' has no ready version in the registry at " + root + " (versions: "
        + describe(known) + ", none of them built and validated)");
  }

  private RegisteredVersion verified(String name, long version, Path dir) {
    String ref = name + ":" + version;
    Path manifestFile = dir.resolve(MANIFEST);
    JsonNode manifest = readManifestOrNull(dir);
    if (manifest == null) {
      throw new GatewayException(ErrorKind.FAILED_PRECONDITION, "version " + ref
          + " is not ready: " + manifestFile + " does not exist (still building?)");
    }
    if (manifest.path("format").asInt(-1) != MANIFEST_FORMAT) {
      throw new GatewayException(ErrorKind.FAILED_PRECONDITION, manifestFile + " has format "
          + manifest.path("format") + " (this gateway reads format " + MANIFEST_FORMAT + ")");
    }
    // A manifest copied or moved to another name or number is not the version it claims.
    String claimed = manifest.path("name").asText("") + ":" + manifest.path("version").asLong(-1);
    if (!claimed.equals(ref)) {
      throw new GatewayException(ErrorKind.FAILED_PRECONDITION, "version " + ref
          + " is tampered: " + manifestFile + " describes " + claimed + "; refusing to deploy it");
    }
    String status = manifest.path("status").asText("");
    if (!"ready".equals(status)) {
      throw new GatewayException(ErrorKind.FAILED_PRECONDITION, "version " + ref
          + " is not ready: its manifest says status '" + status + "' ("
          + manifest.path("failure").path("reason").asText("no reason recorded") + ")");
    }
    String image = manifest.path("image").path("id").asText("");
    if (image.isEmpty()) {
      throw new GatewayException(ErrorKind.FAILED_PRECONDITION,
          "version " + ref + " has no image id in " + manifestFile);
    }
    Path archive = dir.resolve(ARCHIVE);
    String expected = manifest.path("archive_sha256").asText("");
    String actual = sha256(archive, ref);
    if (!actual.equalsIgnoreCase(expected)) {
      throw new GatewayException(ErrorKind.FAILED_PRECONDITION, "version " + ref
          + " is tampered: " + archive + " has sha256 " + actual + " (manifest says "
          + expected + "); refusing to deploy it");
    }
    return new RegisteredVersion(name, version, manifest.path("kind").asText(""), image,
        manifest.path("image").path("tag").asText(image), archive, actual);
  }

  private JsonNode readManifestOrNull(Path dir) {
    Path file = dir.resolve(MANIFEST);
    if (!Files.isRegularFile(file)) {
      return null;
    }
    try {
      return json.readTree(file.toFile());
    } catch (IOException e) {
      throw new GatewayException(ErrorKind.FAILED_PRECONDITION,
          "cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  private static String sha256(Path file, String ref) {
    if (!Files.isRegularFile(file)) {
      throw new GatewayException(ErrorKind.FAILED_PRECONDITION,
          "version " + ref + " has no archive: " + file + " is missing");
    }
    try (InputStream in = Files.newInputStream(file)) {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      byte[] buffer = new byte[1 << 16];
      for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
        digest.update(buffer, 0, n);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (IOException e) {
      throw new GatewayException(ErrorKind.FAILED_PRECONDITION,
          "cannot read " + file + ": " + e.getMessage(), e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JRE has SHA-256", e);
    }
  }

  /** Version numbers present (folders named by an integer), ascending. */
  private static List<Long> versionsOf(Path versions) {
    if (!Files.isDirectory(versions)) {
      return List.of();
    }
    try (Stream<Path> entries = Files.list(versions)) {
      return entries.map(p -> p.getFileName().toString()).filter(s -> s.matches("[1-9][0-9]{0,17}"))
          .map(Long::parseLong).sorted().toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  private static List<String> modelsIn(Path models) {
    if (!Files.isDirectory(models)) {
      return List.of();
    }
    try (Stream<Path> entries = Files.list(models)) {
      return entries.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted()
          .toList();
    } catch (IOException e) {
      return List.of();
    }
  }

  private static String describe(List<?> items) {
    if (items.isEmpty()) {
      return "none";
    }
    return String.join(", ", items.stream().map(String::valueOf).toList());
  }
}
