"""The kernel's share of a large call: the CPU to move one payload across one socket.

    .venv/bin/python bench/socket_hop_floor.py [--mb 24] [--sends 60] [--repeats 2]

One process sends `--mb` MB `--sends` times over a loopback TCP connection, then over a Unix
socket, to a second process that reads them into one buffer and answers one byte each time
(no parsing, no copy in user space beyond the kernel's). Prints the CPU per payload of the
sender and of the receiver. A 100,000-row call of the peer bench (a 24 MB request) crosses a
TCP hop (h2load -> gateway) and a Unix-socket hop (gateway -> runtime): whatever a proxy does
on top, these copies are its floor. Bounded in count (`--sends`) and time (60 s per read).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import tempfile
import time
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any


def _receive(
    family: int, address: str | tuple[str, int], size: int, sends: int, q: Queue[Any]
) -> None:
    with socket.socket(family, socket.SOCK_STREAM) as server:
        server.bind(address)
        server.listen(1)
        q.put(server.getsockname())
        connection, _ = server.accept()
        connection.settimeout(60)
        view = memoryview(bytearray(size))
        started = time.process_time()
        for _ in range(sends):
            got = 0
            while got < size:
                read = connection.recv_into(view[got:], size - got)
                if not read:
                    raise ConnectionError("the sender closed early")
                got += read
            connection.sendall(b"k")
        q.put(time.process_time() - started)
        connection.close()


def hop(family: int, address: str | tuple[str, int], size: int, sends: int) -> dict[str, float]:
    """CPU ms per payload of the sender and the receiver, and wall ms per payload."""
    q: Queue[Any] = multiprocessing.get_context("spawn").Queue()
    receiver = multiprocessing.get_context("spawn").Process(
        target=_receive, args=(family, address, size, sends, q)
    )
    receiver.start()
    try:
        bound = q.get(timeout=60)
        payload = os.urandom(size)
        with socket.socket(family, socket.SOCK_STREAM) as sender:
            sender.settimeout(60)
            sender.connect(bound)
            started, wall = time.process_time(), time.perf_counter()
            for _ in range(sends):
                sender.sendall(payload)
                sender.recv(1)
            send_s, wall_s = time.process_time() - started, time.perf_counter() - wall
        receive_s = float(q.get(timeout=60))
    finally:
        receiver.join(60)
        if receiver.is_alive():
            receiver.kill()
    return {
        "send_ms": 1000 * send_s / sends,
        "receive_ms": 1000 * receive_s / sends,
        "wall_ms": 1000 * wall_s / sends,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=24)
    parser.add_argument("--sends", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    size = args.mb * 1024 * 1024
    folder = Path(tempfile.mkdtemp(prefix="pyml-hop-"))
    try:
        for repeat in range(args.repeats):
            for name, family, address in (
                ("tcp loopback", socket.AF_INET, ("127.0.0.1", 0)),
                ("unix socket", socket.AF_UNIX, str(folder / f"hop-{repeat}.sock")),
            ):
                r = hop(family, address, size, args.sends)
                print(
                    f"{name:13s} {args.mb} MB: send {r['send_ms']:5.1f} + receive "
                    f"{r['receive_ms']:5.1f} ms CPU = {r['send_ms'] + r['receive_ms']:5.1f} ms "
                    f"per payload (wall {r['wall_ms']:.1f} ms)",
                    flush=True,
                )
    finally:
        for leftover in folder.iterdir():
            leftover.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
