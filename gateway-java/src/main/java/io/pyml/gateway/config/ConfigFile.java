package io.pyml.gateway.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The gateway's TOML config file ({@code --config}). Its keys are flat and named exactly as
 * the flags ({@code grpc-port = 7070}): one name per setting whichever way it is given, and
 * every flag, also one added later, is a key with no code of its own. Each value is turned into
 * the text its flag would take, so one validation serves flags, environment and file.
 */
final class ConfigFile {
  /** A config file is a few kilobytes; a bigger one is a mistake, refused before reading. */
  static final long MAX_BYTES = 1024 * 1024;

  private static final TomlMapper TOML = new TomlMapper();

  private ConfigFile() {}

  /**
   * Each key's value, as its flag's text, and where in the file it was set.
   *
   * @param keys the known keys (the flags' names)
   * @param listSeparators the separator of each list-valued flag's text: an array is joined
   *     with it; other keys take one value
   */
  static Map<String, Setting> read(Path file, Set<String> keys, Map<String, String> listSeparators)
      throws ConfigException {
    String text = contents(file);
    JsonNode root;
    try {
      root = TOML.readTree(text);
    } catch (JsonProcessingException e) {
      throw new ConfigException("config file " + file + is(e.getLocation()) + "is not valid TOML: "
          + e.getOriginalMessage());
    } catch (JacksonException e) { // not reached for a String; readTree declares it
      throw new ConfigException("config file " + file + " is not valid TOML: " + e.getMessage());
    }
    Map<String, Setting> settings = new LinkedHashMap<>();
    if (root == null) {
      return settings; // an empty file
    }
    for (Map.Entry<String, JsonNode> field : root.properties()) {
      String key = field.getKey();
      String where = "config file " + file + lineOf(text, key);
      if (!keys.contains(key)) {
        throw new ConfigException("unknown key '" + key + "' in " + where
            + " (keys are the flags' names, flat, e.g. grpc-port = 7070; see --help)");
      }
      settings.put(key, new Setting(text(key, field.getValue(), listSeparators.get(key), where),
          where.substring("config ".length())));
    }
    return settings;
  }

  private static String contents(Path file) throws ConfigException {
    try {
      if (Files.size(file) > MAX_BYTES) {
        throw new ConfigException("config file " + file + " is over " + MAX_BYTES + " bytes");
      }
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException("config file " + file + " does not exist");
    } catch (IOException e) {
      throw new ConfigException("config file " + file + " cannot be read: " + e);
    }
  }

  private static String is(JsonLocation location) {
    return location == null || location.getLineNr() < 1 ? " "
        : " line " + location.getLineNr() + " column " + location.getColumnNr() + " ";
  }

  /** The value as its flag's text; a table, or a list for a key that takes one value, is refused. */
  private static String text(String key, JsonNode value, String separator, String where)
      throws ConfigException {
    if (value.isValueNode()) {
      return value.asText();
    }
    if (value.isArray() && separator != null) {
      List<String> items = new ArrayList<>();
      for (JsonNode item : value) {
        String part = item.isValueNode() ? item.asText() : null;
        if (part == null || (separator.isBlank() ? part.matches("(?s).*\\s.*")
            : part.contains(separator))) {
          throw new ConfigException("'" + key + "' in " + where + ": each item must be one "
              + "value without '" + separator + "', got " + item);
        }
        items.add(part);
      }
      return String.join(separator, items);
    }
    throw new ConfigException("'" + key + "' in " + where + " must be "
        + (separator != null ? "a list or " : "") + "a string, number or boolean, got "
        + (value.isObject() ? "a table (keys are flat, named as the flags)" : "a list"));
  }

  /** " line N" where the key is first set, or "" (the TOML parser gives values no position). */
  private static String lineOf(String text, String key) {
    String name = Pattern.quote(key);
    // key = ..., a dotted key.sub = ..., or a table header [key] / [key.sub] / [[key]]
    Matcher match = Pattern.compile("(?m)^[ \\t]*(?:\\[+[ \\t]*)?(?:" + name + "|\"" + name
        + "\"|'" + name + "')[ \\t]*[=.\\]]").matcher(text);
    if (!match.find()) {
      return "";
    }
    return " line " + (1 + text.substring(0, match.start()).chars().filter(c -> c == '\n').count());
  }
}
