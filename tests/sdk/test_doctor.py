"""`pyml doctor` (issue 17): versions of what is there, and a missing Docker or Java named
clearly with the step that adds it, exit code 1."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli import run_pyml


def doctor(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_pyml("doctor", env=env)


def line_of(output: str, part: str) -> str:
    [line] = [line for line in output.splitlines() if line.strip().startswith(part)]
    return " ".join(line.split())


def test_everything_here_is_found_with_its_version() -> None:
    done = doctor({})
    assert done.returncode == 0, done.stdout + done.stderr
    assert line_of(done.stdout, "PyML runtime").startswith("PyML runtime ✓ 0.")
    assert line_of(done.stdout, "Java").startswith("Java ✓ openjdk version")


def test_a_missing_docker_and_java_are_named_with_what_to_do(tmp_path: Path) -> None:
    with socket.socket(socket.AF_UNIX) as placeholder:  # a socket path nothing listens on
        dead = tmp_path / "docker.sock"
        placeholder.bind(str(dead))
    bin_dir = tmp_path / "bin"  # PATH without java (python is run by its full path)
    bin_dir.mkdir()
    done = doctor({"DOCKER_HOST": f"unix://{dead}", "PATH": str(bin_dir)})
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    java = line_of(done.stdout, "Java")
    assert java.startswith("Java ✗ no java on PATH: the gateway and offline jobs need Java 17")
    docker = line_of(done.stdout, "Docker engine")
    assert docker.startswith("Docker engine ✗ no Docker engine answers: start Docker")
    assert done.stdout.strip().splitlines()[-1] == "missing: Java, Docker engine"


def test_a_missing_extra_is_named_where_it_is_needed() -> None:
    """Issue 17: without the thrift or pyspark package, the error names the extra to install."""
    script = (
        "import sys\n"
        "sys.modules['thrift'] = None\n"  # as if not installed
        "sys.modules['pyspark'] = None\n"
        "import pyml\n"
        "try:\n"
        "    pyml.ThriftClient\n"
        "except ImportError as error:\n"
        "    print(error)\n"
        "from pyml_offline.session import hive_session\n"
        "try:\n"
        "    hive_session(None)\n"
        "except Exception as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.splitlines() == [
        "pyml.ThriftClient needs the thrift package: pip install 'pyml[thrift]'",
        "Spark is not installed here: pip install 'pyml[spark]' (and Java 17)",
    ]


def test_a_missing_extra_is_named_with_its_brackets() -> None:
    """The hint `pip install 'pyml[thrift]'` once printed as `pip install 'pyml'`: the table
    read it as markup."""
    script = (
        "import sys\n"
        "sys.modules['thrift'] = None\n"  # as if not installed
        "import importlib.metadata as m\n"
        "real = m.version\n"
        "def version(name):\n"
        "    if name == 'thrift':\n"
        "        raise m.PackageNotFoundError(name)\n"
        "    return real(name)\n"
        "m.version = version\n"
        "sys.argv = ['pyml', 'doctor']\n"
        "from pyml.cli import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200"},
    )
    thrift = line_of(done.stdout, "Thrift client")
    assert thrift == "Thrift client ✗ not installed: pip install 'pyml[thrift]'"


def test_a_command_that_needs_docker_says_so_in_one_line(tmp_path: Path) -> None:
    dead = tmp_path / "docker.sock"  # nothing there at all
    done = run_pyml("gateway", "--container", env={"DOCKER_HOST": f"unix://{dead}"})
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    first, hint = done.stdout.splitlines()[:2]
    assert first.startswith("✗ no Docker engine answers: start Docker")
    assert hint == "  hint: 'pyml doctor' checks Docker, Java and the rest of what PyML uses"


def _fake_java(folder: Path, first_line: str) -> Path:
    """A `java` that answers `-version` with `first_line` (on stderr, as java does)."""
    folder.mkdir(parents=True)
    java = folder / "java"
    java.write_text(f"#!/bin/sh\necho '{first_line}' >&2\necho 'Runtime Environment' >&2\n")
    java.chmod(0o755)
    return folder


def _old_java(folder: Path) -> Path:
    return _fake_java(folder, 'openjdk version "11.0.22" 2024-01-16')


def test_a_java_older_than_17_is_named_before_the_jvm_fails(tmp_path: Path) -> None:
    """Java 11 would stop with UnsupportedClassVersionError and a stack; the gateway and
    doctor say which java it is and what is needed."""
    old = _old_java(tmp_path / "bin")
    env = {"PATH": f"{old}:/usr/bin:/bin"}
    gateway = run_pyml("gateway", "--grpc-port", "0", env=env)
    assert gateway.returncode == 1
    assert gateway.stdout.splitlines()[0] == (
        f'✗ {old}/java is openjdk version "11.0.22" 2024-01-16: the gateway jar runs on Java 17 '
        "or newer"
    )
    done = doctor(env)
    assert line_of(done.stdout, "Java").startswith('Java ✗ openjdk version "11.0.22" 2024-01-16')
    assert "need Java 17 or newer" in line_of(done.stdout, "Java")


@pytest.mark.parametrize(
    ("first_line", "release"),
    [
        ('java version "1.8.0_402"', 8),
        ('openjdk version "17.0.15" 2025-04-15', 17),
        ('openjdk version "21" 2023-09-19', 21),
        ("something else entirely", None),
    ],
)
def test_java_releases_are_read_in_both_numberings(
    tmp_path: Path, first_line: str, release: int | None
) -> None:
    from pyml._internal.gateway_process import java_release

    java = _fake_java(tmp_path / "bin", first_line) / "java"
    assert java_release(str(java)) == (release, first_line)


def test_pyml_says_its_version_its_runtime_and_the_protocol() -> None:
    from pyml_runtime import __version__
    from pyml_runtime.protocol import PROTOCOL_VERSION

    done = run_pyml("--version")
    assert done.returncode == 0, done.stderr
    expected = f"pyml {__version__} (runtime {__version__}, sidecar protocol {PROTOCOL_VERSION})"
    assert done.stdout == expected + "\n"
