package io.pyml.gateway.identity;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Debian's PostgreSQL server for tests: {@code initdb} in a fresh temporary folder, then
 * {@code postgres} on a free loopback port (its Unix socket in that folder), its superuser
 * {@value #SUPERUSER} with a generated password (scram-sha-256, as a real deployment would
 * ask). {@link #close} stops it by its PID (fast shutdown) and removes the folder.
 *
 * <p>The server refuses to run as root: as root, both commands run as the {@code postgres}
 * user (created by Debian's package) through util-linux's {@code setpriv}, which execs the
 * command, so the process started here is the server itself and its PID the one to stop. A
 * machine without the binaries fails the tests that need them with what to install; nothing
 * is skipped.
 */
final class PostgresServer implements AutoCloseable {
  static final String SUPERUSER = "pyml";
  /** Where Debian installs the server; {@code PYML_TEST_POSTGRES_BIN} overrides it. */
  private static final Path DEBIAN_BINARIES = Path.of("/usr/lib/postgresql");
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);
  private static final int PORT_ATTEMPTS = 3;

  private final Path folder;
  private final Process server;
  private final int port;
  private final String password;
  private final AtomicInteger databases = new AtomicInteger();

  private PostgresServer(Path folder, Process server, int port, String password) {
    this.folder = folder;
    this.server = server;
    this.port = port;
    this.password = password;
  }

  /** Initialises and starts a server; fails with the reason (and the server's log) if not. */
  static PostgresServer start() throws IOException, InterruptedException {
    Path bin = binaries(Optional.ofNullable(System.getenv("PYML_TEST_POSTGRES_BIN")),
        DEBIAN_BINARIES);
    Path folder = Files.createTempDirectory("pyml-pg-");
    try {
      byte[] secret = new byte[24];
      new SecureRandom().nextBytes(secret);
      String password = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
      initdb(bin, folder, password);
      for (int attempt = 1; ; attempt++) {
        int port = freePort();
        Process server = run(bin.resolve("postgres"), folder, folder.resolve("server.log"),
            "-D", folder.resolve("data").toString(), "-p", Integer.toString(port),
            "-k", folder.toString(), "-c", "listen_addresses=127.0.0.1",
            // A throwaway server: durability buys nothing and costs the tests time.
            "-c", "fsync=off", "-c", "full_page_writes=off", "-c", "synchronous_commit=off");
        PostgresServer started = new PostgresServer(folder, server, port, password);
        if (started.awaitReady()) {
          // Also stopped when the JVM exits without JUnit closing it (an interrupted run).
          Runtime.getRuntime().addShutdownHook(new Thread(started::closeQuietly));
          return started;
        }
        // Exited before it answered: most likely another process took the port meanwhile.
        if (attempt == PORT_ATTEMPTS) {
          throw new IllegalStateException("PostgreSQL did not start (" + PORT_ATTEMPTS
              + " tries); its log ends:\n" + tail(folder.resolve("server.log")));
        }
      }
    } catch (IOException | InterruptedException | RuntimeException e) {
      deleteTree(folder);
      throw e;
    }
  }

  int port() {
    return port;
  }

  String password() {
    return password;
  }

  /** A new, empty database on this server: each test's store starts from nothing. */
  String newDatabaseUrl() throws SQLException {
    String name = "store_" + databases.incrementAndGet();
    try (Connection admin = connect("postgres"); Statement statement = admin.createStatement()) {
      statement.execute("CREATE DATABASE " + name);
    }
    return url(name);
  }

  /** The URL of {@code database}, naming the superuser but not the password. */
  String url(String database) {
    return "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user=" + SUPERUSER;
  }

  Connection connect(String database) throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("password", password);
    return DriverManager.getConnection(url(database), properties);
  }

  /** Fast shutdown (SIGINT: sessions are ended, not waited for), then the folder goes. */
  @Override
  public synchronized void close() throws IOException, InterruptedException {
    if (server.isAlive()) {
      new ProcessBuilder("kill", "-INT", Long.toString(server.pid())).inheritIO().start()
          .waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      if (!server.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        server.destroyForcibly().waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      }
    }
    deleteTree(folder);
  }

  private void closeQuietly() {
    try {
      close();
    } catch (IOException | InterruptedException e) {
      System.err.println("could not stop PostgreSQL (pid " + server.pid() + ") or remove "
          + folder + ": " + e);
    }
  }

  /** Waits until a client can sign in; false when the server exited first. */
  private boolean awaitReady() throws InterruptedException {
    Instant deadline = Instant.now().plus(START_TIMEOUT);
    while (Instant.now().isBefore(deadline)) {
      if (!server.isAlive()) {
        return false;
      }
      try (Connection ignored = connect("postgres")) {
        return true;
      } catch (SQLException starting) {
        Thread.sleep(50); // refused, or "the database system is starting up"
      }
    }
    server.destroyForcibly();
    throw new IllegalStateException("PostgreSQL did not accept connections within "
        + START_TIMEOUT + "; its log ends:\n" + tail(folder.resolve("server.log")));
  }

  private static void initdb(Path bin, Path folder, String password)
      throws IOException, InterruptedException {
    Path passwordFile = Files.writeString(folder.resolve("password"), password + "\n");
    serverOwns(folder);
    serverOwns(passwordFile);
    Process initdb = run(bin.resolve("initdb"), folder, folder.resolve("initdb.log"),
        "-D", folder.resolve("data").toString(), "-U", SUPERUSER,
        "--pwfile=" + passwordFile, "--auth=scram-sha-256", "--encoding=UTF8", "--locale=C",
        "--no-sync", "--no-instructions");
    if (!initdb.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
      initdb.destroyForcibly();
      throw new IllegalStateException("initdb took over " + START_TIMEOUT);
    }
    Files.delete(passwordFile);
    if (initdb.exitValue() != 0) {
      throw new IllegalStateException("initdb failed (exit " + initdb.exitValue() + "):\n"
          + tail(folder.resolve("initdb.log")));
    }
  }

  /** The newest Debian server's bin folder under {@code debian}, or {@code chosen}. */
  static Path binaries(Optional<String> chosen, Path debian) throws IOException {
    Optional<Path> bin = chosen.map(Path::of);
    if (bin.isEmpty() && Files.isDirectory(debian)) {
      try (Stream<Path> versions = Files.list(debian)) {
        bin = versions.map(version -> version.resolve("bin"))
            .filter(folder -> Files.isExecutable(folder.resolve("postgres")))
            .max(Comparator.comparing(folder -> folder.getParent().getFileName().toString(),
                Comparator.comparing(String::length).thenComparing(Comparator.naturalOrder())));
      }
    }
    Path folder = bin.orElse(debian.resolve("15/bin"));
    if (!Files.isExecutable(folder.resolve("postgres"))
        || !Files.isExecutable(folder.resolve("initdb"))) {
      throw new IllegalStateException("PostgreSQL's server is not installed: no postgres and "
          + "initdb in " + folder + ". Install Debian's package (apt-get install postgresql; "
          + "`make setup` does it) or set PYML_TEST_POSTGRES_BIN to a folder holding them.");
    }
    return folder;
  }

  /** The command, as the postgres user when this JVM is root; output to {@code log}. */
  private static Process run(Path executable, Path folder, Path log, String... arguments)
      throws IOException {
    List<String> command = new ArrayList<>();
    if (isRoot()) {
      command.addAll(List.of("setpriv", "--reuid=postgres", "--regid=postgres",
          "--init-groups", "--"));
    }
    command.add(executable.toString());
    command.addAll(List.of(arguments));
    return new ProcessBuilder(command).directory(folder.toFile())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  private static boolean isRoot() throws IOException {
    return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0;
  }

  /** Gives {@code path} to the postgres user when running as root (the server writes there). */
  private static void serverOwns(Path path) throws IOException {
    if (!isRoot()) {
      return;
    }
    UserPrincipalLookupService users = path.getFileSystem().getUserPrincipalLookupService();
    PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
    try {
      view.setOwner(users.lookupPrincipalByName("postgres"));
      GroupPrincipal group = users.lookupPrincipalByGroupName("postgres");
      view.setGroup(group);
    } catch (java.nio.file.attribute.UserPrincipalNotFoundException e) {
      throw new IllegalStateException("no 'postgres' user to run PostgreSQL as (the server "
          + "refuses root); Debian's postgresql package creates it", e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  private static void deleteTree(Path folder) throws IOException {
    if (!Files.exists(folder)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(folder)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }

  /**
   * Gives test constructors and methods a {@link PostgresServer}: one for the whole test run,
   * started at first use and closed by JUnit when the run ends (the root store closes it).
   */
  static final class Shared implements ParameterResolver {
    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
      return parameter.getParameter().getType() == PostgresServer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
      return context.getRoot().getStore(ExtensionContext.Namespace.GLOBAL)
          .getOrComputeIfAbsent(PostgresServer.class, key -> {
            try {
              return start();
            } catch (IOException e) {
              throw new java.io.UncheckedIOException(e);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new IllegalStateException("interrupted while PostgreSQL started", e);
            }
          }, PostgresServer.class);
    }
  }
}
