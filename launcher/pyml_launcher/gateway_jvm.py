"""How the gateway's JVM runs, wherever it runs: `java -jar` on the host or the gateway image.

Memory that a burst of traffic (or an attack: many large messages that never finish) made the
gateway take is given back once it is over: gRPC's buffers come from an unpooled allocator on
the heap, the heap is collected and shrunk when idle, and glibc keeps few arenas. Measured
(tests/security/test_transport.py, 3 x 8 stalled 15 MiB messages): RSS 109 -> 682 MiB during,
247 MiB 10 s after; without these flags it stayed at 649 MiB.
"""

from __future__ import annotations

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
