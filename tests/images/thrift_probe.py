"""One Thrift call by hand (binary protocol, unframed, as the Hive metastore serves it), so the
image tests can ask the metastore something without a Thrift library: get_all_databases()."""

import socket
import struct

_CALL, _REPLY = 0x80010001, 0x80010002
_STRING, _STRUCT, _LIST = 11, 12, 15


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def take(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("the metastore closed the connection mid-reply")
            data += chunk
        return data

    def i32(self) -> int:
        return struct.unpack(">i", self.take(4))[0]

    def string(self) -> str:
        return self.take(self.i32()).decode()


def get_all_databases(host: str, port: int, timeout: float = 30) -> list[str]:
    name = b"get_all_databases"
    request = struct.pack(">Ii", _CALL, len(name)) + name + struct.pack(">i", 1) + b"\x00"
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request)
        reader = _Reader(sock)
        version = reader.i32() & 0xFFFFFFFF
        method = reader.string()
        reader.i32()  # sequence id
        if version != _REPLY or method != "get_all_databases":
            raise ValueError(f"unexpected Thrift reply {version:#x} to {method!r} (an exception?)")
        field_type, field_id = struct.unpack(">bh", reader.take(3))
        if (field_type, field_id) != (_LIST, 0):
            raise ValueError(f"get_all_databases failed: reply field {field_id} of type {field_type}")
        element_type, size = struct.unpack(">bi", reader.take(5))
        assert element_type == _STRING
        return [reader.string() for _ in range(size)]
