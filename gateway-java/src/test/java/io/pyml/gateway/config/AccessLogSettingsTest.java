package io.pyml.gateway.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The access-log settings: flags, variables, defaults, and errors that name the setting. */
class AccessLogSettingsTest {
  static AccessLogSettings parse(Map<String, String> env, String... args) throws Exception {
    return GatewayConfigParser.parse(args, env).accessLog();
  }

  @Test
  void offByDefaultPlainAndEveryCall() throws Exception {
    AccessLogSettings settings = parse(Map.of());
    assertFalse(settings.enabled());
    assertFalse(settings.json());
    assertEquals(1.0, settings.sampleRate());
  }

  @Test
  void aFileJsonAndASampleRateFromFlagsOrVariables() throws Exception {
    AccessLogSettings settings = parse(Map.of("PYML_GATEWAY_ACCESS_LOG_FORMAT", "json"),
        "--access-log", "/var/log/pyml/access.log", "--access-log-sample-rate", "0.25");
    assertTrue(settings.enabled());
    assertEquals(Optional.of(Path.of("/var/log/pyml/access.log")), settings.file());
    assertTrue(settings.json());
    assertEquals(0.25, settings.sampleRate());
    AccessLogSettings stderr = parse(Map.of("PYML_GATEWAY_ACCESS_LOG", "stderr"),
        "--access-log-sample-rate", "0");
    assertTrue(stderr.enabled());
    assertEquals(Optional.empty(), stderr.file());
    assertEquals(0.0, stderr.sampleRate());
  }

  @Test
  void badValuesNameTheirSetting() {
    assertTrue(assertThrows(ConfigException.class,
        () -> parse(Map.of(), "--access-log-sample-rate", "2")).getMessage()
        .startsWith("access-log-sample-rate 2.0 is out of range"));
    assertTrue(assertThrows(ConfigException.class,
        () -> parse(Map.of(), "--access-log-sample-rate", "half")).getMessage()
        .startsWith("access-log-sample-rate must be a number"));
    assertTrue(assertThrows(ConfigException.class,
        () -> parse(Map.of(), "--access-log-format", "xml")).getMessage()
        .startsWith("--access-log-format 'xml'"));
    assertTrue(assertThrows(ConfigException.class,
        () -> parse(Map.of(), "--access-log", " ")).getMessage()
        .startsWith("access-log is empty"));
  }
}
