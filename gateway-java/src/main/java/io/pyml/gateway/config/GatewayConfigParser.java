package io.pyml.gateway.config;

import io.pyml.gateway.deployment.AdmissionLimits;
import io.pyml.gateway.registry.ModelRegistry;
import io.pyml.gateway.sidecar.ResourceLimits;
import io.pyml.gateway.sidecar.RuntimeWorkers;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.Set;
import java.util.Optional;

/**
 * Turns command-line flags and {@code PYML_GATEWAY_*} environment variables into a
 * {@link GatewayConfig}. Precedence: flag, then environment, then default. Flags are
 * {@code --name value} or {@code --name=value}; an unknown flag is an error, never ignored.
 */
public final class GatewayConfigParser {
  /** Flag name (without dashes) → help text; also the set of known flags. */
  private static final Map<String, String> FLAGS = new LinkedHashMap<>();

  static {
    FLAGS.put("host", "address to serve on (default 127.0.0.1)");
    FLAGS.put("grpc-port", "gRPC port, 0 for any free port (default 7070)");
    FLAGS.put("http-port", "HTTP port of /metrics (Prometheus) and KServe V2 REST inference (/v2), 0 for any free port (default 7080)");
    FLAGS.put("thrift-port", "Thrift port (framed, binary), 0 for any free port (default 7071)");
    FLAGS.put("oip-port", "Open Inference Protocol gRPC port, 0 for any free port (default 8001)");
    FLAGS.put("runtime-command", "runtime executable, may hold several words (default pyml-runtime)");
    FLAGS.put("work-dir", "folder for runtime sockets and logs (default /tmp/pyml-gw-<gateway-id>)");
    FLAGS.put("max-payload-bytes", "largest accepted payload in bytes (default 67108864)");
    FLAGS.put("default-deadline-ms", "deadline of a prediction whose client set none (default 30000)");
    FLAGS.put("deploy-timeout-ms", "longest a deployment may take to become READY (default 120000)");
    FLAGS.put("registry-dir", "model registry to deploy versions from (default $PYML_HOME/registry)");
    FLAGS.put("docker-host", "Docker engine for model containers (default unix:///var/run/docker.sock)");
    FLAGS.put("host-work-dir", "the work dir as the Docker engine sees it, when the gateway runs in a container (needs --work-dir)");
    FLAGS.put("gateway-id", "label value of this gateway's containers (default 'default')");
    FLAGS.put("container-memory-bytes", "memory limit of each model container (default "
        + ResourceLimits.DEFAULTS.memoryBytes() + ", from container_policy.json)");
    FLAGS.put("container-cpus", "CPU limit of each model container (default: the host's CPU count)");
    FLAGS.put("container-pids", "process limit of each model container (default "
        + ResourceLimits.DEFAULTS.pids() + ", from container_policy.json)");
    FLAGS.put("runtime-workers", "runtime worker processes per model container or process, each loading the model; 0: one per CPU of its CPU limit, at most 8 (default 0)");
    FLAGS.put("replica-max-calls", "calls in flight at one runtime worker, below its own limit of 6; a runtime with N workers takes N times as many (default 4)");
    FLAGS.put("replica-memory-divisor", "payload bytes in flight at one runtime are at most its memory limit / this (default 8)");
    FLAGS.put("queue-max-calls", "calls of one model that may wait for a busy runtime; more are refused RESOURCE_EXHAUSTED (default 32)");
    FLAGS.put("queue-max-bytes", "payload bytes of one model that may wait for a busy runtime (default 268435456)");
    FLAGS.put("hung-call-grace-ms", "a call still in the model this long past its deadline is cancelled, and its runtime, if it answered nothing since, replaced (default 10000)");
    FLAGS.put("state-dir", "folder of the desired deployments a restarted gateway serves again (default $PYML_HOME/gateway/<gateway-id>)");
    FLAGS.put("docker-retry-ms", "how long failed container starts (Docker away, a runtime killed while loading) are retried before a deployment is FAILED (default 180000)");
    FLAGS.put("max-container-memory-bytes", "most memory a deploy request may give a container (default 4294967296)");
    FLAGS.put("max-container-cpus", "most CPUs a deploy request may give a container (default: the host's CPU count)");
    FLAGS.put("max-container-pids", "most processes a deploy request may give a container (default 1024)");
    FLAGS.put("max-connections-per-port", "open connections each port accepts, more are closed at once (default 256)");
    FLAGS.put("max-streams-per-connection", "concurrent gRPC/OIP calls on one connection (default 32)");
    FLAGS.put("connection-idle-ms", "a connection with no call in flight is closed after this (default 300000)");
    FLAGS.put("connection-max-age-ms", "a gRPC/OIP connection is asked to reconnect after this (default 3600000)");
    FLAGS.put("request-read-timeout-ms", "a request must arrive whole within this, or its call ends (default 30000)");
    FLAGS.put("max-rst-frames-per-10s", "HTTP/2 stream resets one connection may send in 10 s before GOAWAY (default 1000)");
    FLAGS.put("max-arriving-requests", "gRPC/OIP requests per port whose message is still arriving; more are refused RESOURCE_EXHAUSTED (default 64)");
    FLAGS.put("insecure-no-auth", "development only: true to serve a --host other than loopback although no identities are configured, so anyone who reaches a port is a full admin (default false: refused at start)");
    FLAGS.put("identity-store-url", "JDBC URL of identities, grants and the audit log: jdbc:sqlite:<file> or jdbc:postgresql://<host>:<port>/<database>?user=<user> (default jdbc:sqlite:<state-dir>/" + IdentitySettings.DEFAULT_FILE + ")");
    FLAGS.put("identity-store-password-file", "file whose first line is the PostgreSQL store's password, readable by its owner only (default: none, the URL's password parameter if any)");
    FLAGS.put("gateway-admins", "','-separated identities that are gateway admins whatever the identity store holds: how an identity provider's users (--jwt-*) get a first admin (default: none; on a gateway without identities the first token made must be an admin's)");
    FLAGS.put("jwt-jwks-file", "verify signed JWTs (bearer credentials) against this JSON Web Key Set file, re-read when it changes; needs --jwt-issuer and --jwt-audience (default: none, JWTs are not accepted)");
    FLAGS.put("jwt-jwks-url", "verify signed JWTs against the identity provider's JWKS at this https URL (cached 5 min); needs --jwt-issuer and --jwt-audience (default: none)");
    FLAGS.put("jwt-issuer", "the JWTs' issuer (iss), matched exactly (default: none; required with a key set)");
    FLAGS.put("jwt-audience", "a value the JWTs' audience (aud) must hold (default: none; required with a key set)");
    FLAGS.put("jwt-identity-claim", "the JWT claim whose string value is the caller's identity (default sub)");
    FLAGS.put("shutdown-grace-ms", "on SIGTERM/SIGINT, how long calls in flight may take to finish once no new call is accepted (default 30000); a supervisor must wait longer before it kills the gateway");
    FLAGS.put("on-stop", "what SIGTERM/SIGINT does to the model containers once calls in flight are done: stop (remove them) or leave (keep them running for the next gateway with the same --gateway-id and --state-dir to adopt) (default stop)");
    FLAGS.put("home-deploy-roots", "development only: ':'-separated folders whose home folders Admin Deploy may run as local processes, for gateway admins only (default: none, refused)");
  }

