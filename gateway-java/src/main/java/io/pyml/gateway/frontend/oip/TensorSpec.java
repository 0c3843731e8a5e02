package io.pyml.gateway.frontend.oip;

import java.util.List;

/** What a model takes or gives under one name: its datatype and shape (-1: any size). */
record TensorSpec(String name, Datatype datatype, List<Long> shape) {
  TensorSpec {
    shape = List.copyOf(shape);
  }
}
