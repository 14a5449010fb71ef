from datetime import UTC, datetime

from vitrina_shared.model_meta import Counts, DataSummary, ModelMeta


def test_dump_is_the_published_json_in_field_order_without_unset_fields():
    meta = ModelMeta(
        trained_at=datetime(2024, 1, 5, 3, 0, tzinfo=UTC),
        top_k=100,
        data=DataSummary(first="2024-01-01T00:00:00+00:00", last="2024-01-04T23:00:00+00:00"),
        counts=Counts(users=2, similar=1, fallbacks=1),
    )
    assert meta.dump() == {
        "trained_at": "2024-01-05T03:00:00+00:00",
        "top_k": 100,
        "data": {"from": "2024-01-01T00:00:00+00:00", "to": "2024-01-04T23:00:00+00:00"},
        "counts": {"users": 2, "similar": 1, "fallbacks": 1},
    }
    assert list(meta.dump()) == ["trained_at", "top_k", "data", "counts"]


def test_what_was_published_reads_back_and_unknown_fields_survive():
    stored = {
        "top_k": 60,
        "data": {"from": "2024-01-01", "to": "2024-01-02", "events": 7},
        "metrics": {"ndcg@10": 0.3},
        "from_a_newer_trainer": True,
    }
    meta = ModelMeta.model_validate(stored)
    assert (meta.top_k, meta.data.first, meta.data.events, meta.metrics) == (
        60,
        "2024-01-01",
        7,
        {"ndcg@10": 0.3},
    )
    assert meta.similar_k is None and meta.counts == Counts()
    assert meta.dump() == stored


def test_a_version_without_metadata_reads_as_defaults():
    meta = ModelMeta.model_validate({})
    assert (meta.top_k, meta.data.events, meta.fallbacks, meta.dump()) == (None, 0, [], {})
