package io.pyml.gateway.identity;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * An identity store's JDBC URL with its secrets taken out: {@link #url()} is what drivers,
 * Flyway's log and error messages see, and {@link #secrets()} are handed to the driver as
 * connection properties. A password written in the URL ({@code ...?user=pyml&password=...})
 * so never travels in a string that may be printed.
 *
 * @param url the URL without its secret parameters
 * @param secrets secret connection properties ({@code password}, {@code sslpassword})
 */
public record StoreUrl(String url, Map<String, String> secrets) {
  /** The PostgreSQL driver's parameters that hold a secret: the password, the SSL key's. */
  private static final Set<String> SECRET_NAMES = Set.of("password", "sslpassword");
  private static final Pattern SECRET_PARAMETER =
      Pattern.compile("(?i)([?&](?:ssl)?password=)[^&]*");
  private static final Pattern USER_INFO = Pattern.compile("(//[^/@?]*:)[^/@?]*@");

  public StoreUrl {
    secrets = Map.copyOf(secrets);
  }

  /**
   * Splits {@code jdbcUrl}; a {@code password} given apart (from the password file) is used
   * instead of one written in the URL.
   */
  public static StoreUrl of(String jdbcUrl, Optional<String> password) {
    int query = jdbcUrl.indexOf('?');
    Map<String, String> secrets = new LinkedHashMap<>();
    String url = jdbcUrl;
    if (query >= 0) {
      List<String> kept = new ArrayList<>();
      for (String parameter : jdbcUrl.substring(query + 1).split("&")) {
        int equals = parameter.indexOf('=');
        String name = equals < 0 ? parameter : parameter.substring(0, equals);
        if (SECRET_NAMES.contains(name.toLowerCase(Locale.ROOT))) {
          // The driver decodes parameter values so; a property is given decoded.
          secrets.put(name.toLowerCase(Locale.ROOT), URLDecoder.decode(
              parameter.substring(equals + 1), StandardCharsets.UTF_8));
        } else if (!parameter.isEmpty()) {
          kept.add(parameter);
        }
      }
      url = jdbcUrl.substring(0, query) + (kept.isEmpty() ? "" : "?" + String.join("&", kept));
    }
    password.ifPresent(secret -> secrets.put("password", secret));
    return new StoreUrl(url, secrets);
  }

  /** The {@code user} parameter of the URL, if any (Flyway's messages name it). */
  public Optional<String> user() {
    int query = url.indexOf('?');
    if (query < 0) {
      return Optional.empty();
    }
    for (String parameter : url.substring(query + 1).split("&")) {
      if (parameter.toLowerCase(Locale.ROOT).startsWith("user=")) {
        return Optional.of(URLDecoder.decode(parameter.substring(5), StandardCharsets.UTF_8));
      }
    }
    return Optional.empty();
  }

  /** The connection properties: the secrets, for {@code DriverManager.getConnection}. */
  public Properties properties() {
    Properties properties = new Properties();
    properties.putAll(secrets);
    return properties;
  }

  /** {@code text} (a URL, or a message quoting one) with every password in it shown as ***. */
  public static String masked(String text) {
    String masked = SECRET_PARAMETER.matcher(text).replaceAll("$1***");
    return USER_INFO.matcher(masked).replaceAll("$1***@");
  }

  /** Never the secrets. */
  @Override
  public String toString() {
    return url + (secrets.isEmpty() ? "" : " (with " + String.join(", ", secrets.keySet()) + ")");
  }
}
