from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PayloadKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PAYLOAD_KIND_UNSPECIFIED: _ClassVar[PayloadKind]
    PAYLOAD_KIND_DATAFRAME: _ClassVar[PayloadKind]
    PAYLOAD_KIND_TENSORS: _ClassVar[PayloadKind]
PAYLOAD_KIND_UNSPECIFIED: PayloadKind
PAYLOAD_KIND_DATAFRAME: PayloadKind
PAYLOAD_KIND_TENSORS: PayloadKind

class Payload(_message.Message):
    __slots__ = ("kind", "arrow_ipc")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ARROW_IPC_FIELD_NUMBER: _ClassVar[int]
    kind: PayloadKind
    arrow_ipc: bytes
    def __init__(self, kind: _Optional[_Union[PayloadKind, str]] = ..., arrow_ipc: _Optional[bytes] = ...) -> None: ...
