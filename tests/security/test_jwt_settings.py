"""JWT settings of the real gateway binary (issue 14): an identity provider's key set is
accepted with its issuer and audience, and every incomplete or unsafe combination stops the
start-up with one line naming the flag. (The verifier itself: JwtVerifierTest.)"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pyml._internal.gateway_process import GatewayStartError, start_gateway

# A public key only, as an identity provider publishes it: nothing secret in the test.
PUBLIC_JWK = {
    "kty": "RSA",
    "e": "AQAB",
    "kid": "test-idp-1",
    "n": "tQngXt2Kz0Nu_Ae_LYg2YV6szKcScjGP8M25HsNCfIhOEsnvMuBLQoCa5K97_fNDBhw34ij5pX70Xn02l5Hm"
    "RtbGXikx_-VF-_5CtJZ9Q9ansg8AzmZWc_jMJfc_L0WY97_NM9XIHqvtyP4sQTH4WV8rJWO2-4TSxAhh9-VdCdej"
    "Lgv9Itqjy9lnRkSCaflhtHo6_HeedpLMUkrZUpM0TRFrg6kSexI38sROjsKTbwYVDI0lRpLJ9ekr_EFkQZOMjm6J"
    "qUMrEuLbIOdQhP-lHnRc31SN-oHqKJzm0IFXsMfpdiNXhJtsErpnuRcSdrB1R3QNFL0iAGKtCH5VwNOHww",
}
ISSUER = ["--jwt-issuer", "https://idp.example.org/realms/ml"]
AUDIENCE = ["--jwt-audience", "pyml-gateway"]


@pytest.fixture
def jwks(tmp_path: Path) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [PUBLIC_JWK]}))
    return path


def _start(tmp_path: Path, args: list[str], name: str) -> None:
    gateway = start_gateway(
        ["--work-dir", str(tmp_path / "w"), *args],
        gateway_id=f"pyml-jwt-{name}-{os.getpid()}",
        startup_timeout=60,
    )
    gateway.stop()


def test_a_key_set_with_issuer_and_audience_is_accepted(
    tmp_path: Path, jwks: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYML_GATEWAY_JWT_AUDIENCE", "pyml-gateway")  # the environment works too
    _start(tmp_path, ["--jwt-jwks-file", str(jwks), *ISSUER], "ok")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (ISSUER, "--jwt-issuer needs a key set to verify JWTs with"),
        (["--jwt-jwks-file", "{jwks}", *AUDIENCE], "--jwt-issuer is required with --jwt-jwks-file"),
        (
            ["--jwt-jwks-url", "https://idp.example.org/certs", *ISSUER],
            "--jwt-audience is required with --jwt-jwks-url",
        ),
        (
            ["--jwt-jwks-file", "{jwks}", "--jwt-jwks-url", "https://idp/c", *ISSUER, *AUDIENCE],
            "--jwt-jwks-file and --jwt-jwks-url are both set",
        ),
        (
            ["--jwt-jwks-file", "{missing}", *ISSUER, *AUDIENCE],
            "--jwt-jwks-file {missing} is not a readable file",
        ),
        (
            ["--jwt-jwks-url", "http://idp.example.org/certs", *ISSUER, *AUDIENCE],
            "--jwt-jwks-url 'http://idp.example.org/certs' must be https",
        ),
    ],
    ids=["no-key-set", "no-issuer", "no-audience", "both-sets", "missing-file", "plain-http"],
)
def test_incomplete_or_unsafe_jwt_settings_stop_the_start(
    tmp_path: Path, jwks: Path, args: list[str], message: str
) -> None:
    paths = {"jwks": str(jwks), "missing": str(tmp_path / "absent.json")}
    with pytest.raises(GatewayStartError) as refused:
        _start(tmp_path, [arg.format(**paths) for arg in args], "bad")
    assert message.format(**paths) in str(refused.value)
