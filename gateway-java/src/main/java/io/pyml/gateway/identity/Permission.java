package io.pyml.gateway.identity;

import java.util.Locale;
import java.util.Optional;

/**
 * What a grant allows on a model. Each includes the ones before it, as MLflow's MANAGE
 * includes EDIT and READ: whoever may deploy a model may predict with it, whoever may grant
 * on it may deploy it.
 */
public enum Permission {
  /** Predict, read its readiness and metadata, see its deployment. */
  PREDICT,
  /** Deploy, swap, undeploy and roll back. */
  DEPLOY,
  /** Grant and revoke others' permissions on the model. */
  ADMIN;

  public boolean includes(Permission other) {
    return compareTo(other) >= 0;
  }

  /** How it is written in grants, errors and the CLI: {@code predict}, {@code deploy}... */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Optional<Permission> parse(String text) {
    for (Permission permission : values()) {
      if (permission.wireName().equals(text)) {
        return Optional.of(permission);
      }
    }
    return Optional.empty();
  }
}
