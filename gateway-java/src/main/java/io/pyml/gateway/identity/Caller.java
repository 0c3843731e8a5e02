package io.pyml.gateway.identity;

/**
 * Who a call comes from, once authenticated. {@link #LOCAL} is every caller of a gateway with
 * no identities configured: it serves loopback only, and whoever reaches it may do anything
 * (as on a laptop), as CouchDB's "admin party" until its first admin exists.
 */
public record Caller(String identity, boolean gatewayAdmin) {
  public static final Caller LOCAL = new Caller("local", true);
}