  private GatewayConfigParser() {}

  private static boolean bool(Map<String, String> values, String name, boolean fallback)
      throws ConfigException {
    String text = values.get(name);
    if (text == null) {
      return fallback;
    }
    return switch (text.strip().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default -> throw new ConfigException("--" + name + " '" + text + "' (expected: true or false)");
    };
  }


  public static String usage() {
    StringBuilder text = new StringBuilder("usage: pyml-gateway [flags]\n");
    FLAGS.forEach((name, help) -> text.append(String.format(Locale.ROOT, "  --%-22s %s%n", name, help)));
    text.append("Each flag can also be set as PYML_GATEWAY_<NAME> (e.g. PYML_GATEWAY_GRPC_PORT).");
    return text.toString();
  }

  public static GatewayConfig parse(String[] args, Map<String, String> env) throws ConfigException {
    Map<String, String> values = fromEnv(env);
    values.putAll(fromFlags(args));
    GatewayConfig defaults = GatewayConfig.defaults();
    Optional<Path> workDir = nonBlank(values, "work-dir").map(Path::of);
    if (workDir.isEmpty() && nonBlank(values, "host-work-dir").isPresent()) {
      // A fresh temporary work dir inside a container has no path on the engine's host.
      throw new ConfigException("host-work-dir needs --work-dir: the folder the gateway sees "
          + "at --work-dir is the one the Docker engine sees at --host-work-dir");
    }
    ResourceLimits maxima = maxima(values);
    ContainerSettings containers = containers(values, env, maxima);
    Optional<String> problem = containers.limits().aboveMaximum(maxima);
    if (problem.isPresent()) {
      throw new ConfigException("the default container limit " + problem.get()
          + ": lower the default or raise the maximum");
    }
    return new GatewayConfig(
        values.getOrDefault("host", defaults.host()),
        intValue(values, "grpc-port", defaults.grpcPort(), 0, 65535),
        intValue(values, "http-port", defaults.httpPort(), 0, 65535),
        command(values.getOrDefault("runtime-command", GatewayConfig.DEFAULT_RUNTIME_COMMAND)),
        workDir,
        // Leaves room for the request envelope below Integer.MAX_VALUE (gRPC's limit type).
        intValue(values, "max-payload-bytes", defaults.maxPayloadBytes(), 1, Integer.MAX_VALUE / 2),
        millis(values, "default-deadline-ms", defaults.defaultDeadline()),
        millis(values, "deploy-timeout-ms", defaults.deployTimeout()),
        containers,
        intValue(values, "thrift-port", defaults.thriftPort(), 0, 65535),
        intValue(values, "oip-port", defaults.oipPort(), 0, 65535),
        paths(values, "home-deploy-roots"),
        admission(values),
        state(values, env, containers.gatewayId()),
        maxima,
        transport(values),
        bool(values, "insecure-no-auth", defaults.insecureNoAuth()),
        identities(values),
        nonBlank(values, "gateway-admins").map(GatewayConfigParser::names).orElse(Set.of()),
        jwt(values),
        stop(values));
  }

