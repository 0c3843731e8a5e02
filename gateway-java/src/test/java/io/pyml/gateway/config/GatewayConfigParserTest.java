package io.pyml.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pyml.gateway.deployment.AdmissionLimits;
import io.pyml.gateway.sidecar.ResourceLimits;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GatewayConfigParserTest {

  @Test
  void runtimeWorkersAndTheDefaultCpusFollowTheHost() throws ConfigException {
    GatewayConfig defaults = GatewayConfigParser.parse(new String[0], Map.of());
    assertEquals(0, defaults.containers().runtimeWorkers(), "0: one worker per CPU");
    assertEquals(Runtime.getRuntime().availableProcessors(), defaults.containers().limits().cpus());
    GatewayConfig set = GatewayConfigParser.parse(new String[] {"--runtime-workers", "3"},
        Map.of("PYML_GATEWAY_MAX_CONTAINER_CPUS", "1"));
    assertEquals(3, set.containers().runtimeWorkers());
    assertEquals(1.0, set.containers().limits().cpus(), "the default stays within the maximum");
    ConfigException above = assertThrows(ConfigException.class, () -> GatewayConfigParser.parse(
        new String[] {"--runtime-workers", "33"}, Map.of()));
    assertTrue(above.getMessage().contains("runtime-workers"), above.getMessage());
  }

  @Test
  void defaultsApplyWhenNothingIsSet() throws ConfigException {
    GatewayConfig config = GatewayConfigParser.parse(new String[0], Map.of());
    assertEquals("127.0.0.1", config.host());
    assertEquals(7070, config.grpcPort());
    assertEquals(List.of("pyml-runtime"), config.runtimeCommand());
    assertEquals(Optional.empty(), config.workDir());
    assertEquals(64 * 1024 * 1024, config.maxPayloadBytes());
    assertEquals(Duration.ofMillis(30_000), config.defaultDeadline());
    assertEquals(Duration.ofMillis(120_000), config.deployTimeout());
  }

  @Test
  void transportLimitsComeFromFlagsAndEnvironment() throws ConfigException {
    assertEquals(TransportLimits.DEFAULTS,
        GatewayConfigParser.parse(new String[0], Map.of()).transport());
    TransportLimits set = GatewayConfigParser.parse(new String[] {
        "--max-connections-per-port", "10", "--max-streams-per-connection=3",
        "--connection-idle-ms", "1500", "--request-read-timeout-ms", "2500",
        "--max-rst-frames-per-10s", "40", "--max-arriving-requests", "5"},
        Map.of("PYML_GATEWAY_CONNECTION_MAX_AGE_MS", "60000")).transport();
    assertEquals(new TransportLimits(10, 3, Duration.ofMillis(1500), Duration.ofMinutes(1),
        Duration.ofMillis(2500), 40, 5), set);
    ConfigException zero = assertThrows(ConfigException.class, () -> GatewayConfigParser.parse(
        new String[] {"--max-connections-per-port", "0"}, Map.of()));
    assertTrue(zero.getMessage().contains("max-connections-per-port"), zero.getMessage());
  }

  @Test
  void containerSettingsComeFromFlagsEnvironmentAndPymlHome() throws ConfigException {
    GatewayConfig defaults = GatewayConfigParser.parse(new String[0],
        Map.of("PYML_HOME", "/srv/pyml"));
    assertEquals(Path.of("/srv/pyml/registry"), defaults.containers().registryDir());
    assertEquals("unix:///var/run/docker.sock", defaults.containers().dockerHost());
    assertEquals("default", defaults.containers().gatewayId());
    assertEquals(1024L * 1024 * 1024, defaults.containers().limits().memoryBytes());

    GatewayConfig set = GatewayConfigParser.parse(new String[] {
        "--registry-dir", "/r", "--gateway-id=gw-1", "--container-memory-bytes", "268435456",
        "--container-cpus", "0.5"},
        Map.of("PYML_GATEWAY_DOCKER_HOST", "unix:///d.sock", "PYML_GATEWAY_CONTAINER_PIDS", "64"));
    assertEquals(Path.of("/r"), set.containers().registryDir());
    assertEquals("gw-1", set.containers().gatewayId());
    assertEquals("unix:///d.sock", set.containers().dockerHost());
    assertEquals(268435456L, set.containers().limits().memoryBytes());
    assertEquals(0.5, set.containers().limits().cpus());
    assertEquals(64, set.containers().limits().pids());

    assertTrue(assertThrows(ConfigException.class, () -> GatewayConfigParser.parse(
        new String[] {"--gateway-id", "a b"}, Map.of())).getMessage().contains("gateway-id"));
    assertTrue(assertThrows(ConfigException.class, () -> GatewayConfigParser.parse(
        new String[] {"--container-memory-bytes", "1000"}, Map.of())).getMessage()
        .contains("minimum"));
  }

  @Test
  void hostWorkDirNamesTheWorkDirAsTheEngineSeesItAndNeedsAWorkDir() throws ConfigException {
    assertEquals(Optional.empty(),
        GatewayConfigParser.parse(new String[0], Map.of()).containers().hostWorkDir());
    GatewayConfig nested = GatewayConfigParser.parse(
        new String[] {"--host-work-dir", "/home/me/pyml-work"},
        Map.of("PYML_GATEWAY_WORK_DIR", "/var/lib/pyml-gateway/work"));
    assertEquals(Optional.of("/home/me/pyml-work"), nested.containers().hostWorkDir());
    assertEquals(Optional.of(Path.of("/var/lib/pyml-gateway/work")), nested.workDir());

    assertTrue(assertThrows(ConfigException.class, () -> GatewayConfigParser.parse(
        new String[] {"--host-work-dir", "/home/me/pyml-work"}, Map.of())).getMessage()
        .contains("needs --work-dir"));
  }

  @Test
  void flagsInBothFormsAreRead() throws ConfigException {
    GatewayConfig config = GatewayConfigParser.parse(new String[] {
        "--host", "0.0.0.0", "--grpc-port=0",
        "--runtime-command", "/x/.venv/bin/python  -m pyml_runtime.cli",
        "--work-dir", "/tmp/w", "--max-payload-bytes", "1024",
        "--default-deadline-ms", "500", "--deploy-timeout-ms=9000"}, Map.of());
    assertEquals("0.0.0.0", config.host());
    assertEquals(0, config.grpcPort());
    assertEquals(List.of("/x/.venv/bin/python", "-m", "pyml_runtime.cli"),
        config.runtimeCommand());
    assertEquals(Optional.of(Path.of("/tmp/w")), config.workDir());
    assertEquals(1024, config.maxPayloadBytes());
    assertEquals(Duration.ofMillis(500), config.defaultDeadline());
    assertEquals(Duration.ofMillis(9000), config.deployTimeout());
  }

  @Test
  void environmentFillsInAndFlagsWin() throws ConfigException {
    Map<String, String> env = Map.of(
        "PYML_GATEWAY_GRPC_PORT", "9090",
        "PYML_GATEWAY_RUNTIME_COMMAND", "my-runtime",
        "PYML_GATEWAY_DEPLOY_TIMEOUT_MS", "5000");
    GatewayConfig config = GatewayConfigParser.parse(new String[] {"--grpc-port", "9191"}, env);
    assertEquals(9191, config.grpcPort(), "flag beats environment");
    assertEquals(List.of("my-runtime"), config.runtimeCommand());
    assertEquals(Duration.ofMillis(5000), config.deployTimeout());
  }

  @Test
  void unknownFlagsAndBadValuesAreClearErrors() {
    ConfigException unknown = assertThrows(ConfigException.class,
        () -> GatewayConfigParser.parse(new String[] {"--grpc-prot", "1"}, Map.of()));
    assertTrue(unknown.getMessage().contains("unknown flag '--grpc-prot'"), unknown.getMessage());

    ConfigException notNumber = assertThrows(ConfigException.class,
        () -> GatewayConfigParser.parse(new String[] {"--grpc-port", "seven"}, Map.of()));
    assertTrue(notNumber.getMessage().contains("'seven'"), notNumber.getMessage());

    assertThrows(ConfigException.class,
        () -> GatewayConfigParser.parse(new String[] {"--grpc-port", "70000"}, Map.of()));
    assertThrows(ConfigException.class,
        () -> GatewayConfigParser.parse(new String[] {"--deploy-timeout-ms", "0"}, Map.of()));
    assertThrows(ConfigException.class,
        () -> GatewayConfigParser.parse(new String[] {"--host"}, Map.of()));
    assertThrows(ConfigException.class,
        () -> GatewayConfigParser.parse(new String[] {"stray"}, Map.of()));
    assertThrows(ConfigException.class,
        () -> GatewayConfigParser.parse(new String[0], Map.of("PYML_GATEWAY_GRPC_PORT", "x")));
  }

  @Test
  void frontEndPortsHaveDefaultsFlagsAndEnvironment() throws ConfigException {
    GatewayConfig defaults = GatewayConfigParser.parse(new String[0], Map.of());
    assertEquals(7071, defaults.thriftPort());
    assertEquals(8001, defaults.oipPort());
    GatewayConfig config = GatewayConfigParser.parse(new String[] {"--thrift-port=0"},
        Map.of("PYML_GATEWAY_OIP_PORT", "9001", "PYML_GATEWAY_THRIFT_PORT", "9002"));
    assertEquals(0, config.thriftPort(), "flag beats environment");
    assertEquals(9001, config.oipPort());
    assertThrows(ConfigException.class,
        () -> GatewayConfigParser.parse(new String[] {"--oip-port", "70000"}, Map.of()));
  }

  @Test
  void admissionLimitsComeFromFlagsAndFollowTheContainerMemory() throws ConfigException {
    AdmissionLimits defaults = GatewayConfigParser.parse(new String[0], Map.of()).admission();
    assertEquals(AdmissionLimits.DEFAULTS, defaults);
    assertEquals(128L * 1024 * 1024, defaults.bytesPerReplica(ResourceLimits.NONE));
    AdmissionLimits set = GatewayConfigParser.parse(new String[] {"--replica-max-calls", "2",
        "--replica-memory-divisor", "4", "--queue-max-calls", "3", "--queue-max-bytes", "1000",
        "--hung-call-grace-ms", "500", "--container-memory-bytes", "536870912"},
        Map.of()).admission();
    assertEquals(new AdmissionLimits(2, 4, 3, 1000, Duration.ofMillis(500), 536870912L), set);
    assertEquals(128L * 1024 * 1024, set.bytesPerReplica(ResourceLimits.NONE));
    assertEquals(64L * 1024 * 1024,
        set.bytesPerReplica(new ResourceLimits(256L * 1024 * 1024, 0, 0)));
    assertThrows(ConfigException.class, () -> GatewayConfigParser.parse(
        new String[] {"--replica-max-calls", "0"}, Map.of()));
  }

  @Test
  void stateLivesUnderPymlHomePerGatewayIdAndTheDockerRetryWindowIsSet() throws ConfigException {
    GatewayConfig defaults = GatewayConfigParser.parse(new String[] {"--gateway-id", "gw-2"},
        Map.of("PYML_HOME", "/srv/pyml"));
    assertEquals(Path.of("/srv/pyml/gateway/gw-2"), defaults.state().stateDir());
    assertEquals(Duration.ofMinutes(3), defaults.state().dockerRetry());

    GatewayConfig set = GatewayConfigParser.parse(new String[] {"--docker-retry-ms=0"},
        Map.of("PYML_GATEWAY_STATE_DIR", "/var/lib/gw"));
    assertEquals(Path.of("/var/lib/gw"), set.state().stateDir());
    assertEquals(Duration.ZERO, set.state().dockerRetry(), "0: no retries");
    ConfigException negative = assertThrows(ConfigException.class,
        () -> GatewayConfigParser.parse(new String[] {"--docker-retry-ms", "-1"}, Map.of()));
    assertTrue(negative.getMessage().contains("docker-retry-ms"), negative.getMessage());
  }

  @Test
  void aStopDrainsThirtySecondsThenStopsTheContainersUnlessToldToLeaveThem()
      throws ConfigException {
    GatewayConfig defaults = GatewayConfigParser.parse(new String[0], Map.of());
    assertEquals(new StopSettings(Duration.ofSeconds(30), StopSettings.OnStop.STOP),
        defaults.stop());
    GatewayConfig set = GatewayConfigParser.parse(new String[] {"--on-stop", "Leave"},
        Map.of("PYML_GATEWAY_SHUTDOWN_GRACE_MS", "0"));
    assertEquals(new StopSettings(Duration.ZERO, StopSettings.OnStop.LEAVE), set.stop());
    ConfigException unknown = assertThrows(ConfigException.class,
        () -> GatewayConfigParser.parse(new String[] {"--on-stop", "keep"}, Map.of()));
    assertEquals("on-stop 'keep' (expected: stop or leave)", unknown.getMessage());
    ConfigException negative = assertThrows(ConfigException.class,
        () -> GatewayConfigParser.parse(new String[] {"--shutdown-grace-ms", "-1"}, Map.of()));
    assertTrue(negative.getMessage().contains("shutdown-grace-ms"), negative.getMessage());
  }

  @Test
  void containerMaximaHaveDefaultsAndBoundTheDefaults() throws ConfigException {
    GatewayConfig defaults = GatewayConfigParser.parse(new String[0], Map.of());
    assertEquals(4L * 1024 * 1024 * 1024, defaults.containerMaxima().memoryBytes());
    assertEquals(Runtime.getRuntime().availableProcessors(), defaults.containerMaxima().cpus());
    assertEquals(1024, defaults.containerMaxima().pids());
    GatewayConfig set = GatewayConfigParser.parse(new String[] {"--max-container-memory-bytes",
        "2147483648", "--max-container-cpus", "1.5", "--max-container-pids", "300"}, Map.of());
    assertEquals(2147483648L, set.containerMaxima().memoryBytes());
    assertEquals(1.5, set.containerMaxima().cpus());
    assertEquals(300, set.containerMaxima().pids());
    ConfigException above = assertThrows(ConfigException.class, () -> GatewayConfigParser.parse(
        new String[] {"--container-pids", "512", "--max-container-pids", "300"}, Map.of()));
    assertEquals("the default container limit pids 512 is above this gateway's maximum of 300 "
        + "(--max-container-pids): lower the default or raise the maximum", above.getMessage());
    assertThrows(ConfigException.class, () -> GatewayConfigParser.parse(
        new String[] {"--max-container-memory-bytes", "1000"}, Map.of()));
  }

  @Test
  void homeDeploysAreOffUnlessRootsAreGiven() throws ConfigException {
    assertEquals(List.of(), GatewayConfigParser.parse(new String[0], Map.of()).homeDeployRoots());
    assertEquals(List.of(Path.of("/a"), Path.of("/b")), GatewayConfigParser.parse(
        new String[] {"--home-deploy-roots", "/a:/b/"}, Map.of()).homeDeployRoots());
  }

  @Test
  void theIdentityStoreIsAnSqliteFileInTheStateFolderUnlessAUrlIsGiven(@TempDir Path folder)
      throws Exception {
    GatewayConfig defaults = GatewayConfigParser.parse(new String[0],
        Map.of("PYML_GATEWAY_STATE_DIR", "/var/lib/gw"));
    assertEquals(IdentitySettings.DEFAULTS, defaults.identities());
    assertEquals("jdbc:sqlite:/var/lib/gw/identities.db",
        defaults.identities().jdbcUrl(defaults.state().stateDir()));
    assertEquals(Optional.empty(), defaults.identities().password());

    Path secret = ownerOnly(folder.resolve("pg-password"), "s3cret pass\nignored\n");
    String url = "jdbc:postgresql://db.internal:5432/pyml?user=gateway";
    GatewayConfig set = GatewayConfigParser.parse(
        new String[] {"--identity-store-password-file", secret.toString()},
        Map.of("PYML_GATEWAY_IDENTITY_STORE_URL", url));
    assertEquals(Optional.of(url), set.identities().storeUrl());
    assertEquals(url, set.identities().jdbcUrl(set.state().stateDir()));
    assertEquals(Optional.of(secret), set.identities().passwordFile());
    assertEquals(Optional.of("s3cret pass"), set.identities().password(), "its first line");
    assertFalse(set.toString().contains("s3cret"), set.toString());

    GatewayConfig flagWins = GatewayConfigParser.parse(new String[] {"--identity-store-url",
        "jdbc:sqlite:/srv/ids.db"}, Map.of("PYML_GATEWAY_IDENTITY_STORE_URL", url));
    assertEquals("jdbc:sqlite:/srv/ids.db", flagWins.identities().jdbcUrl(Path.of("/x")));
  }

  @Test
  void aPasswordWrittenInTheStoreUrlIsNeverShown() throws ConfigException {
    GatewayConfig config = GatewayConfigParser.parse(new String[] {"--identity-store-url",
        "jdbc:postgresql://db/pyml?user=gw&password=hunter2"}, Map.of());
    assertFalse(config.toString().contains("hunter2"), config.toString());
    assertTrue(config.toString().contains("password=***"), config.toString());
    ConfigException unknown = assertThrows(ConfigException.class, () -> GatewayConfigParser.parse(
        new String[] {"--identity-store-url", "jdbc:mysql://db/pyml?password=hunter2"},
        Map.of()));
    assertEquals("identity-store-url 'jdbc:mysql://db/pyml?password=***' is not a store the "
        + "gateway knows (expected: jdbc:sqlite:<file> or "
        + "jdbc:postgresql://<host>:<port>/<database>?user=<user>)", unknown.getMessage());
  }

  @Test
  void aPasswordFileMustExistBeTheOwnersAloneHoldALineAndGoWithPostgresql(
      @TempDir Path folder) throws Exception {
    String url = "jdbc:postgresql://db/pyml?user=gw";
    Path missing = folder.resolve("missing");
    assertEquals("identity-store-password-file " + missing + " does not exist",
        passwordFileError(url, missing));
    Path shared = ownerOnly(folder.resolve("shared"), "s3cret\n");
    Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rw-r--r--"));
    assertTrue(passwordFileError(url, shared).contains("chmod 600"),
        passwordFileError(url, shared));
    Path empty = ownerOnly(folder.resolve("empty"), "\n");
    assertTrue(passwordFileError(url, empty).contains("is empty"), passwordFileError(url, empty));
    Path huge = ownerOnly(folder.resolve("huge"), "x".repeat(5000));
    assertTrue(passwordFileError(url, huge).contains("over 4096 bytes"));
    Path fine = ownerOnly(folder.resolve("fine"), "s3cret");
    assertTrue(passwordFileError("jdbc:sqlite:/srv/ids.db", fine).contains("PostgreSQL"));
    assertTrue(passwordFileError(null, fine).contains("--identity-store-url"));
  }

  private static String passwordFileError(String url, Path file) {
    List<String> args = new java.util.ArrayList<>(
        List.of("--identity-store-password-file", file.toString()));
    if (url != null) {
      args.addAll(List.of("--identity-store-url", url));
    }
    return assertThrows(ConfigException.class,
        () -> GatewayConfigParser.parse(args.toArray(String[]::new), Map.of())).getMessage();
  }

  private static Path ownerOnly(Path file, String text) throws java.io.IOException {
    Files.writeString(file, text);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return file;
  }

  @Test
  void jwtsAreOffByDefaultAndComeFromFlagsAndEnvironment(@TempDir Path folder)
      throws Exception {
    assertEquals(Optional.empty(), GatewayConfigParser.parse(new String[0], Map.of()).jwt());
    Path jwks = Files.writeString(folder.resolve("jwks.json"), "{\"keys\": []}");
    JwtSettings fromFile = GatewayConfigParser.parse(
        new String[] {"--jwt-jwks-file", jwks.toString(), "--jwt-issuer=https://idp/realm"},
        Map.of("PYML_GATEWAY_JWT_AUDIENCE", "pyml", "PYML_GATEWAY_JWT_ISSUER", "ignored"))
        .jwt().orElseThrow();
    assertEquals(new JwtSettings(Optional.of(jwks), Optional.empty(), "https://idp/realm", "pyml",
        "sub"), fromFile, "flag beats environment; the identity claim defaults to sub");
    JwtSettings fromUrl = GatewayConfigParser.parse(new String[0], Map.of(
        "PYML_GATEWAY_JWT_JWKS_URL", "https://idp.example.org/certs",
        "PYML_GATEWAY_JWT_ISSUER", "https://idp.example.org", "PYML_GATEWAY_JWT_AUDIENCE", "pyml",
        "PYML_GATEWAY_JWT_IDENTITY_CLAIM", "email")).jwt().orElseThrow();
    assertEquals(Optional.of(URI.create("https://idp.example.org/certs")), fromUrl.jwksUrl());
    assertEquals("email", fromUrl.identityClaim());
    assertTrue(GatewayConfigParser.usage().contains("--jwt-jwks-url"));
  }

  @Test
  void invalidJwtSettingsStopStartUpNamingTheFlag(@TempDir Path folder) throws Exception {
    Path jwks = Files.writeString(folder.resolve("jwks.json"), "{\"keys\": []}");
    String file = jwks.toString();
    Map<String[], String> cases = new LinkedHashMap<>();
    cases.put(new String[] {"--jwt-issuer", "i"}, "--jwt-issuer needs a key set");
    cases.put(new String[] {"--jwt-identity-claim", "email"}, "--jwt-identity-claim needs a key set");
    cases.put(new String[] {"--jwt-jwks-file", file, "--jwt-jwks-url", "https://idp/certs",
        "--jwt-issuer", "i", "--jwt-audience", "a"}, "are both set");
    cases.put(new String[] {"--jwt-jwks-file", file, "--jwt-audience", "a"},
        "--jwt-issuer is required with --jwt-jwks-file");
    cases.put(new String[] {"--jwt-jwks-url", "https://idp/certs", "--jwt-issuer", "i"},
        "--jwt-audience is required with --jwt-jwks-url");
    cases.put(new String[] {"--jwt-jwks-file", folder.resolve("absent.json").toString(),
        "--jwt-issuer", "i", "--jwt-audience", "a"}, "--jwt-jwks-file");
    cases.put(new String[] {"--jwt-jwks-file", folder.toString(), "--jwt-issuer", "i",
        "--jwt-audience", "a"}, "is not a readable file");
    cases.put(new String[] {"--jwt-jwks-url", "http://idp.example.org/certs", "--jwt-issuer", "i",
        "--jwt-audience", "a"}, "must be https");
    cases.put(new String[] {"--jwt-jwks-url", "file:///etc/passwd", "--jwt-issuer", "i",
        "--jwt-audience", "a"}, "--jwt-jwks-url 'file:///etc/passwd' is not an http(s) URL");
    cases.put(new String[] {"--jwt-jwks-url", "https://idp/a b", "--jwt-issuer", "i",
        "--jwt-audience", "a"}, "--jwt-jwks-url 'https://idp/a b' is not a URL");
    cases.forEach((args, expected) -> {
      ConfigException e = assertThrows(ConfigException.class,
          () -> GatewayConfigParser.parse(args, Map.of()), String.join(" ", args));
      assertTrue(e.getMessage().contains(expected), e.getMessage());
    });
    // Plain http is fine to a loopback address (a local identity provider, the tests).
    for (String url : List.of("http://127.0.0.1:8080/certs", "http://localhost/certs",
        "http://[::1]:9/certs")) {
      assertTrue(GatewayConfigParser.parse(new String[] {"--jwt-jwks-url", url, "--jwt-issuer",
          "i", "--jwt-audience", "a"}, Map.of()).jwt().isPresent(), url);
    }
  }

  private static Path toml(Path folder, String text) throws java.io.IOException {
    return Files.writeString(folder.resolve("gateway.toml"), text);
  }

  private static String error(String[] args, Map<String, String> env) {
    return assertThrows(ConfigException.class, () -> GatewayConfigParser.parse(args, env))
        .getMessage();
  }

  @Test
  void precedenceIsFlagThenEnvironmentThenFileThenDefault(@TempDir Path folder) throws Exception {
    Path file = toml(folder, "grpc-port = 1001\nhttp-port = 1002\nthrift-port = 1003\n");
    GatewayConfig config = GatewayConfigParser.parse(
        new String[] {"--config", file.toString(), "--grpc-port", "3001"},
        Map.of("PYML_GATEWAY_GRPC_PORT", "2001", "PYML_GATEWAY_HTTP_PORT", "2002"));
    assertEquals(3001, config.grpcPort(), "flag over environment and file");
    assertEquals(2002, config.httpPort(), "environment over file");
    assertEquals(1003, config.thriftPort(), "file over default");
    assertEquals(8001, config.oipPort(), "default");

    Path other = Files.writeString(folder.resolve("other.toml"), "thrift-port = 1004\n");
    assertEquals(1003, GatewayConfigParser.parse(new String[0],
        Map.of("PYML_GATEWAY_CONFIG", file.toString())).thriftPort(), "PYML_GATEWAY_CONFIG");
    assertEquals(1004, GatewayConfigParser.parse(new String[] {"--config=" + other},
        Map.of("PYML_GATEWAY_CONFIG", file.toString())).thriftPort(), "--config wins");
  }

  @Test
  void listSettingsTakeArraysOrTheirFlagsText(@TempDir Path folder) throws Exception {
    GatewayConfig arrays = GatewayConfigParser.parse(new String[] {"--config", toml(folder, """
        home-deploy-roots = ["/srv/models", "/opt/homes/"]
        gateway-admins = ["alice", "bob"]
        runtime-command = ["/x/python", "-m", "pyml_runtime.cli"]
        container-cpus = 0.5
        insecure-no-auth = false
        """).toString()}, Map.of());
    assertEquals(List.of(Path.of("/srv/models"), Path.of("/opt/homes")), arrays.homeDeployRoots());
    assertEquals(java.util.Set.of("alice", "bob"), arrays.gatewayAdmins());
    assertEquals(List.of("/x/python", "-m", "pyml_runtime.cli"), arrays.runtimeCommand());
    assertEquals(0.5, arrays.containers().limits().cpus());
    GatewayConfig text = GatewayConfigParser.parse(new String[] {"--config",
        toml(folder, "home-deploy-roots = \"/a:/b\"\n").toString()}, Map.of());
    assertEquals(List.of(Path.of("/a"), Path.of("/b")), text.homeDeployRoots());
  }

  @Test
  void anUnknownKeyAWrongTypeOrAnInvalidValueNamesTheKeyFileAndLine(@TempDir Path folder)
      throws Exception {
    Map<String, String> cases = new LinkedHashMap<>();
    cases.put("grpc-prot = 7070", "unknown key 'grpc-prot' in config file FILE line 2");
    cases.put("[server]\ngrpc-port = 1", "unknown key 'server' in config file FILE line 2");
    cases.put("grpc-port = \"seven\"", "grpc-port must be a whole number, got 'seven' "
        + "(grpc-port from file FILE line 2)");
    cases.put("grpc-port = true", "grpc-port must be a whole number, got 'true'");
    cases.put("grpc-port = [1, 2]", "'grpc-port' in config file FILE line 2 must be a string, "
        + "number or boolean, got a list");
    cases.put("grpc-port = 70000", "grpc-port must be between 0 and 65535, got 70000 "
        + "(grpc-port from file FILE line 2)");
    cases.put("home-deploy-roots = [\"/a:/b\"]", "'home-deploy-roots' in config file FILE line 2: "
        + "each item must be one value without ':'");
    cases.put("jwt-issuer = \"https://idp\"",
        "--jwt-issuer needs a key set to verify JWTs with: --jwt-jwks-file or --jwt-jwks-url "
        + "(jwt-issuer from file FILE line 2)");
    cases.put("grpc-port = ", "config file FILE line 2 column ");
    cases.put("grpc-port = 1\ngrpc-port = 2", "is not valid TOML: Duplicate key");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      Path file = toml(folder, "# the gateway\n" + c.getKey() + "\n");
      String message = error(new String[] {"--config", file.toString()}, Map.of());
      String expected = c.getValue().replace("FILE", file.toString());
      assertTrue(message.contains(expected), c.getKey() + " -> " + message);
    }
    assertEquals("config file " + folder.resolve("absent.toml") + " does not exist",
        error(new String[] {"--config", folder.resolve("absent.toml").toString()}, Map.of()));
  }

  @Test
  void anUnknownGatewayVariableStopsTheStartButTheSdksOwnAreAllowed() throws ConfigException {
    assertEquals("unknown environment variable PYML_GATEWAY_GRPC_PROT (expected: "
        + "PYML_GATEWAY_<FLAG> of a flag in --help, PYML_GATEWAY_CONFIG, PYML_GATEWAY_JAR)",
        error(new String[0], Map.of("PYML_GATEWAY_GRPC_PROT", "1")));
    assertEquals(7070, GatewayConfigParser.parse(new String[0], Map.of(
        "PYML_GATEWAY_JAR", "/x.jar", "PYML_GATEWAY", "localhost:7070")).grpcPort());
    assertTrue(error(new String[0], Map.of("PYML_GATEWAY_GRPC_PORT", "x"))
        .endsWith("(grpc-port from env PYML_GATEWAY_GRPC_PORT)"));
  }

  @Test
  void printConfigShowsEverySettingAndItsSourceButNoSecret(@TempDir Path folder)
      throws Exception {
    Path secret = ownerOnly(folder.resolve("pg-password"), "s3cret\n");
    Path file = toml(folder, """
        thrift-port = 1003
        home-deploy-roots = ["/srv/models"]
        identity-store-url = "jdbc:postgresql://db/pyml?user=gw&password=hunter2"
        """);
    String[] args = {"--config", file.toString(), "--grpc-port", "3001", "--print-config",
        "--identity-store-password-file", secret.toString()};
    Map<String, String> env = Map.of("PYML_GATEWAY_HTTP_PORT", "2002");
    GatewayConfigParser.parse(args, env); // --print-config is a known flag
    assertTrue(GatewayConfigParser.printConfigRequested(args));
    String text = GatewayConfigParser.describe(args, env);
    List<String> lines = text.lines().toList();
    assertTrue(lines.contains("grpc-port = 3001  # flag --grpc-port"), text);
    assertTrue(lines.contains("http-port = 2002  # env PYML_GATEWAY_HTTP_PORT"), text);
    assertTrue(lines.contains("thrift-port = 1003  # file " + file + " line 1"), text);
    assertTrue(lines.contains("home-deploy-roots = [\"/srv/models\"]  # file " + file
        + " line 2"), text);
    assertTrue(lines.contains("# oip-port: default 8001"), text);
    assertTrue(lines.contains("identity-store-password-file = \"" + secret
        + "\"  # flag --identity-store-password-file"), text);
    assertTrue(text.contains("password=***"), text);
    assertFalse(text.contains("hunter2") || text.contains("s3cret"), text);
    for (String flag : GatewayConfigParser.usage().lines()
        .filter(l -> l.startsWith("  --")).map(l -> l.strip().split(" ")[0].substring(2))
        .filter(f -> !f.equals("config") && !f.equals("print-config") && !f.equals("version"))
        .toList()) {
      assertTrue(lines.stream().anyMatch(l -> l.startsWith(flag + " = ")
          || l.startsWith("# " + flag + ": default")), flag + " missing in\n" + text);
    }
    // The output is itself a config file that gives the same settings.
    Path again = Files.writeString(folder.resolve("again.toml"), text.replace("***", "x"));
    assertEquals(GatewayConfigParser.parse(args, env).withIdentities(IdentitySettings.DEFAULTS),
        GatewayConfigParser.parse(new String[] {"--config", again.toString()}, Map.of())
            .withIdentities(IdentitySettings.DEFAULTS));
  }

  @Test
  void theExampleFileNamesEveryKeyAndItsDefaultsAreTheDefaults(@TempDir Path folder)
      throws Exception {
    // The module's tests run in gateway-java/; docs/ is beside it.
    String example = Files.readString(Path.of("..", "docs", "gateway.toml"));
    for (String name : GatewayConfigParser.names()) {
      assertTrue(example.contains("\n# " + name + " = "), "docs/gateway.toml lacks " + name);
    }
    String defaults = example.lines().filter(l -> l.matches("# [a-z0-9-]+ = .*")
        && !l.contains("  # ")).map(l -> l.substring(2)) // "# example", "# only with ..."
        .collect(java.util.stream.Collectors.joining("\n"));
    Path file = toml(folder, defaults);
    GatewayConfig fromFile = GatewayConfigParser.parse(new String[] {"--config", file.toString()},
        Map.of());
    assertEquals(GatewayConfigParser.parse(new String[0], Map.of()), fromFile, defaults);
  }
}
