package io.pyml.gateway.core;

/** What a payload's Arrow IPC stream holds; mirrors the wire enum without depending on it. */
public enum PayloadKind {
  UNSPECIFIED,
  DATAFRAME,
  TENSORS
}
