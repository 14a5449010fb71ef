import pytest

from vitrina_shared.ids import MAX_ID_LENGTH, is_valid_id


@pytest.mark.parametrize(
    "value",
    ["1", "A-17_x", "340282366920938463463374607431768211455", "0042", "ёлка", "x" * MAX_ID_LENGTH],
)
def test_valid_ids(value):
    assert is_valid_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "x" * (MAX_ID_LENGTH + 1),
        "a b",
        "a,b",
        "a\x00b",
        "a\tb",
        "a\x7fb",
        "a\u0085b",
        "a\u2028b",
        "a\u200bb",
        "a\u202eb",
        "a\u00a0b",
    ],
)
def test_invalid_ids(value):
    assert not is_valid_id(value)
