"""Auto-pipelining against real Redis: reads of one loop turn share one HMGET."""

import asyncio

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from vitrina_reco.pipelining import HashReader, SessionReader


def hmget_calls(redis_client) -> int:
    return redis_client.info("commandstats").get("cmdstat_hmget", {}).get("calls", 0)


async def read(url: str, reads: list[tuple[str, str]]) -> list:
    client = Redis.from_url(url)
    reader = HashReader(client)
    try:
        return await asyncio.gather(*(reader.hget(key, field) for key, field in reads))
    finally:
        await reader.close()
        await client.aclose()


def test_reads_of_one_turn_go_out_as_one_hmget_per_key(redis_url, redis_client):
    redis_client.hset("h", mapping={"a": "1", "b": "2"})
    redis_client.hset("g", mapping={"a": "3"})
    redis_client.config_resetstat()
    values = asyncio.run(read(redis_url, [("h", "a"), ("h", "b"), ("h", "zz"), ("g", "a")]))
    assert values == [b"1", b"2", None, b"3"]
    assert hmget_calls(redis_client) == 2


def test_a_failed_read_fails_every_waiter():
    async def scenario() -> None:
        client = Redis(port=1, socket_connect_timeout=2, retry=None)  # nothing listens there
        reader = HashReader(client)
        results = await asyncio.gather(
            reader.hget("h", "a"), reader.hget("h", "b"), return_exceptions=True
        )
        await client.aclose()
        assert isinstance(results[0], RedisError)
        assert results[1] is results[0]

    asyncio.run(scenario())


def test_a_cancelled_waiter_does_not_disturb_the_others(redis_url, redis_client):
    redis_client.hset("h", mapping={"a": "1", "b": "2"})

    async def scenario() -> bytes | None:
        client = Redis.from_url(redis_url)
        reader = HashReader(client)
        first, second = reader.hget("h", "a"), reader.hget("h", "b")
        first.cancel()
        try:
            with pytest.raises(asyncio.CancelledError):
                await first
            return await second
        finally:
            await reader.close()
            await client.aclose()

    assert asyncio.run(scenario()) == b"2"


def session_calls(redis_client) -> dict[str, int]:
    stats = redis_client.info("commandstats")
    return {
        name: stats.get(f"cmdstat_{name}", {}).get("calls", 0)
        for name in ("hmget", "evalsha", "script|load")
    }


async def read_sessions(url: str, calls: list[tuple[str, str, list[str]]]) -> list:
    """`SessionReader` calls (users hash, user, recent lists) of one turn, 5 events per list."""
    client = Redis.from_url(url)
    reader = SessionReader(client)
    try:
        return await asyncio.gather(
            *(reader(users, "similar", user, keys, 5) for users, user, keys in calls)
        )
    finally:
        await reader.close()
        await client.aclose()


def test_session_reads_of_one_turn_share_one_hmget_and_one_script_call_per_version(
    redis_url, redis_client
):
    redis_client.hset("users:v1", mapping={"u1": "list-1", "u2": "list-2"})
    redis_client.hset("users:v2", mapping={"u1": "list-1-v2"})
    redis_client.hset("similar", mapping={"a": "near-a", "b": "near-b"})
    redis_client.rpush("recent:u1", *(f"a,view_item,{t}" for t in range(9, 0, -1)))
    redis_client.rpush("recent:vis", "b,add_to_cart,5", "zz,view_item,4")
    redis_client.script_flush()  # the first pipeline meets NOSCRIPT, loads it, sends again
    redis_client.config_resetstat()
    first, second, third = asyncio.run(
        read_sessions(
            redis_url,
            [
                ("users:v1", "u1", ["recent:u1", "recent:vis"]),
                ("users:v1", "nobody", ["recent:nobody"]),
                ("users:v2", "u1", ["recent:u1"]),
            ],
        )
    )
    assert first.own == b"list-1"
    assert first.recent == [
        [f"a,view_item,{t}".encode() for t in range(9, 4, -1)],
        [
            b"b,add_to_cart,5",
            b"zz,view_item,4",
        ],
    ]
    assert {item: first.similar[item] for item in (b"a", b"b")} == {
        b"a": b"near-a",
        b"b": b"near-b",
    }
    assert first.similar[b"zz"] is None  # a product with no similar list
    assert (second.own, second.recent) == (None, [[]])
    assert third.own == b"list-1-v2"
    # Two versions: an HMGET and a script call each, twice (refused, then answered); the two
    # answering scripts' own HMGETs of similar lists count too.
    assert session_calls(redis_client) == {"hmget": 6, "evalsha": 4, "script|load": 1}
    redis_client.config_resetstat()
    asyncio.run(read_sessions(redis_url, [("users:v1", "u2", ["recent:u2"])]))
    assert session_calls(redis_client) == {"hmget": 1, "evalsha": 1, "script|load": 0}


def test_a_session_batch_naming_thousands_of_products_is_read_whole(redis_url, redis_client):
    # Lua's `unpack` takes under 8,000 values: the script asks for the similar lists in parts.
    users = [f"u{n}" for n in range(2000)]
    with redis_client.pipeline(transaction=False) as pipe:
        for n, user in enumerate(users):
            pipe.rpush(f"recent:{user}", *(f"p{n}-{e},view_item,{e}" for e in range(5)))
        pipe.hset("similar", mapping={"p1999-4": "last"})
        pipe.execute()
    replies = asyncio.run(
        read_sessions(redis_url, [("users:v1", user, [f"recent:{user}"]) for user in users])
    )
    assert len(replies[0].similar) == 10_000
    assert replies[-1].similar[b"p1999-4"] == b"last"


def test_a_failed_session_read_fails_every_waiter():
    async def scenario() -> list:
        client = Redis(port=1, socket_connect_timeout=2, retry=None)  # nothing listens there
        reader = SessionReader(client)
        results = await asyncio.gather(
            reader("users", "similar", "u1", ["r1"], 5),
            reader("users", "similar", "u2", ["r2"], 5),
            return_exceptions=True,
        )
        await reader.close()
        await client.aclose()
        return results

    assert all(isinstance(result, RedisError) for result in asyncio.run(scenario()))


def test_a_wrongly_typed_key_fails_only_its_versions_reads(redis_url, redis_client):
    redis_client.set("users:broken", "not a hash")
    redis_client.hset("users:v1", "u1", "list-1")
    broken, fine = asyncio.run(
        asyncio.wait_for(
            _gather_settled(redis_url, [("users:broken", "u1", ["r"]), ("users:v1", "u1", ["r"])]),
            10,
        )
    )
    assert isinstance(broken, RedisError) and "WRONGTYPE" in str(broken)
    assert fine.own == b"list-1"


async def _gather_settled(url: str, calls: list[tuple[str, str, list[str]]]) -> list:
    client = Redis.from_url(url)
    reader = SessionReader(client)
    try:
        return await asyncio.gather(
            *(reader(users, "similar", user, keys, 5) for users, user, keys in calls),
            return_exceptions=True,
        )
    finally:
        await reader.close()
        await client.aclose()
