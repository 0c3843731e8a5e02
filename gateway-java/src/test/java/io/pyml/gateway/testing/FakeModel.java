package io.pyml.gateway.testing;

import io.pyml.gateway.core.PayloadKind;
import io.pyml.gateway.sidecar.SidecarProtocol;
import java.time.Duration;

/**
 * How a {@link FakeRuntime} behaves. Predict answers with the input bytes reversed, except for
 * a few magic inputs: "hang" never answers, "hold" answers once the test releases it, "boom"
 * raises like a model, "badcol" is refused as bad input; a {@code hangs} model never answers
 * any call but its validation. Validation passes only when the output is the reversed
 * validation input. A DataFrame model says it takes one FP64 column, "x". Its runtime speaks
 * the gateway's sidecar protocol unless {@link #speaking} says otherwise.
 */
public record FakeModel(PayloadKind kind, Duration loadTime, boolean passValidation,
    boolean exitOnLoad, boolean hangs, int protocol, String runtimeVersion) {

  public FakeModel(PayloadKind kind, Duration loadTime, boolean passValidation,
      boolean exitOnLoad) {
    this(kind, loadTime, passValidation, exitOnLoad, false, SidecarProtocol.VERSION, "fake");
  }

  public static final String HANG = "hang";
  public static final String HOLD = "hold";
  public static final String BOOM = "boom";
  public static final String BAD_COLUMN = "badcol";
  public static final String VALIDATION_INPUT = "validation rows";
  public static final String VALIDATION_DIFF = "column 'proba' row 0: expected 0.25, got 0.75";

  public static FakeModel dataframe() {
    return new FakeModel(PayloadKind.DATAFRAME, Duration.ofMillis(200), true, false);
  }

  public static FakeModel tensors() {
    return new FakeModel(PayloadKind.TENSORS, Duration.ofMillis(200), true, false);
  }

  public FakeModel failingValidation() {
    return new FakeModel(kind, loadTime, false, exitOnLoad, hangs, protocol, runtimeVersion);
  }

  public FakeModel exitingOnLoad() {
    return new FakeModel(kind, loadTime, passValidation, true, hangs, protocol, runtimeVersion);
  }

  public FakeModel hanging() {
    return new FakeModel(kind, loadTime, passValidation, exitOnLoad, true, protocol,
        runtimeVersion);
  }

  public FakeModel loadingFor(Duration time) {
    return new FakeModel(kind, time, passValidation, exitOnLoad, hangs, protocol, runtimeVersion);
  }

  /**
   * A runtime of another PyML, speaking sidecar {@code protocol}: 0 is one from before
   * versioning (it says nothing of its protocol and checks nothing); any other refuses a
   * gateway of another protocol, as the real runtime does.
   */
  public FakeModel speaking(int protocol, String runtimeVersion) {
    return new FakeModel(kind, loadTime, passValidation, exitOnLoad, hangs, protocol,
        runtimeVersion);
  }
}
