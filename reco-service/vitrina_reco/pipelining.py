"""Auto-pipelining of hash reads: every HGET asked for in one event-loop turn goes out as one HMGET.

Under concurrency this shares a Redis round trip (and redis-py's per-command cost, which is most
of a request's CPU) between all requests that arrived together; alone, a request still costs one
round trip. Callers bound their wait with their own timeout; a failed HMGET fails all its waiters.
"""

import asyncio

from redis.asyncio import Redis


class HashReader:
    def __init__(self, client: Redis):
        self.client = client
        self._pending: dict[str, list[tuple[str, asyncio.Future]]] = {}
        self._scheduled = False
        self._running: set[asyncio.Task] = set()

    def hget(self, key: str, field: str) -> "asyncio.Future[bytes | None]":
        """A future of `HGET key field`, sent with the others of this loop turn."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._pending.setdefault(key, []).append((field, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return future

    def _flush(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, {}
        for key, waiters in pending.items():
            task = asyncio.ensure_future(self._fetch(key, waiters))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _fetch(self, key: str, waiters: list[tuple[str, asyncio.Future]]) -> None:
        try:
            values = await self.client.hmget(key, [field for field, _ in waiters])
        except BaseException as exc:
            for _, future in waiters:
                if not future.done():
                    future.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        for (_, future), value in zip(waiters, values, strict=True):
            if not future.done():
                future.set_result(value)

    async def close(self) -> None:
        """Wait for reads in flight, so none outlives the connection pool."""
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
