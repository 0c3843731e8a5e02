package io.pyml.gateway.frontend.console;

import io.pyml.gateway.identity.Permission;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.eclipse.jetty.util.UrlEncoded;

/**
 * A posted console form ({@code application/x-www-form-urlencoded}), read field by field with
 * its rules: each getter returns the value or throws {@link Invalid} with a message that names
 * the field and what was expected. A field sent twice keeps its first value.
 */
public final class ConsoleForm {
  /** The largest form body read: console forms are a few short fields. */
  public static final int MAX_BYTES = 16 * 1024;
  static final int MAX_NAME_CHARS = 256;
  /** Tokens are short; JWTs from an identity provider run to a few kilobytes. */
  static final int MAX_TOKEN_CHARS = 8 * 1024;

  private final Map<String, String> fields;

  private ConsoleForm(Map<String, String> fields) {
    this.fields = fields;
  }

  /** A form field that breaks its rule; the message is shown to the user as it is. */
  public static final class Invalid extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public Invalid(String message) {
      super(message);
    }
  }

  public static ConsoleForm parse(byte[] body) {
    Map<String, String> fields = new HashMap<>();
    try {
      UrlEncoded.decodeUtf8To(new String(body, StandardCharsets.ISO_8859_1), 0, body.length,
          (key, value) -> fields.putIfAbsent(key, value));
    } catch (IllegalArgumentException e) {
      throw new Invalid("the form is not valid URL-encoded UTF-8");
    }
    return new ConsoleForm(fields);
  }

  /** The field as sent, or "" (CSRF tokens are compared, not validated). */
  public String raw(String field) {
    return fields.getOrDefault(field, "");
  }

  /** An identity or model name: 1 to 256 printable characters. */
  public String name(String field) {
    String value = fields.getOrDefault(field, "").strip();
    if (value.isEmpty() || value.length() > MAX_NAME_CHARS || !printable(value)) {
      throw new Invalid(field + " must be 1 to " + MAX_NAME_CHARS
          + " printable characters (got " + describe(value) + ")");
    }
    return value;
  }

  /** A bearer token (or JWT): 1 to 8 KiB of printable characters. */
  public String token(String field) {
    String value = fields.getOrDefault(field, "").strip();
    if (value.isEmpty() || value.length() > MAX_TOKEN_CHARS || !printable(value)) {
      throw new Invalid(field + " must be a token: 1 to " + MAX_TOKEN_CHARS
          + " printable characters");
    }
    return value;
  }

  public Permission permission(String field) {
    String value = fields.getOrDefault(field, "");
    return Permission.parse(value).orElseThrow(() -> new Invalid(field
        + " must be predict, deploy or admin (got " + describe(value) + ")"));
  }

  /** A registered version number: 1 or more. */
  public long version(String field) {
    String value = fields.getOrDefault(field, "");
    try {
      if (value.matches("[0-9]{1,18}")) {
        long version = Long.parseLong(value);
        if (version >= 1) {
          return version;
        }
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new Invalid(field + " must be a version number of 1 or more (got "
        + describe(value) + ")");
  }

  static boolean printable(String value) {
    return value.codePoints().noneMatch(c -> Character.isISOControl(c)
        || Character.getType(c) == Character.FORMAT || Character.getType(c) == Character.UNASSIGNED);
  }

  private static String describe(String value) {
    if (value.isEmpty()) {
      return "nothing";
    }
    String shown = value.length() > 40 ? value.substring(0, 40) + "..." : value;
    return "'" + shown.codePoints().map(c -> Character.isISOControl(c) ? '?' : c)
        .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append) + "'";
  }
}
