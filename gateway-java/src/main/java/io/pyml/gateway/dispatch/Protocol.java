package io.pyml.gateway.dispatch;

/** The protocol a prediction request came in by, as the access log names it. */
public enum Protocol {
  GRPC("grpc"),
  THRIFT("thrift"),
  OIP("oip"),
  V2_REST("v2-rest");

  private final String wireName;

  Protocol(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }
}
