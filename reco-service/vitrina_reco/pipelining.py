"""Auto-pipelining of hash reads: every HGET asked for in one event-loop turn goes out as one HMGET.

Under concurrency this shares a Redis round trip (and redis-py's per-command cost, which is most
of a request's CPU) between all requests that arrived together; alone, a request still costs one
round trip. Callers bound their wait with their own timeout; a failed HMGET fails all its waiters.
"""

import asyncio
import hashlib
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError


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


class ScriptRunner:
    """The same for one Lua script.

    Its calls of one loop turn go out as one pipeline of EVALSHAs, so re-ranked requests
    arriving together still share a round trip.
    """

    def __init__(self, client: Redis, script: str):
        self.client, self.script = client, script
        self.sha = hashlib.sha1(script.encode()).hexdigest()  # the name Redis gives the script
        self._pending: list[tuple[list[str], list[str | int], asyncio.Future]] = []
        self._running: set[asyncio.Task] = set()

    def __call__(self, keys: list[str], args: list[str | int]) -> "asyncio.Future[Any]":
        """A future of the script's reply for these keys and arguments."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((keys, args, future))
        return future

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        task = asyncio.ensure_future(self._run(pending))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _send(self, calls: list) -> list:
        if len(calls) == 1:  # alone: one plain command costs redis-py less than a pipeline
            keys, args, _ = calls[0]
            try:
                return [await self.client.evalsha(self.sha, len(keys), *keys, *args)]
            except NoScriptError as exc:
                return [exc]
        async with self.client.pipeline(transaction=False) as pipe:
            for keys, args, _ in calls:
                pipe.evalsha(self.sha, len(keys), *keys, *args)
            return await pipe.execute(raise_on_error=False)

    async def _run(self, calls: list) -> None:
        try:
            replies = await self._send(calls)
            if any(isinstance(reply, NoScriptError) for reply in replies):
                await self.client.script_load(self.script)  # a restarted or flushed Redis
                replies = await self._send(calls)
        except BaseException as exc:
            for _, _, future in calls:
                if not future.done():
                    future.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        for (_, _, future), reply in zip(calls, replies, strict=True):
            if not future.done():
                if isinstance(reply, Exception):
                    future.set_exception(reply)
                else:
                    future.set_result(reply)

    async def close(self) -> None:
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
