import pytest

from vitrina_shared.redis_layout import Ranking, RedisKeys, decode_ranking, encode_ranking


def test_keys_live_under_prefix_and_version():
    keys = RedisKeys("shop")
    assert keys.active == "shop:active"
    assert keys.users("v1") == "shop:v:v1:users"
    assert keys.version_keys("v1") == [
        "shop:v:v1:meta",
        "shop:v:v1:users",
        "shop:v:v1:similar",
        "shop:v:v1:fallbacks",
    ]


def test_ranking_round_trip():
    blob = encode_ranking(["a", "b"], [0.9, 0.1234567891], bought=["z"])
    assert decode_ranking(blob) == Ranking(["a", "b"], [0.9, 0.123457], ["z"])
    assert decode_ranking(encode_ranking(["a"], [1])).bought == []


def test_ranking_lengths_must_match():
    with pytest.raises(ValueError, match="2 items but 1 scores"):
        encode_ranking(["a", "b"], [1.0])
