"""How the gateway's JVM runs, wherever it runs: `java -jar` on the host or the gateway image.

Memory that a burst of traffic (or an attack: many large messages that never finish) made the
gateway take is given back once it is over: gRPC's buffers come from an unpooled allocator on
the heap, the heap is collected and shrunk when idle, and glibc keeps few arenas. Measured
(tests/security/test_transport.py, 3 x 8 stalled 15 MiB messages): RSS 109 -> 682 MiB during,
247 MiB 10 s after; without these flags it stayed at 649 MiB.

The gateway's class archive: the JVM maps the classes it loads while starting (gRPC, Netty,
Arrow, Jetty, the gateway's own), already parsed and verified, instead of reading them from the
jar. Measured on the 2-core machine: ready in 1.0-1.3 s instead of 2.1-2.4 s, with 1.8-2.3 s of
CPU instead of 3.6-4.3 s; every start pays it (a restart, each test's gateway).
`gateway_class_archive.sh` makes it beside the jar it belongs to (`make setup` for the
checkout's `pyml-gateway.jsa`, a build step for the gateway image's): a gateway started with
`-XX:ArchiveClassesAtExit` and stopped once ready writes it as its JVM exits, and it is put in
place only once a JVM mapped it, checksums checked (a file cut short would crash every JVM that
maps it). An archive holds for one JDK build and one jar (its path, size and time): a JVM that
cannot use it (another JDK, a jar rebuilt since) starts without it, quietly.
"""

from __future__ import annotations

from pathlib import Path

JVM_OPTIONS = (
    "-XX:G1PeriodicGCInterval=5000",
    "-XX:MinHeapFreeRatio=10",
    "-XX:MaxHeapFreeRatio=20",
    "-Djdk.nio.maxCachedBufferSize=262144",
    "-Dio.grpc.netty.useCustomAllocator=false",
    "-Dio.grpc.netty.shaded.io.netty.allocator.type=unpooled",
    "-Dio.grpc.netty.shaded.io.netty.noPreferDirect=true",
)
ENV = {"MALLOC_ARENA_MAX": "2"}


def archive_of(jar: Path) -> Path:
    """Where `jar`'s class archive is, when it has one."""
    return jar.with_suffix(".jsa")


def archive_options(archive: str | Path) -> list[str]:
    """The JVM options that map `archive`; quiet when the JVM cannot use it (not the
    operator's to act on)."""
    return [f"-XX:SharedArchiveFile={archive}", "-Xlog:cds*=off"]


def class_archive(jar: Path) -> list[str]:
    """`archive_options` for `jar`'s archive, or none when it has none (a pip-installed jar)."""
    archive = archive_of(jar)
    return archive_options(archive) if archive.is_file() else []
