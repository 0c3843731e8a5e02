package io.pyml.gateway.frontend.http;

import com.fasterxml.jackson.core.JsonFactory;
import io.pyml.gateway.core.JsonDocuments;
import io.pyml.gateway.deployment.Readiness;
import io.pyml.gateway.frontend.health.GatewayHealth;
import java.util.List;
import org.eclipse.jetty.http.pathmap.ServletPathSpec;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.PathMappingsHandler;
import org.eclipse.jetty.util.Callback;

/**
 * {@code GET /livez} and {@code GET /readyz} for supervisors and load balancers (the Kubernetes
 * names). Neither asks for credentials: a probe carries none (like {@code /metrics}).
 *
 * <ul>
 *   <li>{@code /livez}: 200 while the process serves HTTP; nothing about models, so a model
 *       that fails never gets the gateway restarted.
 *   <li>{@code /readyz}: 200 when every deployed model's live deployment is READY (and the
 *       gateway is not stopping), else 503; {@code ?model=a&model=b} asks about those models
 *       only (one not deployed is not ready). The JSON body names the models that are not
 *       ready, with their version and state.
 * </ul>
 */
public final class HealthRoutes implements HttpRoutes {
  /** The state shown for a model asked about by name that is not deployed. */
  static final String NOT_DEPLOYED = "NOT_DEPLOYED";

  private final GatewayHealth health;
  private final JsonFactory json = new JsonFactory();

  public HealthRoutes(GatewayHealth health) {
    this.health = health;
  }

  @Override
  public void addTo(PathMappingsHandler routes) {
    routes.addMapping(new ServletPathSpec("/livez"), new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        if (HttpReplies.allow(request, response, callback, "GET")) {
          HttpReplies.send(response, callback, 200, HttpErrors.JSON, "{\"live\":true}");
        }
        return true;
      }
    });
    routes.addMapping(new ServletPathSpec("/readyz"), new Handler.Abstract() {
      @Override
      public boolean handle(Request request, Response response, Callback callback) {
        if (HttpReplies.allow(request, response, callback, "GET")) {
          readyz(request, response, callback);
        }
        return true;
      }
    });
  }

  private void readyz(Request request, Response response, Callback callback) {
    List<String> models;
    try {
      models = Request.extractQueryParameters(request).getValues("model");
    } catch (RuntimeException e) { // e.g. bad %-escapes
      HttpReplies.send(response, callback, 400, "text/plain; charset=utf-8",
          "/readyz: the query is not valid: " + e.getMessage() + "\n");
      return;
    }
    Readiness readiness = health.readiness();
    if (models != null && !models.isEmpty()) { // null: no model= in the query
      readiness = readiness.of(models);
    }
    HttpReplies.send(response, callback, readiness.ready() ? 200 : 503, HttpErrors.JSON,
        body(readiness));
  }

  private byte[] body(Readiness readiness) {
    return JsonDocuments.write(json, out -> {
      out.writeStartObject();
      out.writeBooleanField("ready", readiness.ready());
      if (readiness.stopping()) {
        out.writeBooleanField("stopping", true);
      }
      out.writeNumberField("models", readiness.models().size());
      out.writeArrayFieldStart("notReady");
      for (Readiness.ModelReadiness model : readiness.notReady()) {
        out.writeStartObject();
        out.writeStringField("name", model.name());
        out.writeNumberField("version", model.version());
        out.writeStringField("state", model.state().map(Enum::name).orElse(NOT_DEPLOYED));
        out.writeEndObject();
      }
      out.writeEndArray();
      out.writeEndObject();
    });
  }
}
