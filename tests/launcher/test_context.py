"""Build materials and context: host-pinned constraints, the cached wheel, the context folder."""

from __future__ import annotations

import importlib.metadata as metadata
import stat
import time
from pathlib import Path

import pytest

from pyml_launcher.context import assemble_context, image_tag, pip_build_args, read_packages
from pyml_launcher.errors import ImageBuildError
from pyml_launcher.materials import (
    _in_wheel,
    constraints_text,
    installed_distribution,
    normalize,
    pyml_wheel,
    runtime_pins,
)


def test_constraints_pin_the_runtime_closure_to_the_host_versions() -> None:
    pins = runtime_pins()
    for name in ("pyarrow", "pandas", "numpy", "grpcio", "grpcio-health-checking", "protobuf"):
        assert pins[name] == metadata.version(name), name
    # Transitive: pandas needs python-dateutil; typer needs rich's markdown-it-py via rich.
    assert pins["python-dateutil"] == metadata.version("python-dateutil")
    assert pins["markdown-it-py"] == metadata.version("markdown-it-py")


def test_constraints_leave_out_extras_and_pyml_itself() -> None:
    pins = runtime_pins()
    for name in ("pyml", "docker", "pytest", "mypy", "scikit-learn", "grpcio-tools"):
        assert name not in pins


def test_constraints_text_is_sorted_exact_pins_without_timestamps() -> None:
    text = constraints_text({"pandas": "3.1.1", "numpy": "2.4.6"})
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == ["numpy==2.4.6", "pandas==3.1.1"]
    assert constraints_text(runtime_pins()) == constraints_text(runtime_pins())


def test_names_are_normalized_as_pip_compares_them() -> None:
    assert normalize("Scikit_Learn") == normalize("scikit.learn") == "scikit-learn"


def test_wheel_is_built_once_and_reused_byte_for_byte(tmp_path: Path) -> None:
    cache = tmp_path / "wheels"
    first = pyml_wheel(cache)
    mtime, content = first.stat().st_mtime_ns, first.read_bytes()
    second = pyml_wheel(cache)
    assert second == first
    assert (second.stat().st_mtime_ns, second.read_bytes()) == (mtime, content)
    assert first.name.startswith("pyml-") and first.suffix == ".whl"


