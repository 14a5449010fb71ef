"""Auto-pipelining: the reads asked for in one event-loop turn go out together, in one round trip.

Every HGET of a turn becomes one HMGET per hash (`HashReader`); every session read one HMGET and
one script call per model version (`SessionReader`). Under concurrency this shares a Redis round
trip (and redis-py's per-command cost, which is most of a request's CPU) between all requests
that arrived together; alone, a request still costs one round trip. Callers bound their wait
with their own timeout; a failed command fails all its waiters.
"""

import asyncio
import hashlib
from dataclasses import dataclass

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


# The recent lists of a batch of requests and the similar lists of their events' products, which
# only the server can look up without a second round trip (their ids are in the events). KEYS:
# the version's similar hash, then the recent lists; ARGV: events to read per list. Replies with
# each list's events, the products named in them, and their similar lists (HMGETs of at most
# 1,000 fields: Lua's `unpack` has a limit).
RECENT_SCRIPT = """
local n = tonumber(ARGV[1])
local reply, items, seen = {}, {}, {}
for i = 2, #KEYS do
  local events = redis.call('LRANGE', KEYS[i], 0, n - 1)
  reply[#reply + 1] = events
  for _, entry in ipairs(events) do
    local item = string.match(entry, '^([^,]+),')
    if item and not seen[item] then
      seen[item] = true
      items[#items + 1] = item
    end
  end
end
local blobs = {}
for first = 1, #items, 1000 do
  local part = redis.call('HMGET', KEYS[1], unpack(items, first, math.min(first + 999, #items)))
  for _, blob in ipairs(part) do
    blobs[#blobs + 1] = blob
  end
end
reply[#reply + 1] = items
reply[#reply + 1] = blobs
return reply
"""


@dataclass(frozen=True)
class SessionReply:
    """One request's share of a batch: its stored list, its recent lists, the similar lists.

    `similar` holds the similar lists (raw) of every product in the events of the batch.
    """

    own: bytes | None
    recent: list[list[bytes]]
    similar: dict[bytes, bytes]


@dataclass
class _Call:
    user_id: str
    recent_keys: list[str]
    future: asyncio.Future


class SessionReader:
    """What the session re-ranking reads, for all requests of one loop turn in one round trip.

    Per version (its users' and similar hashes) one HMGET of the users' stored lists and one
    EVALSHA of `RECENT_SCRIPT` for all their recent lists, in one pipeline. Per request that is
    far less work for Redis and for redis-py than a script call each that also read the stored
    list: a stored list passes through Lua as a string (a copy and a hash) and back. Nothing
    needs the two commands to be atomic: a version's hashes never change once published, and
    the key names pin the version.
    """

    def __init__(self, client: Redis):
        self.client = client
        self.sha = hashlib.sha1(RECENT_SCRIPT.encode()).hexdigest()  # the name Redis gives it
        self._pending: dict[tuple[str, str, int], list[_Call]] = {}
        self._running: set[asyncio.Task] = set()

    def __call__(
        self, users_key: str, similar_key: str, user_id: str, recent_keys: list[str], recent: int
    ) -> "asyncio.Future[SessionReply]":
        """A future of one user's stored list and `recent` newest events of each recent list."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        call = _Call(user_id, recent_keys, future)
        self._pending.setdefault((users_key, similar_key, recent), []).append(call)
        return future

    def _flush(self) -> None:
        pending, self._pending = self._pending, {}
        task = asyncio.ensure_future(self._run(pending))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _send(self, batches: dict[tuple[str, str, int], list[_Call]]) -> list:
        async with self.client.pipeline(transaction=False) as pipe:
            for (users_key, similar_key, recent), calls in batches.items():
                pipe.hmget(users_key, [call.user_id for call in calls])
                keys = [key for call in calls for key in call.recent_keys]
                pipe.evalsha(self.sha, 1 + len(keys), similar_key, *keys, recent)
            return await pipe.execute(raise_on_error=False)

    async def _run(self, batches: dict[tuple[str, str, int], list[_Call]]) -> None:
        try:
            replies = await self._send(batches)
            if any(isinstance(reply, NoScriptError) for reply in replies):
                await self.client.script_load(RECENT_SCRIPT)  # a restarted or flushed Redis
                replies = await self._send(batches)
        except BaseException as exc:
            for calls in batches.values():
                _fail(calls, exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        for calls, own, recent in zip(batches.values(), replies[::2], replies[1::2], strict=True):
            error = own if isinstance(own, Exception) else recent
            if isinstance(error, Exception):
                _fail(calls, error)
                continue
            *lists, items, blobs = recent
            similar = dict(zip(items, blobs, strict=True))
            start = 0
            for call, blob in zip(calls, own, strict=True):
                end = start + len(call.recent_keys)
                if not call.future.done():
                    call.future.set_result(SessionReply(blob, lists[start:end], similar))
                start = end

    async def close(self) -> None:
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)


def _fail(calls: list[_Call], exc: BaseException) -> None:
    for call in calls:
        if not call.future.done():
            call.future.set_exception(exc)
