package io.pyml.gateway.sidecar;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LeftoverCheckTest {
  @Test
  void imageIdsMatchWithOrWithoutTheirPrefixAndNeverWhenEmpty() {
    assertTrue(LeftoverCheck.sameImage("sha256:abc", "abc"));
    assertTrue(LeftoverCheck.sameImage("sha256:abc", "sha256:abc"));
    assertFalse(LeftoverCheck.sameImage("sha256:abc", "sha256:abd"), "another image: replaced");
    assertFalse(LeftoverCheck.sameImage("sha256:", ""));
    assertFalse(LeftoverCheck.sameImage(null, "abc"));
  }
}