  private static StopSettings stop(Map<String, String> values) throws ConfigException {
    StopSettings defaults = StopSettings.DEFAULTS;
    // 0 is allowed: calls in flight are cut at once.
    long grace = values.containsKey("shutdown-grace-ms")
        ? longValue("shutdown-grace-ms", values.get("shutdown-grace-ms"))
        : defaults.grace().toMillis();
    if (grace < 0) {
      throw new ConfigException("shutdown-grace-ms must not be negative, got " + grace);
    }
    try {
      return new StopSettings(Duration.ofMillis(grace), nonBlank(values, "on-stop")
          .map(StopSettings.OnStop::parse).orElse(defaults.onStop()));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  private static IdentitySettings identities(Map<String, String> values) throws ConfigException {
    IdentitySettings settings;
    try {
      settings = new IdentitySettings(nonBlank(values, "identity-store-url").map(String::strip),
          nonBlank(values, "identity-store-password-file")
              .map(file -> Path.of(file.strip()).toAbsolutePath().normalize()));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    settings.password(); // read once now: a missing or unsafe file stops the start-up
    return settings;
  }

  /** JWT settings when a key set is given; any other JWT flag alone is an error. */
  private static Optional<JwtSettings> jwt(Map<String, String> values) throws ConfigException {
    Optional<String> file = nonBlank(values, "jwt-jwks-file");
    Optional<String> url = nonBlank(values, "jwt-jwks-url");
    if (file.isEmpty() && url.isEmpty()) {
      for (String name : List.of("jwt-issuer", "jwt-audience", "jwt-identity-claim")) {
        if (nonBlank(values, name).isPresent()) {
          throw new ConfigException("--" + name + " needs a key set to verify JWTs with: "
              + "--jwt-jwks-file or --jwt-jwks-url");
        }
      }
      return Optional.empty();
    }
    if (file.isPresent() && url.isPresent()) {
      throw new ConfigException("--jwt-jwks-file and --jwt-jwks-url are both set: give one");
    }
    for (String name : List.of("jwt-issuer", "jwt-audience")) {
      if (nonBlank(values, name).isEmpty()) {
        throw new ConfigException("--" + name + " is required with --jwt-jwks-"
            + (file.isPresent() ? "file" : "url") + ": a token is accepted only from that "
            + (name.equals("jwt-issuer") ? "issuer (iss)" : "audience (aud), this gateway"));
      }
    }
    Optional<Path> path = file.map(f -> Path.of(f).toAbsolutePath().normalize());
    if (path.isPresent() && !(Files.isRegularFile(path.get()) && Files.isReadable(path.get()))) {
      throw new ConfigException("--jwt-jwks-file " + path.get() + " is not a readable file");
    }
    try {
      return Optional.of(new JwtSettings(path, url.map(u -> URI.create(u.strip())),
          values.get("jwt-issuer").strip(), values.get("jwt-audience").strip(),
          nonBlank(values, "jwt-identity-claim").map(String::strip)
              .orElse(JwtSettings.DEFAULT_IDENTITY_CLAIM)));
    } catch (IllegalArgumentException e) { // also URI.create's: the message names the URL
      throw new ConfigException(e.getMessage().startsWith("--") ? e.getMessage()
          : "--jwt-jwks-url '" + url.orElse("") + "' is not a URL: " + e.getMessage());
    }
  }

  private static TransportLimits transport(Map<String, String> values) throws ConfigException {
    TransportLimits d = TransportLimits.DEFAULTS;
    return new TransportLimits(
        intValue(values, "max-connections-per-port", d.maxConnectionsPerPort(), 1, 1_000_000),
        intValue(values, "max-streams-per-connection", d.maxStreamsPerConnection(), 1, 100_000),
        millis(values, "connection-idle-ms", d.connectionIdle()),
        millis(values, "connection-max-age-ms", d.maxConnectionAge()),
        millis(values, "request-read-timeout-ms", d.requestReadTimeout()),
        intValue(values, "max-rst-frames-per-10s", d.maxRstFramesPerWindow(), 1, 1_000_000),
        intValue(values, "max-arriving-requests", d.maxArrivingRequests(), 1, 1_000_000));
  }

  private static AdmissionLimits admission(Map<String, String> values) throws ConfigException {
    AdmissionLimits defaults = AdmissionLimits.DEFAULTS;
    return new AdmissionLimits(
        intValue(values, "replica-max-calls", defaults.callsPerWorker(), 1, 1024),
        intValue(values, "replica-memory-divisor", defaults.memoryDivisor(), 1, 1024),
        intValue(values, "queue-max-calls", defaults.queueCalls(), 0, 1_000_000),
        longValue(values, "queue-max-bytes", defaults.queueBytes()),
        millis(values, "hung-call-grace-ms", defaults.hungCallGrace()));
  }

  private static StateSettings state(Map<String, String> values, Map<String, String> env,
      String gatewayId) throws ConfigException {
    Path dir = nonBlank(values, "state-dir").map(Path::of)
        .orElseGet(() -> StateSettings.defaultDir(env, gatewayId));
    // 0 is allowed: a failed container start then fails the deployment at once.
    long retry = values.containsKey("docker-retry-ms")
        ? longValue("docker-retry-ms", values.get("docker-retry-ms"))
        : StateSettings.DEFAULT_DOCKER_RETRY.toMillis();
    if (retry < 0) {
      throw new ConfigException("docker-retry-ms must not be negative, got " + retry);
    }
    return new StateSettings(dir.toAbsolutePath().normalize(), Duration.ofMillis(retry));
  }

  private static ResourceLimits maxima(Map<String, String> values) throws ConfigException {
    ResourceLimits defaults = ResourceLimits.DEFAULT_MAXIMA;
    long memory = longValue(values, "max-container-memory-bytes", defaults.memoryBytes());
    double cpus = doubleValue(values, "max-container-cpus", defaults.cpus());
    int pids = intValue(values, "max-container-pids", defaults.pids(), 1, 1_000_000);
    try {
      return new ResourceLimits(memory, cpus, pids);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
  }

  private static List<Path> paths(Map<String, String> values, String name) {
    return nonBlank(values, name).map(text -> Arrays.stream(text.split(":"))
        .filter(s -> !s.isBlank()).map(s -> Path.of(s.trim()).toAbsolutePath().normalize())
        .toList()).orElse(List.of());
  }

  private static ContainerSettings containers(Map<String, String> values, Map<String, String> env,
      ResourceLimits maxima) throws ConfigException {
    String registry = values.get("registry-dir");
    String gatewayId = values.getOrDefault("gateway-id", ContainerSettings.DEFAULT_GATEWAY_ID);
    if (!ContainerSettings.GATEWAY_ID.matcher(gatewayId).matches()) {
      throw new ConfigException("gateway-id '" + gatewayId
          + "' is not valid (expected: letters, digits, '.', '_', '-', at most 64)");
    }
    ResourceLimits defaults = ResourceLimits.DEFAULTS;
    ResourceLimits limits;
    try {
      limits = new ResourceLimits(
          longValue(values, "container-memory-bytes", defaults.memoryBytes()),
          // Default: every CPU, or as many as a deploy may ask for when that is fewer.
          doubleValue(values, "container-cpus", Math.min(defaults.cpus(), maxima.cpus())),
          intValue(values, "container-pids", defaults.pids(), 1, 1_000_000));
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
    return new ContainerSettings(
        registry == null || registry.isBlank() ? ModelRegistry.defaultDir(env) : Path.of(registry),
        values.getOrDefault("docker-host", ContainerSettings.DEFAULT_DOCKER_HOST),
        gatewayId,
        limits,
        nonBlank(values, "host-work-dir"),
        intValue(values, "runtime-workers", 0, 0, RuntimeWorkers.MAX));
  }

  /** A ','-separated list of names, blanks dropped. */
  private static Set<String> names(String list) {
    return Arrays.stream(list.split(",")).map(String::strip).filter(n -> !n.isEmpty())
        .collect(Collectors.toUnmodifiableSet());
  }

  private static Optional<String> nonBlank(Map<String, String> values, String name) {
    return Optional.ofNullable(values.get(name)).filter(s -> !s.isBlank());
  }

  private static long longValue(Map<String, String> values, String name, long fallback)
      throws ConfigException {
    String text = values.get(name);
    if (text == null) {
      return fallback;
    }
    long value = longValue(name, text);
    if (value <= 0) {
      throw new ConfigException(name + " must be positive, got " + text);
    }
    return value;
  }

  private static double doubleValue(Map<String, String> values, String name, double fallback)
      throws ConfigException {
    String text = values.get(name);
    if (text == null) {
      return fallback;
    }
    try {
      double value = Double.parseDouble(text.trim());
      if (!(value > 0) || Double.isInfinite(value)) {
        throw new ConfigException(name + " must be a positive number, got " + text);
      }
      return value;
    } catch (NumberFormatException e) {
      throw new ConfigException(name + " must be a number, got '" + text + "'");
    }
  }

  private static Map<String, String> fromEnv(Map<String, String> env) {
    Map<String, String> values = new HashMap<>();
    for (String name : FLAGS.keySet()) {
      String variable = "PYML_GATEWAY_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
      if (env.containsKey(variable)) {
        values.put(name, env.get(variable));
      }
    }
    return values;
  }

  private static Map<String, String> fromFlags(String[] args) throws ConfigException {
    Map<String, String> values = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--")) {
        throw new ConfigException("unexpected argument '" + arg + "' (flags start with --)");
      }
      String name = arg.substring(2);
      String value = null;
      int equals = name.indexOf('=');
      if (equals >= 0) {
        value = name.substring(equals + 1);
        name = name.substring(0, equals);
      }
      if (!FLAGS.containsKey(name)) {
        throw new ConfigException("unknown flag '--" + name + "'; known flags: --"
            + String.join(", --", FLAGS.keySet()));
      }
      if (value == null) {
        if (i + 1 >= args.length) {
          throw new ConfigException("flag '--" + name + "' needs a value");
        }
        value = args[++i];
      }
      values.put(name, value);
    }
    return values;
  }

  private static List<String> command(String text) throws ConfigException {
    List<String> words = Arrays.stream(text.trim().split("\\s+")).filter(w -> !w.isEmpty()).toList();
    if (words.isEmpty()) {
      throw new ConfigException("runtime-command is empty");
    }
    return words;
  }

  private static int intValue(Map<String, String> values, String name, int fallback, int min, int max)
      throws ConfigException {
    String text = values.get(name);
    if (text == null) {
      return fallback;
    }
    long value = longValue(name, text);
    if (value < min || value > max) {
      throw new ConfigException(name + " must be between " + min + " and " + max + ", got " + text);
    }
    return (int) value;
  }

  private static Duration millis(Map<String, String> values, String name, Duration fallback)
      throws ConfigException {
    String text = values.get(name);
    if (text == null) {
      return fallback;
    }
    long value = longValue(name, text);
    if (value <= 0) {
      throw new ConfigException(name + " must be a positive number of milliseconds, got " + text);
    }
    return Duration.ofMillis(value);
  }

  private static long longValue(String name, String text) throws ConfigException {
    try {
      return Long.parseLong(text.trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(name + " must be a whole number, got '" + text + "'");
    }
  }
}
