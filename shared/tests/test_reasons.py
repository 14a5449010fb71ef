import pytest

from vitrina_shared.reasons import Reason, ReasonCode, parse_reason


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("popular", Reason("popular")),
        ("bought_before", Reason(ReasonCode.BOUGHT_BEFORE)),
        ("similar_to:p:12", Reason("similar_to", "p:12")),
        ("popular_in_category:Home & Garden", Reason("popular_in_category", "Home & Garden")),
    ],
)
def test_a_reason_reads_back_from_its_text(text: str, reason: Reason) -> None:
    assert parse_reason(text) == reason
    assert str(reason) == text
