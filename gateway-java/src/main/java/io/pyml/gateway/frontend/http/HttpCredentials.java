package io.pyml.gateway.frontend.http;

import io.pyml.gateway.identity.Credentials;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;

/**
 * An HTTP request's credentials, unchecked: its {@code Authorization: Bearer} header, as gRPC's
 * {@code authorization} metadata. Only the data plane decides who they name.
 */
public final class HttpCredentials {
  private HttpCredentials() {}

  public static Credentials of(Request request) {
    return Credentials.fromAuthorization(request.getHeaders().get(HttpHeader.AUTHORIZATION));
  }
}
