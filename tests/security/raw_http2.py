"""A raw HTTP/2 client that says exactly what a test or benchmark wants, for the attacks on
the gateway's gRPC ports (stalled messages, rapid resets)."""

from __future__ import annotations

import socket

import h2.config
import h2.connection
import h2.events
import h2.exceptions


class RawHttp2:
    """An HTTP/2 client that says exactly what a test wants, on one loopback connection."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        )
        self.conn.initiate_connection()
        self.events: list[h2.events.Event] = []
        self.closed = False
        self.flush()

    def flush(self) -> None:
        try:
            self.sock.sendall(self.conn.data_to_send())
        except (BrokenPipeError, ConnectionResetError):
            self.closed = True

    def start_predict(self, path: str = "/pyml.v1.PredictionService/Predict") -> int:
        stream = self.conn.get_next_available_stream_id()
        self.conn.send_headers(
            stream,
            [
                (":method", "POST"),
                (":scheme", "http"),
                (":path", path),
                (":authority", "127.0.0.1"),
                ("content-type", "application/grpc"),
                ("te", "trailers"),
            ],
        )
        return stream

    def send_some(self, stream: int, data: bytes) -> int:
        """Sends as much of `data` as flow control allows now; returns how much."""
        room = min(len(data), self.conn.local_flow_control_window(stream))
        sent = 0
        while sent < room:
            size = min(room - sent, self.conn.max_outbound_frame_size)
            self.conn.send_data(stream, data[sent : sent + size])
            sent += size
        self.flush()
        return sent

    def receive(self, timeout: float) -> list[h2.events.Event]:
        """Reads what arrives within `timeout` (answers window updates and pings)."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(1 << 20)
        except TimeoutError:
            return []
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed = True
            return []
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            # Frames after our side saw GOAWAY (the gateway's closing PING): it is closing.
            self.closed = True
            return []
        self.events.extend(events)
        self.flush()
        return events

    def ended_streams(self) -> set[int]:
        ended = set()
        for event in self.events:
            if isinstance(event, (h2.events.StreamEnded, h2.events.StreamReset)):
                ended.add(event.stream_id)
        return ended

    def goaway(self) -> bool:
        return any(isinstance(e, h2.events.ConnectionTerminated) for e in self.events)

    def terminated(self) -> bool:
        """The gateway sent GOAWAY or closed the connection."""
        return self.goaway() or self.closed

    def close(self) -> None:
        self.sock.close()