def test_every_pyml_home_builds_the_same_wheel_bytes_so_images_share_its_layers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The wheel's generated files (METADATA, RECORD...) carried the build's time: each new
    PYML_HOME (a test module, a user's second home) and each clone missed the image layers of
    PyML's install and of the validation run (6-8 s a build, 7 December)."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = pyml_wheel(tmp_path / "one")
    time.sleep(2.1)  # zip times have a 2 s resolution
    second = pyml_wheel(tmp_path / "two")
    assert first.read_bytes() == second.read_bytes()


def test_a_checkout_is_not_taken_for_an_installed_pyml() -> None:
    # This suite runs an editable install: the wheel comes from the source tree (tests/release
    # covers the installed case, in a virtualenv of its own).
    assert installed_distribution() is None


@pytest.mark.parametrize(
    ("recorded", "packed"),
    [
        ("pyml/__init__.py", True),
        ("pyml-0.1.0.dist-info/METADATA", True),
        ("pyml-0.1.0.dist-info/entry_points.txt", True),
        ("pyml-0.1.0.dist-info/RECORD", False),
        ("pyml-0.1.0.dist-info/INSTALLER", False),
        ("pyml-0.1.0.dist-info/direct_url.json", False),
        ("../../../bin/pyml", False),
        ("/usr/share/doc/pyml/README", False),
        ("pyml/__pycache__/cli.cpython-311.pyc", False),
    ],
)
def test_an_installed_pyml_is_packed_from_its_package_files_only(
    recorded: str, packed: bool
) -> None:
    """What pip wrote beside the wheel's files (scripts, its own records, caches) and any path
    outside site-packages stay out of the packed wheel."""
    assert _in_wheel(metadata.PackagePath(recorded)) is packed


def test_read_packages_skips_comments_and_keeps_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "packages.txt"
    path.write_text("# OCR\ntesseract-ocr  # engine\n\nlibgomp1 libpq5=15.6-0+deb12u1\n")
    assert read_packages(path) == [
        (2, "tesseract-ocr"),
        (4, "libgomp1"),
        (4, "libpq5=15.6-0+deb12u1"),
    ]
    assert read_packages(tmp_path / "absent.txt") == []


def test_read_packages_refuses_what_is_not_a_package_name(tmp_path: Path) -> None:
    path = tmp_path / "packages.txt"
    path.write_text("curl\ncurl;rm\n")
    with pytest.raises(ImageBuildError, match=r"packages.txt:2: 'curl;rm' is not a Debian package"):
        read_packages(path)


def test_image_tag_needs_a_docker_compatible_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYML_IMAGE_PREFIX")
    assert image_tag("breast_cancer_lr", 3) == "pyml/breast_cancer_lr:3"
    monkeypatch.setenv("PYML_IMAGE_PREFIX", "registry.example/ml/")
    assert image_tag("breast_cancer_lr", 3) == "registry.example/ml/breast_cancer_lr:3"
    with pytest.raises(ImageBuildError, match="cannot name a Docker image") as info:
        image_tag("Breast Cancer", 1)
    assert info.value.stage == "home"


def test_pip_settings_pass_as_build_args_but_not_find_links(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", "https://pypi.example/simple")
    monkeypatch.setenv("PIP_FIND_LINKS", "/opt/wheels")
    args = pip_build_args()
    assert args["PIP_INDEX_URL"] == "https://pypi.example/simple"
    assert "PIP_FIND_LINKS" not in args


def make_home(root: Path) -> Path:
    home = root / "home"
    (home / "validation").mkdir(parents=True)
    (home / "validation" / "input.parquet").write_bytes(b"stand-in: never read here")
    (home / "model.py").write_text("# a model\n")
    (home / "requirements.txt").write_text("joblib\n")
    (home / "packages.txt").write_text("libgomp1\n")
    (home / "setup.sh").write_text("echo hi\n")
    (home / "setup.sh").chmod(0o700)
    (home / "weights.bin").write_bytes(b"\0" * 10)
    (home / "weights.bin").chmod(0o600)  # a private umask must not break uid 65534
    (home / "pyml.toml").write_text('[image]\nbase = "custom/base:1"\n')
    (home / "__pycache__").mkdir()
    (home / "__pycache__" / "model.cpython-311.pyc").write_bytes(b"stale")
    return home


def test_context_holds_dockerfile_model_and_pyml_materials(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "corp-ca.pem"
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.setenv("PIP_CERT", str(bundle))
    monkeypatch.delenv("PYML_BASE_IMAGE", raising=False)
    context = assemble_context(
        make_home(tmp_path), tmp_path / "ctx", name="m", version=1, content_sha256="0" * 64
    )
    root = context.path
    assert (root / "Dockerfile").read_text().startswith("FROM custom/base:1\n")
    assert (root / ".pyml" / "ca.pem").read_text() == bundle.read_text()
    assert (root / ".pyml" / "constraints.txt").read_text() == constraints_text(runtime_pins())
    assert (root / ".pyml" / context.spec.wheel_file).is_file()
    assert not (root / "model" / "__pycache__").exists()
    assert stat.S_IMODE((root / "model" / "weights.bin").stat().st_mode) == 0o644
    assert stat.S_IMODE((root / "model" / "setup.sh").stat().st_mode) == 0o755
    spec = context.spec
    assert (spec.packages, spec.has_requirements, spec.has_setup, spec.ca_bundle) == (
        ("libgomp1",),
        True,
        True,
        True,
    )


def test_context_without_a_ca_bundle_lets_pip_use_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"):
        monkeypatch.delenv(variable, raising=False)
    context = assemble_context(
        make_home(tmp_path), tmp_path / "ctx", name="m", version=1, content_sha256="0" * 64
    )
    assert not (context.path / ".pyml" / "ca.pem").exists()
    assert "PIP_CERT" not in (context.path / "Dockerfile").read_text()


def test_a_home_without_model_py_is_refused_before_any_build(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    (home / "model.py").unlink()
    with pytest.raises(ImageBuildError, match=r"no model\.py in .*home") as info:
        assemble_context(home, tmp_path / "ctx", name="m", version=1, content_sha256="0" * 64)
    assert info.value.stage == "home"


def test_a_home_without_validation_data_needs_an_explicit_allowance(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    for data in (home / "validation").iterdir():
        data.unlink()
    with pytest.raises(ImageBuildError, match="no validation data") as info:
        assemble_context(home, tmp_path / "ctx", name="m", version=1, content_sha256="0" * 64)
    assert info.value.stage == "home"

    context = assemble_context(
        home,
        tmp_path / "ctx2",
        name="m",
        version=1,
        content_sha256="0" * 64,
        allow_no_validation=True,
    )
    assert not context.spec.check_outputs
