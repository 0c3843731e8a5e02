package io.pyml.gateway.frontend.http;

import com.fasterxml.jackson.core.JsonFactory;
import io.pyml.gateway.core.ErrorKind;
import io.pyml.gateway.core.JsonDocuments;
import io.pyml.gateway.core.Failures;
import io.pyml.gateway.core.GatewayException;
import io.pyml.gateway.dispatch.Protocol;
import io.pyml.gateway.identity.Credentials;
import io.pyml.gateway.frontend.oip.OipService;
import io.pyml.gateway.frontend.oip.V2Json;
import io.pyml.gateway.frontend.oip.V2JsonAnswers;
import io.pyml.oip.v2.ModelInferRequest;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.eclipse.jetty.http.pathmap.ServletPathSpec;
import org.eclipse.jetty.http.pathmap.UriTemplatePathSpec;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.PathMappingsHandler;
import org.eclipse.jetty.util.Callback;

/**
 * KServe V2 REST inference (the Open Inference Protocol's HTTP binding, as Triton, KServe and
 * MLServer serve it). Only translates: JSON becomes the OIP gRPC binding's messages and goes
 * through the same {@link OipService} (so the same tensor conversions and the same data plane).
 */
public final class V2Routes implements HttpRoutes {
  /** The client's deadline in milliseconds (capped by the gateway's default deadline). */
  public static final String TIMEOUT_HEADER = "pyml-timeout-ms";
  private static final String MODEL = "/v2/models/{name}";
  private static final String VERSION = "/v2/models/{name}/versions/{version}";

  private final OipService oip;
  private final int maxPayloadBytes;
  private final int maxBodyBytes;
  private final JsonFactory json;

  /**
   * @param maxPayloadBytes the gateway's payload limit, checked on the tensors a body declares
   *     before their data is read
   * @param maxBodyBytes the largest body read (the payload limit plus room for the rest)
   */
  public V2Routes(OipService oip, int maxPayloadBytes, int maxBodyBytes) {
    this.oip = oip;
    this.maxPayloadBytes = maxPayloadBytes;
    this.maxBodyBytes = maxBodyBytes;
    this.json = V2Json.factory(maxBodyBytes);
  }

  /** A route's work once its method is checked, with the template's variables. */
  private interface Route {
    void handle(Map<String, String> path, Request request, Response response, Callback callback);
  }

