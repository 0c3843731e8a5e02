"""The wire format of `pyml.v1.Payload`, read and written by hand so its Arrow bytes are not copied.

    message Payload { PayloadKind kind = 1; bytes arrow_ipc = 2; }

Protobuf's Python messages copy a bytes field when a message is parsed, when the field is read,
when a message is built and when it is serialized: for a 24 MB Arrow stream, two copies (48 MB
held, ~4 ms) on the way in and ~17 ms on the way out. Here the reader hands out the Arrow bytes
as a view of the received message, and the writer copies them once, next to a header of a few
bytes. The one place for the Payload's wire format: the runtime's servicer and `pyml.Client`
(its PredictRequest) both use it.

The reader follows protobuf's rules (tests/runtime/test_payload_wire.py checks it against
protobuf's own parser): fields in any order, the last of a repeated scalar field wins, a known
field with another wire type is an unknown field, unknown fields (groups too) are skipped. It
is stricter in one way: a message of more than `MAX_FIELDS` fields is refused, so hostile bytes
cannot keep this Python loop busy. Malformed bytes raise `WireFormatError`, which says what is
wrong and where.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

# Fields a message may have at most, unknown ones included (a PredictBatchRequest has one per
# payload; the servicer takes 1,024 payloads at most).
MAX_FIELDS = 4096
# The same for a Payload, which has two fields: a batch of many payloads must not multiply the
# outer cap (1,024 payloads x 4,096 fields kept this loop busy for about 10 s). Room is left
# for the 100-deep groups protobuf accepts (every group's start and end count).
MAX_PAYLOAD_FIELDS = 256
# Groups nested in groups, as protobuf's parser allows.
MAX_GROUP_DEPTH = 100
PAYLOAD_KIND = 1  # Payload.kind
PAYLOAD_ARROW_IPC = 2  # Payload.arrow_ipc

_VARINT, _FIXED64, _LENGTH_DELIMITED, _START_GROUP, _END_GROUP, _FIXED32 = range(6)
_MAX_VARINT_BYTES = 10
_MAX_TAG_BYTES = 5
_UINT32 = (1 << 32) - 1
_UINT64 = (1 << 64) - 1
_INT32_MAX = (1 << 31) - 1


class WireFormatError(ValueError):
    """The bytes are not a valid protobuf message; the text says what is wrong and where."""


@dataclass(frozen=True)
class WirePayload:
    """A Payload read from a message: `arrow_ipc` is a view of the message's bytes."""

    kind: int
    arrow_ipc: memoryview


# --- reading ---------------------------------------------------------------------------------


def read_payload(message: bytes | memoryview) -> WirePayload:
    """The Payload in `message`, without copying its Arrow bytes."""
    view = memoryview(message)
    kind = 0
    arrow_ipc = view[0:0]
    for number, value in _fields(view, MAX_PAYLOAD_FIELDS):
        if number == PAYLOAD_KIND and isinstance(value, int):
            kind = _int32(value)
        elif number == PAYLOAD_ARROW_IPC and isinstance(value, memoryview):
            arrow_ipc = value
    return WirePayload(kind, arrow_ipc)


def read_messages(message: bytes | memoryview, field_number: int) -> list[memoryview]:
    """The values of a repeated message field, in order, as views of `message`."""
    return [
        value
        for number, value in _fields(memoryview(message), MAX_FIELDS)
        if number == field_number and isinstance(value, memoryview)
    ]


