package io.pyml.gateway.config;

/**
 * One setting's value as its flag's text, and where it came from: {@code flag --grpc-port},
 * {@code env PYML_GATEWAY_GRPC_PORT} or {@code file /etc/pyml/gateway.toml line 3}.
 */
public record Setting(String value, String source) {}
