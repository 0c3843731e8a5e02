package io.pyml.gateway.frontend.transport;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.pyml.gateway.identity.Credentials;

/**
 * Reads a gRPC call's {@code authorization} metadata (gRPC and OIP ports alike) into the
 * call's context, unchecked: the data plane alone decides who it names and what it may do.
 */
public final class CallerCredentials implements ServerInterceptor {
  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  private static final Context.Key<Credentials> KEY = Context.key("pyml-credentials");

  /** The credentials of the call being served (none outside a call). */
  public static Credentials current() {
    Credentials credentials = KEY.get();
    return credentials == null ? Credentials.NONE : credentials;
  }

  /** The credentials a call's headers carry, unchecked. */
  public static Credentials read(Metadata headers) {
    return Credentials.fromAuthorization(headers.get(AUTHORIZATION));
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    Credentials credentials = read(headers);
    return Contexts.interceptCall(Context.current().withValue(KEY, credentials), call, headers,
        next);
  }
}
