"""uvicorn's httptools protocol, writing each response with one system call.

One socket write per response: uvicorn writes a response's head and its body with two
`transport.write` calls, and uvloop sends each at once: two system calls, two TCP segments and two
wake-ups of the client per answer. Here the writes of one event-loop turn leave together at its
end; ASGI sends a response's head and body in the same turn.
"""

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class GatheringTransport:
    """A transport whose writes of one loop turn go out as one write; all else is the real one's."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop):
        self._transport, self._loop = transport, loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        if self._pending:
            data, self._pending = b"".join(self._pending), []
            self._transport.write(data)

    def close(self) -> None:
        """Close after what is written (uvicorn closes right after an error's answer)."""
        self._flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class RecoHttpProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(GatheringTransport(transport, self.loop))  # type: ignore[arg-type]
