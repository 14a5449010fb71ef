"""Auto-pipelining against real Redis: reads of one loop turn share one HMGET."""

import asyncio

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from vitrina_reco.pipelining import HashReader, ScriptRunner


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


ECHO_KEY = "return {KEYS[1], ARGV[1]}"


async def run_script(url: str, calls: list[tuple[str, str]]) -> list:
    client = Redis.from_url(url)
    runner = ScriptRunner(client, ECHO_KEY)
    try:
        return await asyncio.gather(*(runner([key], [arg]) for key, arg in calls))
    finally:
        await runner.close()
        await client.aclose()


def test_script_calls_of_one_turn_share_a_pipeline_and_survive_a_script_flush(
    redis_url, redis_client
):
    redis_client.script_flush()  # the first pipeline meets NOSCRIPT, loads it, sends again
    redis_client.config_resetstat()
    replies = asyncio.run(run_script(redis_url, [("k1", "a"), ("k2", "b"), ("k3", "c")]))
    assert replies == [[b"k1", b"a"], [b"k2", b"b"], [b"k3", b"c"]]
    stats = redis_client.info("commandstats")
    assert stats["cmdstat_script|load"]["calls"] == 1
    assert stats["cmdstat_evalsha"]["calls"] == 6  # 3 refused, 3 answered: two round trips
    redis_client.config_resetstat()
    asyncio.run(run_script(redis_url, [("k1", "a"), ("k2", "b")]))
    stats = redis_client.info("commandstats")
    assert "cmdstat_script|load" not in stats and stats["cmdstat_evalsha"]["calls"] == 2


def test_a_failed_script_call_fails_every_waiter():
    async def scenario() -> list:
        client = Redis(port=1, socket_connect_timeout=2, retry=None)
        runner = ScriptRunner(client, ECHO_KEY)
        results = await asyncio.gather(
            runner(["k"], ["a"]), runner(["k"], ["b"]), return_exceptions=True
        )
        await runner.close()
        await client.aclose()
        return results

    assert all(isinstance(result, RedisError) for result in asyncio.run(scenario()))


def test_a_lone_script_call_is_one_evalsha_and_survives_a_script_flush(redis_url, redis_client):
    redis_client.script_flush()
    assert asyncio.run(run_script(redis_url, [("k1", "a")])) == [[b"k1", b"a"]]
    redis_client.config_resetstat()
    assert asyncio.run(run_script(redis_url, [("k2", "b")])) == [[b"k2", b"b"]]
    stats = redis_client.info("commandstats")
    assert "cmdstat_script|load" not in stats and stats["cmdstat_evalsha"]["calls"] == 1