def _fields(view: memoryview, max_fields: int) -> Iterator[tuple[int, int | memoryview]]:
    """(field number, value) of each top-level field of wire type varint (an int) or
    length-delimited (a view). The others (fixed32, fixed64, groups) are checked, skipped."""
    pos, count = 0, 0
    groups: list[int] = []  # the field numbers of the groups open at `pos`, innermost last
    while pos < len(view):
        count += 1
        if count > max_fields:
            raise WireFormatError(f"more than {max_fields} fields")
        start = pos
        tag, pos = _varint(view, pos, _MAX_TAG_BYTES, "a field's tag")
        number, wire_type = tag >> 3, tag & 7
        if tag > _UINT32 or number == 0:
            raise WireFormatError(f"invalid field tag {tag} at byte {start}")
        if wire_type == _START_GROUP:
            groups.append(number)
            if len(groups) > MAX_GROUP_DEPTH:
                raise WireFormatError(f"groups nested more than {MAX_GROUP_DEPTH} deep")
        elif wire_type == _END_GROUP:
            if not groups or groups.pop() != number:
                raise WireFormatError(f"the end of group {number} at byte {start} has no start")
        else:
            value, pos = _value(view, pos, number, wire_type)
            if value is not None and not groups:
                yield number, value
    if groups:
        raise WireFormatError(f"group {groups[-1]} is not closed at the end of the message")


def _value(
    view: memoryview, pos: int, number: int, wire_type: int
) -> tuple[memoryview | int | None, int]:
    """The value of a field whose tag ends at `pos` (None: a fixed-size one), and its end."""
    if wire_type == _VARINT:
        return _varint(view, pos, _MAX_VARINT_BYTES, f"field {number}'s varint")
    if wire_type == _LENGTH_DELIMITED:
        size, pos = _varint(view, pos, _MAX_TAG_BYTES, f"field {number}'s length")
        if size > _INT32_MAX:
            raise WireFormatError(f"field {number}'s length {size} is over 2 GiB")
        if size > len(view) - pos:
            raise WireFormatError(
                f"field {number} says {size} bytes at byte {pos}, {len(view) - pos} are left"
            )
        return view[pos : pos + size], pos + size
    if wire_type not in (_FIXED64, _FIXED32):
        raise WireFormatError(f"field {number} has wire type {wire_type} (expected: 0 to 5)")
    size = 8 if wire_type == _FIXED64 else 4
    if size > len(view) - pos:
        raise WireFormatError(f"field {number} is cut short: {size} bytes expected at {pos}")
    return None, pos + size


def _varint(view: memoryview, pos: int, most: int, what: str) -> tuple[int, int]:
    """A base-128 varint of at most `most` bytes at `pos`: its value (64 bits) and its end."""
    if pos < len(view) and view[pos] < 0x80:  # a tag, a kind: one byte (the loop costs ~1 us)
        return view[pos], pos + 1
    value = 0
    for index in range(pos, min(pos + most, len(view))):
        byte = view[index]
        value |= (byte & 0x7F) << (7 * (index - pos))
        if byte < 0x80:
            return value & _UINT64, index + 1
    if len(view) - pos >= most:
        raise WireFormatError(f"{what} at byte {pos} is longer than {most} bytes")
    raise WireFormatError(f"{what} at byte {pos} is cut short by the end of the message")


def _int32(value: int) -> int:
    """An int32 field's value from its varint: the low 32 bits, signed."""
    value &= _UINT32
    return value - (1 << 32) if value > _INT32_MAX else value


# --- writing ---------------------------------------------------------------------------------


def payload_message(kind: int, arrow_ipc: bytes | memoryview) -> bytes:
    """A Payload's wire bytes, `arrow_ipc` copied once (any buffer, e.g. a pyarrow Buffer)."""
    return b"".join((payload_head(kind, memoryview(arrow_ipc).nbytes), arrow_ipc))


def payload_head(kind: int, size: int) -> bytes:
    """A Payload's wire bytes before its `size` Arrow bytes; the fields protobuf would write
    (proto3: a zero kind and empty bytes are left out)."""
    head = _tag(PAYLOAD_KIND, _VARINT) + varint(kind & _UINT64) if kind else b""
    return head + field_head(PAYLOAD_ARROW_IPC, size) if size else head


def field_head(number: int, size: int) -> bytes:
    """The tag and length of a length-delimited field (bytes, or a message) of `size` bytes."""
    return _tag(number, _LENGTH_DELIMITED) + varint(size)


def varint(value: int) -> bytes:
    """A non-negative int as a protobuf base-128 varint."""
    if value < 0:
        raise ValueError(f"varint of {value} (expected: not negative)")
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _tag(number: int, wire_type: int) -> bytes:
    return varint(number << 3 | wire_type)
