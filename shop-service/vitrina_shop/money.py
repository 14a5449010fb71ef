"""Prices are stored in minor units (kopecks, pence); this shows them the way the currency does."""

from dataclasses import dataclass

NBSP = "\u00a0"

# The prices the shop takes, in minor units: 0.01 to 10 billion. Checkout refuses an order whose
# total would leave the range of the BIGINT column it is stored in.
MIN_PRICE100 = 1
MAX_PRICE100 = 10**12
MAX_TOTAL100 = 2**63 - 1


def is_valid_price100(value: object) -> bool:
    """An integer (not a bool, not a float) within MIN_PRICE100..MAX_PRICE100."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and MIN_PRICE100 <= value <= MAX_PRICE100
    )


@dataclass(frozen=True)
class Currency:
    symbol: str
    symbol_first: bool
    thousands: str
    decimal: str


CURRENCIES = {
    "RUB": Currency("₽", False, NBSP, ","),
    "GBP": Currency("£", True, ",", "."),
    "USD": Currency("$", True, ",", "."),
    "EUR": Currency("€", False, NBSP, ","),
}


def format_price(price100: int, code: str = "RUB") -> str:
    """`format_price(123450, "RUB")` → '1 234,50 ₽'; whole roubles drop the kopecks."""
    currency = CURRENCIES.get(code.upper())
    units, minor = divmod(abs(int(price100)), 100)
    whole = f"{units:,}".replace(",", currency.thousands if currency else ",")
    sign = "-" if price100 < 0 else ""
    if currency is None:
        return f"{sign}{whole}.{minor:02d}{NBSP}{code}"
    amount = (
        whole if (minor == 0 and code.upper() == "RUB") else f"{whole}{currency.decimal}{minor:02d}"
    )
    if currency.symbol_first:
        return f"{sign}{currency.symbol}{amount}"
    return f"{sign}{amount}{NBSP}{currency.symbol}"
