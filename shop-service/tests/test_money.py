import pytest

from vitrina_shop.money import NBSP, format_price


@pytest.mark.parametrize(
    ("price100", "code", "shown"),
    [
        (123450, "RUB", f"1{NBSP}234,50{NBSP}₽"),
        (49900, "RUB", f"499{NBSP}₽"),
        (5, "RUB", f"0,05{NBSP}₽"),
        (123450, "GBP", "£1,234.50"),
        (85, "gbp", "£0.85"),
        (100000000, "USD", "$1,000,000.00"),
        (1999, "EUR", f"19,99{NBSP}€"),
        (1999, "CHF", f"19.99{NBSP}CHF"),
    ],
)
def test_format_price(price100: int, code: str, shown: str) -> None:
    assert format_price(price100, code) == shown
