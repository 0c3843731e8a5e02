package io.pyml.gateway.config;

import io.pyml.gateway.deployment.AdmissionLimits;
import io.pyml.gateway.registry.ModelRegistry;
import io.pyml.gateway.sidecar.ResourceLimits;
import io.pyml.gateway.sidecar.RuntimeWorkers;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Turns command-line flags, {@code PYML_GATEWAY_*} environment variables and a TOML config file
 * ({@code --config}) into a {@link GatewayConfig}. Precedence, the same for every setting:
 * flag, then environment, then file, then default. Flags are {@code --name value} or
 * {@code --name=value}; each flag is also the variable {@code PYML_GATEWAY_<NAME>} and the file
 * key {@code name}, all from the one table {@link #FLAGS}. An unknown flag, file key or
 * {@code PYML_GATEWAY_*} variable is an error, never ignored.
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
    FLAGS.put("access-log", "where the access log (one line per prediction request) goes: off, stderr, or a file it is appended to (default off)");
    FLAGS.put("access-log-format", "the access log's lines: plain (key=value pairs) or json (default plain)");
    FLAGS.put("access-log-sample-rate", "the share of successful requests logged, 0 to 1; failed ones are always logged (default 1)");
    FLAGS.put("shutdown-grace-ms", "on SIGTERM/SIGINT, how long calls in flight may take to finish once no new call is accepted (default 30000); a supervisor must wait longer before it kills the gateway");
    FLAGS.put("on-stop", "what SIGTERM/SIGINT does to the model containers once calls in flight are done: stop (remove them) or leave (keep them running for the next gateway with the same --gateway-id and --state-dir to adopt) (default stop)");
    FLAGS.put("home-deploy-roots", "development only: ':'-separated folders whose home folders Admin Deploy may run as local processes, for gateway admins only (default: none, refused)");
  }

  /** Flags of the parser itself, not settings: neither file keys nor in --print-config. */
  private static final String CONFIG = "config";
  private static final String PRINT_CONFIG = "print-config";
  private static final String CONFIG_VARIABLE = "PYML_GATEWAY_CONFIG";
  /** {@code PYML_GATEWAY_*} variables that are not settings: PYML_GATEWAY_JAR is the SDK's. */
  private static final Set<String> OTHER_VARIABLES = Set.of(CONFIG_VARIABLE, "PYML_GATEWAY_JAR");
  /** List-valued flags and the separator of their text; a config file may give an array. */
  private static final Map<String, String> LIST_SEPARATORS = Map.of(
      "runtime-command", " ", "home-deploy-roots", ":", "gateway-admins", ",");
  /** A password written in a URL ({@code ?password=...}), hidden by --print-config. */
  private static final Pattern PASSWORD = Pattern.compile("(?i)(password=)[^&;]*");

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
    text.append(String.format(Locale.ROOT, "  --%-22s %s%n", CONFIG, "TOML file of settings, "
        + "keys named as the flags (grpc-port = 7070, home-deploy-roots = [\"/srv/models\"]); "
        + "also " + CONFIG_VARIABLE + " (default: none)"));
    text.append(String.format(Locale.ROOT, "  --%-22s %s%n", PRINT_CONFIG,
        "print every effective setting and where it came from, then exit"));
    text.append(String.format(Locale.ROOT, "  --%-22s %s%n", "version",
        "print the gateway's PyML version and sidecar protocol, then exit"));
    text.append("Each flag can also be set as PYML_GATEWAY_<NAME> (e.g. PYML_GATEWAY_GRPC_PORT) "
        + "or as a key of the --config file.\nPrecedence: flag > environment > file > default.");
    return text.toString();
  }

  /** Every setting's name: its flag, its file key and, in capitals, its variable. */
  static Set<String> names() {
    return java.util.Collections.unmodifiableSet(FLAGS.keySet());
  }

  /** True when the arguments ask for --print-config instead of a start. */
  public static boolean printConfigRequested(String[] args) {
    return Arrays.asList(args).contains("--" + PRINT_CONFIG);
  }

  public static GatewayConfig parse(String[] args, Map<String, String> env) throws ConfigException {
    Map<String, Setting> settings = resolve(args, env);
    Map<String, String> values = new HashMap<>();
    settings.forEach((name, setting) -> values.put(name, setting.value()));
    try {
      return build(values, env);
    } catch (ConfigException e) {
      throw new ConfigException(e.getMessage() + setIn(e.getMessage(), settings));
    }
  }

  /**
   * Every setting, one line each, as TOML: a set one with its source ({@code # flag --x},
   * {@code # env PYML_GATEWAY_X}, {@code # file F line N}), a default one commented out with the
   * default its help gives. Secrets never appear: a password file is shown by its path, a
   * password in a URL as {@code ***}.
   */
  public static String describe(String[] args, Map<String, String> env) throws ConfigException {
    Map<String, Setting> settings = resolve(args, env);
    StringBuilder text = new StringBuilder(
        "# pyml-gateway settings; precedence: flag > environment > file > default\n");
    configFile(fromFlags(args), env).ifPresent(file -> text.append("# config file: ")
        .append(file).append('\n'));
    for (Map.Entry<String, String> flag : FLAGS.entrySet()) {
      Setting setting = settings.get(flag.getKey());
      if (setting == null) {
        text.append("# ").append(flag.getKey()).append(": default")
            .append(defaultOf(flag.getValue())).append('\n');
      } else {
        String value = PASSWORD.matcher(setting.value()).replaceAll("$1***");
        text.append(flag.getKey()).append(" = ").append(toml(flag.getKey(), value))
            .append("  # ").append(setting.source()).append('\n');
      }
    }
    return text.toString();
  }

  /**
   * The set settings with their sources: flag over environment over file. Defaults are absent
   * (the typed builders below apply them).
   */
  static Map<String, Setting> resolve(String[] args, Map<String, String> env)
      throws ConfigException {
    Map<String, String> flags = fromFlags(args);
    checkVariables(env);
    Map<String, Setting> settings = new HashMap<>();
    Optional<Path> file = configFile(flags, env);
    if (file.isPresent()) {
      settings.putAll(ConfigFile.read(file.get(), FLAGS.keySet(), LIST_SEPARATORS));
    }
    fromEnv(env).forEach((name, value) ->
        settings.put(name, new Setting(value, "env " + variable(name))));
    flags.forEach((name, value) -> {
      if (FLAGS.containsKey(name)) {
        settings.put(name, new Setting(value, "flag --" + name));
      }
    });
    return settings;
  }

  private static Optional<Path> configFile(Map<String, String> flags, Map<String, String> env) {
    return Optional.ofNullable(flags.get(CONFIG)).or(() -> Optional.ofNullable(
        env.get(CONFIG_VARIABLE))).filter(f -> !f.isBlank())
        .map(f -> Path.of(f.strip()).toAbsolutePath().normalize());
  }

  /** Where the settings an error names were set, when not by a flag (a flag names itself). */
  private static String setIn(String message, Map<String, Setting> settings) {
    List<String> places = new ArrayList<>();
    for (String name : FLAGS.keySet()) {
      Setting setting = settings.get(name);
      if (setting != null && !setting.source().startsWith("flag")
          && Pattern.compile("(?<![\\w-])(?:--)?" + Pattern.quote(name) + "(?![\\w-])")
              .matcher(message).find()) {
        places.add(name + " from " + setting.source());
      }
    }
    return places.isEmpty() ? "" : " (" + String.join("; ", places) + ")";
  }

  /** The default a flag's help gives: the text of its last "(default ...)". */
  private static String defaultOf(String help) {
    int start = help.lastIndexOf("(default");
    if (start < 0) {
      return "";
    }
    int depth = 0;
    for (int i = start; i < help.length(); i++) {
      char c = help.charAt(i);
      depth += c == '(' ? 1 : c == ')' ? -1 : 0;
      if (depth == 0) {
        String text = help.substring(start + "(default".length(), i);
        return " " + (text.startsWith(":") ? text.substring(1) : text).strip();
      }
    }
    return "";
  }

  /** A flag's text as a TOML value: a number or boolean bare, a list as an array. */
  private static String toml(String name, String value) {
    String separator = LIST_SEPARATORS.get(name);
    if (separator != null) {
      return Arrays.stream(value.split(separator.isBlank() ? "\\s+" : Pattern.quote(separator)))
          .map(String::strip).filter(s -> !s.isEmpty()).map(GatewayConfigParser::tomlString)
          .collect(Collectors.joining(", ", "[", "]"));
    }
    String bare = value.strip();
    return bare.matches("-?\\d+(\\.\\d+)?|true|false") ? bare : tomlString(value);
  }

  private static String tomlString(String text) {
    StringBuilder quoted = new StringBuilder("\"");
    text.codePoints().forEach(c -> quoted.append(switch (c) {
      case '"' -> "\\\"";
      case '\\' -> "\\\\";
      default -> c < 0x20 || c == 0x7f ? String.format(Locale.ROOT, "\\u%04x", c)
          : Character.toString(c);
    }));
    return quoted.append('"').toString();
  }

  private static String variable(String name) {
    return "PYML_GATEWAY_" + name.toUpperCase(Locale.ROOT).replace('-', '_');
  }

  /** An unknown PYML_GATEWAY_* variable (a misspelt setting) stops the start, as a flag would. */
  private static void checkVariables(Map<String, String> env) throws ConfigException {
    Set<String> known = FLAGS.keySet().stream().map(GatewayConfigParser::variable)
        .collect(Collectors.toSet());
    for (String name : new TreeSet<>(env.keySet())) {
      if (name.startsWith("PYML_GATEWAY_") && !known.contains(name)
          && !OTHER_VARIABLES.contains(name)) {
        throw new ConfigException("unknown environment variable " + name + " (expected: "
            + "PYML_GATEWAY_<FLAG> of a flag in --help, " + String.join(", ",
                new TreeSet<>(OTHER_VARIABLES)) + ")");
      }
    }
  }

  private static GatewayConfig build(Map<String, String> values, Map<String, String> env)
      throws ConfigException {
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
        accessLog(values),
        stop(values));
  }

  private static AccessLogSettings accessLog(Map<String, String> values)
      throws ConfigException {
    AccessLogSettings defaults = AccessLogSettings.DEFAULTS;
    String format = values.getOrDefault("access-log-format", "plain").strip()
        .toLowerCase(Locale.ROOT);
    if (!format.equals("plain") && !format.equals("json")) {
      throw new ConfigException("--access-log-format '" + format
          + "' (expected: plain or json)");
    }
    String rate = values.get("access-log-sample-rate");
    try {
      return new AccessLogSettings(values.getOrDefault("access-log", defaults.destination()),
          format.equals("json"),
          rate == null ? defaults.sampleRate() : Double.parseDouble(rate.strip()));
    } catch (NumberFormatException e) {
      throw new ConfigException("access-log-sample-rate must be a number from 0 to 1, got '"
          + rate + "'");
    } catch (IllegalArgumentException e) {
      throw new ConfigException(e.getMessage());
    }
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
      String variable = variable(name);
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
      if (name.equals(PRINT_CONFIG) && value == null) {
        values.put(name, "true"); // takes no value
        continue;
      }
      if (!FLAGS.containsKey(name) && !name.equals(CONFIG)) {
        throw new ConfigException("unknown flag '--" + name + "'; known flags: --"
            + String.join(", --", FLAGS.keySet()) + ", --" + CONFIG + ", --" + PRINT_CONFIG);
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
