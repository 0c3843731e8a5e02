package io.pyml.gateway.identity;

import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.GatewayException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Who may do what: turns a call's {@link Credentials} into a {@link Caller} and checks its
 * permission on a model, with errors that name the model and the missing permission but never
 * say whether a model the caller may not see exists (the check comes before any lookup).
 * Refusals and admin actions go to the {@link AuditLog}.
 *
 * <p>Authentication is on once identities exist: a JWT key set is configured, or a token was
 * ever created. Before that the gateway serves loopback only (Exposure) and every caller is
 * {@link Caller#LOCAL}; the first token made must be a gateway admin's, so turning
 * authentication on never locks everyone out.
 *
 * <p>Grants and admins are read from a snapshot that every change replaces, and a token's
 * identity is remembered for a short while: a predict never waits on the store.
 */
public final class Access implements AutoCloseable {
  /** How long a checked token is trusted without asking the store again. */
  static final Duration TOKEN_CACHE_TTL = Duration.ofSeconds(30);
  private static final int TOKEN_CACHE_MAX = 10_000;
  private static final int MAX_NAME_CHARS = 256;

  private final IdentityStore store;
  private final Tokens tokens;
  private final Optional<Function<String, Optional<String>>> jwt;
  private final Set<String> configuredAdmins;
  private final AuditLog audit;
  private final Clock clock;
  private final Map<String, Known> known = new ConcurrentHashMap<>();
  private volatile Policy policy;

  private record Known(String identity, Instant until) {}

  private record Policy(boolean enabled, Set<String> admins, Map<String, List<Grant>> grants) {}

  public Access(IdentityStore store, Optional<Function<String, Optional<String>>> jwt,
      Clock clock) {
    this(store, jwt, Set.of(), clock);
  }

  /**
   * @param configuredAdmins gateway admins by the operator's configuration, beside those the
   *     store holds: how an identity provider's users get a first admin
   */
  public Access(IdentityStore store, Optional<Function<String, Optional<String>>> jwt,
      Set<String> configuredAdmins, Clock clock) {
    this.store = store;
    this.configuredAdmins = Set.copyOf(configuredAdmins);
    this.tokens = new Tokens(store, clock);
    this.jwt = jwt;
    this.audit = new AuditLog(store, clock);
    this.clock = clock;
    reload();
  }

  /** Whether calls must say who they come from. */
  public boolean enabled() {
    return policy.enabled();
  }

  /**
   * Whether checking {@code credentials} asks nothing of the store: authentication is off, no
   * bearer was given (refused at once), or the bearer is a token checked within
   * {@link #TOKEN_CACHE_TTL}. A JWT's check may fetch its key set; an unseen token is looked
   * up in the store.
   */
  public boolean checksInMemory(Credentials credentials) {
    if (!policy.enabled() || credentials.bearer().isEmpty()) {
      return true;
    }
    return remembered(credentials.bearer().get(), clock.instant()).isPresent();
  }

  // --- checks ------------------------------------------------------------------------------

  /**
   * The caller, if it holds {@code permission} on {@code model}; else UNAUTHENTICATED or
   * PERMISSION_DENIED (recorded). {@code action} names the call in errors and the audit log.
   */
  public Caller require(Credentials credentials, String action, String model, long version,
      Permission permission) {
    Caller caller = authenticate(credentials, action, model, version,
        "model '" + model + "' needs a token with the '" + permission.wireName()
            + "' permission");
    if (!may(caller, model, permission)) {
      String message = "'" + caller.identity() + "' lacks the '" + permission.wireName()
          + "' permission on model '" + model + "'";
      audit.refusal(caller.identity(), action, model, version, AuditEntry.DENIED, message);
      throw new GatewayException(ErrorKind.PERMISSION_DENIED, message);
    }
    return caller;
  }

  /** Any known caller (for calls about no one model, such as listing); else UNAUTHENTICATED. */
  public Caller caller(Credentials credentials, String action) {
    return authenticate(credentials, action, "", 0, action + " needs a token");
  }

  /** A gateway admin; else UNAUTHENTICATED or PERMISSION_DENIED (recorded). */
  public Caller requireGatewayAdmin(Credentials credentials, String action, String model) {
    Caller caller = authenticate(credentials, action, model, 0, action + " needs a token");
    checkGatewayAdmin(caller, action, model);
    return caller;
  }

  /** PERMISSION_DENIED (recorded) unless the already authenticated caller is a gateway admin. */
  public void checkGatewayAdmin(Caller caller, String action, String model) {
    if (!caller.gatewayAdmin()) {
      String message = action + " needs a gateway admin; '" + caller.identity() + "' is not one";
      audit.refusal(caller.identity(), action, model, 0, AuditEntry.DENIED, message);
      throw new GatewayException(ErrorKind.PERMISSION_DENIED, message);
    }
  }

  public boolean may(Caller caller, String model, Permission permission) {
    return caller.gatewayAdmin() || policy.grants().getOrDefault(caller.identity(), List.of())
        .stream().anyMatch(g -> g.covers(model) && g.permission().includes(permission));
  }

  private Caller authenticate(Credentials credentials, String action, String model,
      long version, String needs) {
    Policy current = policy;
    if (!current.enabled()) {
      return Caller.LOCAL;
    }
    Optional<String> identity = credentials.bearer().flatMap(this::identify);
    if (identity.isEmpty()) {
      String message = needs + (credentials.bearer().isEmpty() ? ": none was given"
          : ": the one given is unknown, revoked, expired or malformed");
      audit.refusal("-", action, model, version, AuditEntry.UNAUTHENTICATED, message);
      throw new GatewayException(ErrorKind.UNAUTHENTICATED, message);
    }
    return new Caller(identity.get(), current.admins().contains(identity.get()));
  }

  private Optional<String> identify(String bearer) {
    Instant now = clock.instant();
    Optional<String> cached = remembered(bearer, now);
    if (cached.isPresent()) {
      return cached;
    }
    Optional<String> identity = bearer.startsWith(Tokens.PREFIX) ? tokens.identify(bearer)
        : jwt.flatMap(verifier -> verifier.apply(bearer));
    if (identity.isPresent() && bearer.startsWith(Tokens.PREFIX)) {
      if (known.size() >= TOKEN_CACHE_MAX) {
        known.clear();
      }
      known.put(bearer, new Known(identity.get(), now.plus(TOKEN_CACHE_TTL)));
    }
    return identity;
  }

  /** The identity a token was found to be within {@link #TOKEN_CACHE_TTL}, if any. */
  private Optional<String> remembered(String bearer, Instant now) {
    Known cached = known.get(bearer);
    return cached != null && now.isBefore(cached.until()) ? Optional.of(cached.identity())
        : Optional.empty();
  }

  // --- tokens ------------------------------------------------------------------------------

  /**
   * A new token for {@code identity} (a gateway admin's with {@code gatewayAdmin}); only
   * gateway admins make tokens. The first token turns authentication on, so it must be an
   * admin's.
   */
  public Tokens.Issued createToken(Credentials credentials, String identity,
      boolean gatewayAdmin) {
    Caller by = requireGatewayAdmin(credentials, "create-token", "");
    String name = checkedName("identity", identity);
    if (!policy.enabled() && !gatewayAdmin) {
      throw new GatewayException(ErrorKind.FAILED_PRECONDITION, "the first token turns"
          + " authentication on, so it must be a gateway admin's (tokens create --admin)");
    }
    if (gatewayAdmin) {
      store.addGatewayAdmin(name, by.identity(), clock.instant());
    }
    Tokens.Issued issued = tokens.create(name);
    reload();
    audit.action(by.identity(), "create-token", "", 0, AuditEntry.OK, "token "
        + issued.info().id() + " for '" + name + "'" + (gatewayAdmin ? " (gateway admin)" : ""));
    return issued;
  }

  /** Every token for gateway admins; one's own for everyone else. */
  public List<TokenInfo> tokens(Credentials credentials) {
    Caller caller = caller(credentials, "list-tokens");
    return tokens.list().stream()
        .filter(t -> caller.gatewayAdmin() || t.identity().equals(caller.identity())).toList();
  }

  /** Revokes a token: gateway admins any, others their own. NOT_FOUND names only the id. */
  public void revokeToken(Credentials credentials, String id) {
    Caller caller = caller(credentials, "revoke-token");
    boolean own = tokens.list().stream()
        .anyMatch(t -> t.id().equals(id) && t.identity().equals(caller.identity()));
    if (!(caller.gatewayAdmin() || own) || !tokens.revoke(id)) {
      throw new GatewayException(ErrorKind.NOT_FOUND, "no live token '" + id + "' of yours");
    }
    known.clear();
    audit.action(caller.identity(), "revoke-token", "", 0, AuditEntry.OK, "token " + id);
  }

  // --- grants ------------------------------------------------------------------------------

  /** Gives {@code identity} {@code permission} on {@code model}: model admins and up. */
  public Grant grant(Credentials credentials, String model, String identity,
      Permission permission) {
    Caller by = grantor(credentials, "grant", model);
    Grant grant = new Grant(checkedName("identity", identity), model, permission,
        by.identity(), clock.instant());
    store.putGrant(grant);
    reload();
    audit.action(by.identity(), "grant", model, 0, AuditEntry.OK,
        permission.wireName() + " to '" + grant.identity() + "'");
    return grant;
  }

  /** Takes {@code identity}'s grant on {@code model} away: model admins and up. */
  public void revokeGrant(Credentials credentials, String model, String identity) {
    Caller by = grantor(credentials, "revoke-grant", model);
    if (!store.removeGrant(identity, model)) {
      throw new GatewayException(ErrorKind.NOT_FOUND, "'" + identity + "' holds no grant on"
          + " model '" + model + "'");
    }
    reload();
    audit.action(by.identity(), "revoke-grant", model, 0, AuditEntry.OK,
        "from '" + identity + "'");
  }

  /** The grants the caller may see: all for gateway admins; else on models it administers. */
  public List<Grant> grants(Credentials credentials, String model) {
    Caller caller = model.isEmpty() ? caller(credentials, "list-grants")
        : require(credentials, "list-grants", model, 0, Permission.ADMIN);
    return policy.grants().values().stream().flatMap(List::stream)
        .filter(g -> model.isEmpty() || g.model().equals(model))
        .filter(g -> may(caller, g.model(), Permission.ADMIN)
            || g.identity().equals(caller.identity()))
        .sorted(Comparator.comparing(Grant::model).thenComparing(Grant::identity))
        .toList();
  }

  private Caller grantor(Credentials credentials, String action, String model) {
    checkedName("model", model);
    return model.equals(Grant.EVERY_MODEL)
        ? requireGatewayAdmin(credentials, action, model)
        : require(credentials, action, model, 0, Permission.ADMIN);
  }

  // --- audit -------------------------------------------------------------------------------

  /** Records an admin action on a model (deploy, undeploy...) and how it ended. */
  public void recordAction(Caller caller, String action, String model, long version,
      String outcome, String detail) {
    audit.action(caller.identity(), action, model, version, outcome, detail);
  }

  /**
   * The newest entries (at most {@code limit}): all for gateway admins, a model's for its
   * admins, and otherwise the caller's own.
   */
  public List<AuditEntry> audit(Credentials credentials, String model, int limit) {
    Caller caller = caller(credentials, "read-audit");
    boolean all = caller.gatewayAdmin()
        || (!model.isEmpty() && may(caller, model, Permission.ADMIN));
    int bounded = Math.max(1, Math.min(limit, 1000));
    return audit.read(new IdentityStore.AuditQuery(model, all ? "" : caller.identity(),
        bounded));
  }

  /** Who the credentials name (UNAUTHENTICATED if nobody); {@link Caller#LOCAL} when off. */
  public Caller whoAmI(Credentials credentials) {
    return caller(credentials, "whoami");
  }

  /**
   * Reads grants and admins again. Under this lock a later reload always reads the later
   * state, so concurrent changes never leave an older snapshot in place.
   */
  private synchronized void reload() {
    Map<String, List<Grant>> grants = store.grants().stream()
        .collect(Collectors.groupingBy(Grant::identity));
    boolean enabled = jwt.isPresent() || !store.tokens().isEmpty();
    Set<String> admins = new java.util.HashSet<>(store.gatewayAdmins());
    admins.addAll(configuredAdmins);
    policy = new Policy(enabled, Set.copyOf(admins), grants);
  }

  private static String checkedName(String field, String name) {
    if (name == null || name.isBlank() || name.length() > MAX_NAME_CHARS
        || name.chars().anyMatch(Character::isISOControl)) {
      throw new GatewayException(ErrorKind.INVALID_INPUT, field + " must be 1 to "
          + MAX_NAME_CHARS + " printable characters");
    }
    return name;
  }

  @Override
  public void close() {
    audit.close();
  }
}
