package io.pyml.gateway.identity;

import java.time.Instant;

/**
 * {@code identity} may do {@code permission} (and what it includes) on {@code model};
 * {@link #EVERY_MODEL} as the model grants it on every model.
 */
public record Grant(String identity, String model, Permission permission, String grantedBy,
    Instant grantedAt) {
  public static final String EVERY_MODEL = "*";

  public boolean covers(String modelName) {
    return model.equals(EVERY_MODEL) || model.equals(modelName);
  }
}
