package io.pyml.gateway.sidecar;

/** The runtime's verdict on the outputs the gateway got for the validation input. */
public record ValidationResult(boolean passed, String diff, long rows) {}
