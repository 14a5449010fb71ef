import orjson
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


def test_ranking_with_reasons_and_discovery_round_trip():
    discovery = Ranking(["c", "d"], [0.5, 0.25], reasons=["similar_to:a", "popular"])
    blob = encode_ranking(
        ["a", "b"],
        [0.9, 0.1],
        bought=["a"],
        reasons=["bought_before", "popular"],
        discovery=discovery,
    )
    assert orjson.loads(blob) == {
        "items": ["a", "b"],
        "scores": [0.9, 0.1],
        "reasons": ["bought_before", "popular"],
        "bought": ["a"],
        "discovery": {
            "items": ["c", "d"],
            "scores": [0.5, 0.25],
            "reasons": ["similar_to:a", "popular"],
        },
    }
    assert decode_ranking(blob) == Ranking(
        ["a", "b"], [0.9, 0.1], ["a"], ["bought_before", "popular"], discovery
    )


def test_a_blob_without_reasons_or_discovery_still_decodes():
    ranking = decode_ranking(b'{"items": ["a"], "scores": [1.0], "bought": ["z"]}')
    assert ranking == Ranking(["a"], [1.0], ["z"], [], None)


def test_reasons_must_match_the_items():
    with pytest.raises(ValueError, match="2 items but 1 reasons"):
        encode_ranking(["a", "b"], [1.0, 0.5], reasons=["popular"])
