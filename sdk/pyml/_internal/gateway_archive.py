"""The gateway's class archive: its JVM maps the classes it loads while starting (gRPC, Netty,
Arrow, Jetty, the gateway's own), already parsed and verified, instead of reading them from the
jar. Measured on the 2-core machine: ready in 1.0-1.3 s instead of 2.1-2.4 s, with 1.8-2.3 s of
CPU instead of 3.6-4.3 s; every start pays it (a restart, each test's gateway).

`launcher/pyml_launcher/gateway_class_archive.sh` makes it beside the jar it belongs to: `make
setup` for the checkout's jar (`pyml-gateway.jsa`), a build step for the gateway image's. A
gateway starts with `-XX:ArchiveClassesAtExit` and is stopped once ready (its JVM writes the
archive as it exits); a JVM must map it, checksums checked, before it is put in place (a file cut
short, by a JVM killed while writing it, would crash every JVM that maps it).

`options(jar)` gives the launchers (`pyml gateway`, `start_gateway`) `-XX:SharedArchiveFile`
when the file is there. An archive holds for one JDK build and one jar (its path, size and
time): a JVM that cannot use it (another JDK, a jar rebuilt since) starts without it, quietly.
"""

from __future__ import annotations

from pathlib import Path

# The JDK's warnings about an archive it cannot use: not the operator's to act on.
QUIET = "-Xlog:cds*=off"


def archive_of(jar: Path) -> Path:
    return jar.with_suffix(".jsa")


def options(jar: Path) -> list[str]:
    """The JVM options that map `jar`'s archive, when it has one."""
    archive = archive_of(jar)
    if not archive.is_file():
        return []
    return [f"-XX:SharedArchiveFile={archive}", QUIET]
