"""The web console in a real browser: headless Debian Chromium driven by Selenium, against a
real gateway (java -jar) and real containers of the breast-cancer example.

One scenario, as a data scientist and an operator would use it: the console is open and says
so before identities exist; then sign in as admin, browse the registry, deploy by click
(confirmed), see READY, predict from the SDK, roll back by click, grant bob predict and revoke
it (bob is refused over gRPC and his console no longer lists the model), read the audit log.
Screenshots of the main pages go to docs/screenshots/ (linked from the README).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pandas as pd
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from pyml._internal.gateway_process import REPO_ROOT, GatewayProcess, start_gateway
from pyml.client import Client, RemoteError
from pyml.version import ModelVersion

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# The README's pictures (docs/screenshots) are refreshed with PYML_SCREENSHOTS=docs/screenshots;
# otherwise a run saves them in its temporary folder and leaves the checkout as it was.
SCREENSHOTS_ENV = "PYML_SCREENSHOTS"
SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
MODEL = "console_cancer"
WAIT_S = 120


@pytest.fixture(scope="module")
def console_versions(
    pyml_home: Path, cancer_home: Path
) -> Iterator[tuple[ModelVersion, ModelVersion]]:
    """Two versions of the cancer home under a name of this test's own, so there is a version
    to roll back from, and the session's shared `breast_cancer_lr` (other suites deploy its
    newest version) is left as it was."""
    import docker

    from pyml.model import Model

    versions = [Model.from_home(cancer_home).package(name=MODEL, progress=False) for _ in range(2)]
    assert versions[1].version > versions[0].version
    yield versions[0], versions[1]
    for version in versions:
        tag = version.image.get("tag")
        if tag:
            docker.from_env().images.remove(tag, force=True, noprune=False)


OFFLINE_MODEL = "console_offline"
# Loads where the image is built (with a network), not in the gateway's hardened container
# (--network none): a version that passed its build and fails its deploy, with a log line.
OFFLINE_MODEL_PY = """
import os

import pandas as pd

from pyml import DataFrameModel


class NeedsNetwork(DataFrameModel):
    def __init__(self, home: str):
        if sorted(os.listdir("/sys/class/net")) == ["lo"]:
            raise RuntimeError("console test: no network interface here, refusing to load")

    def predict(self, df: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"y": df["x"] * 2})
"""


@pytest.fixture(scope="module")
def failing_version(tmp_path_factory: pytest.TempPathFactory, pyml_home: Path) -> Iterator[int]:
    import docker

    import pyml
    from pyml.model import Model

    home = tmp_path_factory.mktemp("homes") / OFFLINE_MODEL
    home.mkdir()
    (home / "model.py").write_text(OFFLINE_MODEL_PY)
    pyml.save_validation(home, pd.DataFrame({"x": [1.0, 2.0]}))
    version = Model.from_home(home).package(name=OFFLINE_MODEL, progress=False)
    yield version.version
    tag = version.image.get("tag")
    if tag:
        docker.from_env().images.remove(tag, force=True, noprune=False)


@pytest.fixture(autouse=True)
def screenshots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    given = os.environ.get(SCREENSHOTS_ENV, "").strip()
    folder = Path(given).absolute() if given else tmp_path / "screenshots"
    monkeypatch.setitem(globals(), "SCREENSHOTS", folder)
    return folder


@pytest.fixture()
def gateway(tmp_path: Path) -> Iterator[GatewayProcess]:
    # Short (Unix socket paths), and the gateway's own.
    work = Path(tempfile.mkdtemp(prefix="pyml-con-", dir="/tmp"))
    process = start_gateway(
        ["--state-dir", str(tmp_path / "state"), "--work-dir", str(work)],
        gateway_id=f"pyml-console-{os.getpid()}",
    )
    try:
        yield process
    finally:
        process.stop()
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    for path in (CHROMIUM, CHROMEDRIVER):
        assert path.exists(), f"{path} is missing: run scripts/bootstrap.sh (chromium-driver)"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path / 'chromium'}",
    ):
        options.add_argument(flag)
    # Both executables are given: Selenium Manager must not try to download anything.
    os.environ["SE_OFFLINE"] = "true"
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(WAIT_S)
    try:
        yield driver
    finally:
        driver.quit()


def _shot(driver: WebDriver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.body.scrollHeight")
    driver.set_window_size(1280, max(900, min(int(height) + 40, 2400)))
    assert driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
    driver.set_window_size(1280, 900)


def _text(driver: WebDriver, css: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, css).text)


def _until(driver: WebDriver, css: str, holds: Callable[[str], bool]) -> str:
    """The text of `css` once `holds` is true of it (pages load after a click: wait)."""
    wait = WebDriverWait(
        driver, WAIT_S, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
    )
    text: str = wait.until(lambda d: (t := _text(d, css)) and holds(t) and t)
    return text


def _sign_in(driver: WebDriver, console: str, token: str) -> None:
    driver.get(f"{console}/signin")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "signin").click()
    WebDriverWait(driver, WAIT_S).until(lambda d: d.current_url.endswith("/console/models"))


def _confirm(driver: WebDriver, button_id: str) -> str:
    """Clicks an action, confirms it, and returns the outcome's text (deploys wait for it)."""
    driver.find_element(By.ID, button_id).click()
    _until(driver, "#question", bool)
    driver.find_element(By.ID, "confirm").click()
    return _until(driver, "#outcome", bool)