  @Override
  public void addTo(PathMappingsHandler routes) {
    add(routes, "/v2/health/live", "GET", (path, request, response, callback) ->
        sendJson(response, callback, "{\"live\":true}"));
    // V2: 200 is true, a 4xx false (as for a model's readiness: 400 for not ready).
    add(routes, "/v2/health/ready", "GET", (path, request, response, callback) -> {
      boolean ready = oip.serverReady();
      HttpReplies.send(response, callback, ready ? 200 : 400, HttpErrors.JSON,
          "{\"ready\":" + ready + "}");
    });
    add(routes, "/v2", "GET", (path, request, response, callback) ->
        HttpReplies.send(response, callback, 200, HttpErrors.JSON, JsonDocuments.write(json, out -> {
          out.writeStartObject();
          out.writeStringField("name", OipService.SERVER_NAME);
          out.writeStringField("version", OipService.SERVER_VERSION);
          out.writeArrayFieldStart("extensions");
          out.writeEndArray();
          out.writeEndObject();
        })));
    for (String model : new String[] {MODEL, VERSION}) {
      add(routes, model, "GET", this::metadata);
      add(routes, model + "/ready", "GET", this::ready);
      add(routes, model + "/infer", "POST", this::infer);
    }
    routes.addMapping(new ServletPathSpec("/v2/*"), new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        HttpErrors.reply(json, response, callback, 404, new GatewayException(
            ErrorKind.NOT_FOUND, "no V2 endpoint " + request.getHttpURI().getCanonicalPath()));
        return true;
      }
    });
  }

  private void add(PathMappingsHandler routes, String template, String method, Route route) {
    UriTemplatePathSpec spec = new UriTemplatePathSpec(template);
    routes.addMapping(spec, new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        if (HttpReplies.allow(request, response, callback, method)) {
          try {
            route.handle(spec.getPathParams(request.getHttpURI().getCanonicalPath()), request,
                response, callback);
          } catch (RuntimeException e) {
            HttpErrors.reply(json, response, callback, e);
          }
        }
        return true;
      }
    });
  }

  private void metadata(Map<String, String> path, Request request, Response response,
      Callback callback) {
    byte[] body = V2JsonAnswers.metadata(json, oip.metadata(HttpCredentials.of(request),
        path.get("name"), version(path)));
    HttpReplies.send(response, callback, 200, HttpErrors.JSON, body);
  }

  /** 200 when ready; else V2's "false" is a 4xx: 404 not deployed, 400 deployed, not ready. */
  private void ready(Map<String, String> path, Request request, Response response,
      Callback callback) {
    try {
      oip.served(HttpCredentials.of(request), path.get("name"), version(path));
    } catch (GatewayException e) {
      switch (e.kind()) {
        case UNAUTHENTICATED, PERMISSION_DENIED -> HttpErrors.reply(json, response, callback, e);
        case NOT_FOUND -> HttpErrors.reply(json, response, callback, 404, e);
        default -> HttpErrors.reply(json, response, callback, 400, e);
      }
      return;
    }
    sendJson(response, callback, JsonDocuments.write(json, out -> {
      out.writeStartObject();
      out.writeStringField("name", path.get("name"));
      out.writeBooleanField("ready", true);
      out.writeEndObject();
    }));
  }

  private void infer(Map<String, String> path, Request request, Response response,
      Callback callback) {
    String model = path.get("name");
    String version = version(path);
    Optional<Duration> timeout = timeout(request, model);
    Credentials credentials = HttpCredentials.of(request);
    HttpReplies.readBody(request, maxBodyBytes).thenCompose(body -> {
      V2Json.Header header = V2Json.header(json, body, model);
      if (header.tensorBytes() > maxPayloadBytes) {
        throw new HttpReplies.BodyTooLarge("payload of at least " + header.tensorBytes()
            + " bytes for model '" + model + "' is over the gateway's limit of "
            + maxPayloadBytes + " bytes");
      }
      ModelInferRequest inference = V2Json.request(json, body, header, model, version);
      return oip.infer(inference, timeout, credentials, Protocol.V2_REST);
    }).thenApply(answer -> V2JsonAnswers.response(json, answer)).whenComplete((answer, error) -> {
      // Every path answers or fails the callback, or the connection would wait for its idle
      // timeout: conversions above fail the future, never this function.
      if (error == null) {
        sendJson(response, callback, answer);
      } else if (Failures.unwrap(error) instanceof HttpReplies.BodyTooLarge tooLarge) {
        HttpErrors.reply(json, response, callback, HttpErrors.TOO_LARGE,
            new GatewayException(ErrorKind.RESOURCE_EXHAUSTED, tooLarge.getMessage()));
      } else if (Failures.unwrap(error) instanceof UncheckedIOException) {
        callback.failed(error); // the connection failed: nobody to answer
      } else {
        HttpErrors.reply(json, response, callback, error);
      }
    });
  }

  /** The client's deadline, if it sent one: {@value #TIMEOUT_HEADER} milliseconds. */
  private static Optional<Duration> timeout(Request request, String model) {
    String text = request.getHeaders().get(TIMEOUT_HEADER);
    if (text == null) {
      return Optional.empty();
    }
    try {
      long millis = Long.parseLong(text.trim());
      if (millis > 0) {
        return Optional.of(Duration.ofMillis(millis));
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new GatewayException(ErrorKind.INVALID_INPUT, "model '" + model + "': header "
        + TIMEOUT_HEADER + " is '" + text + "' (expected: a number of milliseconds above 0)");
  }

  /** V2 versions are strings: empty for the live version. */
  private static String version(Map<String, String> path) {
    return path.getOrDefault("version", "");
  }

  private static void sendJson(Response response, Callback callback, String body) {
    HttpReplies.send(response, callback, 200, HttpErrors.JSON, body);
  }

  private static void sendJson(Response response, Callback callback, byte[] body) {
    HttpReplies.send(response, callback, 200, HttpErrors.JSON, body);
  }
}
