"""The service's HTTP protocol: one socket write per response."""

import asyncio
import socket
from typing import Any

from vitrina_reco.protocol import RecoHttpProtocol

REQUESTS = [
    b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n",  # 200
    b"GET /popular?k=0 HTTP/1.1\r\nHost: t\r\n\r\n",  # 422
    b"GET /no-such-page HTTP/1.1\r\nHost: t\r\n\r\n",  # 404
    b"DELETE /health HTTP/1.1\r\nHost: t\r\n\r\n",  # 405
    b"GET /\x01 HTTP/1.1\r\n\r\n",  # malformed: a 400, then uvicorn closes the connection
]


class CountingTransport:
    """The real transport, keeping what each write sent."""

    def __init__(self, transport: asyncio.Transport, writes: list[bytes]):
        self._transport, self.writes = transport, writes

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))
        self._transport.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


WRITES: list[bytes] = []


class CountedProtocol(RecoHttpProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CountingTransport(transport, WRITES))  # type: ignore[arg-type]


def body_length(head: bytes) -> int:
    return int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])


def complete(answer: bytes) -> bool:
    head, found, body = answer.partition(b"\r\n\r\n")
    return bool(found) and len(body) >= body_length(head)


def exchange(address: tuple[str, int]) -> bytes:
    """Send the requests on one connection, each after the answer to the last; all received."""
    received = b""
    with socket.create_connection(address, timeout=10) as client:
        for request in REQUESTS:
            client.sendall(request)
            answer = b""
            while not complete(answer):
                answer += client.recv(65536)
            received += answer
        assert client.recv(65536) == b""  # closed after the 400
    return received


def test_every_response_is_one_write_head_and_body_together(serve):
    WRITES.clear()
    url = serve(http=CountedProtocol).base_url
    received = exchange((url.host, url.port))
    assert len(WRITES) == len(REQUESTS)
    statuses = [write.split(b" ", 2)[1] for write in WRITES]
    assert statuses == [b"200", b"422", b"404", b"405", b"400"]
    assert b"".join(WRITES) == received
    for write in WRITES:
        head, body = write.split(b"\r\n\r\n", 1)
        assert len(body) == body_length(head) > 0