def test_console_scenario(
    gateway: GatewayProcess,
    browser: WebDriver,
    console_versions: tuple[ModelVersion, ModelVersion],
    failing_version: int,
    cancer_rows: pd.DataFrame,
) -> None:
    console = f"http://127.0.0.1:{gateway.http_port}/console"
    old, new = (version.version for version in console_versions)

    # Before any identity exists the console is open, and says so.
    browser.get(f"{console}/models")
    assert "No identities configured" in _text(browser, "#who")
    with Client(gateway.target, timeout=WAIT_S) as local:
        root, _ = local.create_token("root", gateway_admin=True)
    with Client(gateway.target, timeout=WAIT_S, token=root) as admin:
        bob, _ = admin.create_token("bob")

    # Identities on: the old local session is gone; sign in as the admin.
    browser.get(f"{console}/models")
    assert browser.current_url.endswith("/console/signin")
    _shot(browser, "signin")
    _sign_in(browser, console, root)
    assert "root" in _text(browser, "#who")
    _shot(browser, "models")

    # Browse: the registry's versions and manifest details; deploy the newest by click.
    browser.find_element(By.LINK_TEXT, MODEL).click()
    assert "passed at image build" in _text(browser, "#versions")
    outcome = _confirm(browser, f"deploy-{new}")
    assert f"version {new} is READY" in outcome, outcome

    with Client(gateway.target, timeout=WAIT_S, token=root) as admin:
        answer = admin.predict(MODEL, cancer_rows.head(3))
        assert len(answer) == 3
        browser.get(f"{console}/models/{MODEL}")
        assert _text(browser, "#live-state") == "READY"
        outcome = _confirm(browser, "rollback")
        assert f"version {old} is READY" in outcome, outcome
        assert admin.deployment(MODEL).model_version == old

    # A version that fails its deploy: the outcome shows the reason and the runtime's log.
    browser.get(f"{console}/models/{OFFLINE_MODEL}")
    outcome = _confirm(browser, f"deploy-{failing_version}")
    assert "FAILED" in outcome, outcome
    assert "no network interface here" in _text(browser, "#log")
    _shot(browser, "deploy-failed")

    browser.get(f"{console}/deployments")
    WebDriverWait(browser, 10).until(lambda d: "READY" in _text(d, "#deployments tbody"))
    _shot(browser, "deployments")

    # The ACL: grant bob predict (bob may predict), then revoke it (bob is refused).
    browser.get(f"{console}/models/{MODEL}")
    browser.find_element(By.ID, "grant-identity").send_keys("bob")
    Select(browser.find_element(By.ID, "grant-permission")).select_by_value("predict")
    browser.find_element(By.ID, "grant").click()
    _until(browser, "#grants", lambda grants: "bob" in grants)
    _shot(browser, "model")
    with Client(gateway.target, timeout=WAIT_S, token=bob) as as_bob:
        assert len(as_bob.predict(MODEL, cancer_rows.head(2))) == 2
        browser.find_element(By.CSS_SELECTOR, "button.revoke[data-identity='bob']").click()
        _until(browser, "#grants", lambda grants: "bob" not in grants)
        with pytest.raises(RemoteError) as refused:
            as_bob.predict(MODEL, cancer_rows.head(2))
        assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED
        assert MODEL in refused.value.details

    # The audit log shows the grant and its revocation, by root.
    browser.find_element(By.ID, "model-audit").click()
    _until(browser, "#audit", lambda audit: "revoke-grant" in audit and "predict to 'bob'" in audit)
    browser.get(f"{console}/audit")
    _shot(browser, "audit")

    # Bob's console: the model is not listed, and its page answers as if it did not exist.
    browser.find_element(By.ID, "signout").click()
    _sign_in(browser, console, bob)
    _until(browser, "#who", lambda who: "bob" in who)
    assert MODEL not in browser.find_element(By.TAG_NAME, "main").text
    browser.get(f"{console}/models/{MODEL}")
    assert "No model" in _text(browser, "#error")
    assert not browser.find_elements(By.ID, "grant-form")
