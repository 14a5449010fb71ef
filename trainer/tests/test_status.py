from datetime import UTC, datetime

from vitrina_shared.model_store import VersionInfo
from vitrina_trainer.status import format_versions


def test_versions_table_marks_the_active_one():
    versions = [
        VersionInfo(
            "v2",
            datetime(2024, 1, 3, 4, 5, tzinfo=UTC),
            True,
            {
                "data": {
                    "from": "2023-12-01T00:00:00+00:00",
                    "to": "2024-01-02T10:00:00+00:00",
                    "events": 12345,
                },
                "counts": {"users": 1000},
                "metrics": {"ndcg@10": 0.31234},
            },
        ),
        VersionInfo("v1", datetime(2024, 1, 2, 4, 5, tzinfo=UTC), False, {}),
    ]
    assert format_versions(versions, "redis://x").splitlines() == [
        "   version  published (UTC)   data                     users  events  ndcg@10",
        "*  v2       2024-01-03 04:05  2023-12-01 … 2024-01-02  1,000  12,345  0.3123",
        "   v1       2024-01-02 04:05  ? … ?                    0      0       -",
    ]


def test_no_versions_says_where_it_looked():
    assert format_versions([], "redis://:pw@h:6379/0") == (
        "no model version published in Redis at redis://:***@h:6379/0"
    )


def test_half_written_versions_are_listed():
    text = format_versions([], "redis://h", building=["v9"])
    assert text.splitlines()[1] == (
        "being written, or left by a killed run (pruned once its lock is gone): v9"
    )
