"""Sign-in throttling.

Failed attempts are counted per account and per address (the `limits` library under flask-limiter),
in Redis when REDIS_URL is set so every worker and replica shares the count, else in the process's
memory. Only failures count: a customer who types the right password is never slowed by someone
else's guesses at other accounts.
"""

import logging
from dataclasses import dataclass

from flask import Flask, current_app, request
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

EXTENSION = "vitrina_throttle"
PER_ACCOUNT = "10/10minutes"
PER_ADDRESS = "50/10minutes"
REDIS_TIMEOUT_S = 0.25
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Throttle:
    limiter: MovingWindowRateLimiter
    per_account: list[RateLimitItem]
    per_address: list[RateLimitItem]

    def _keys(self, account: str) -> list[tuple[RateLimitItem, str, str]]:
        address = request.remote_addr or "unknown"
        return [(item, "account", account) for item in self.per_account] + [
            (item, "address", address) for item in self.per_address
        ]

    def allows(self, account: str) -> bool:
        """False once the account or the address has used up its failed attempts.

        A limit store that is down lets the attempt through (logged): sign-in must keep working.
        """
        try:
            return all(self.limiter.test(item, *key) for item, *key in self._keys(account))
        except StorageError as exc:
            log.warning("sign-in throttling is off: its store fails (%s)", exc)
            return True

    def failed(self, account: str) -> None:
        try:
            for item, *key in self._keys(account):
                self.limiter.hit(item, *key)
        except StorageError as exc:
            log.warning("sign-in throttling is off: its store fails (%s)", exc)


def _storage(url: str | None, prefix: str) -> Storage:
    if url is None:
        return storage_from_string("memory://")
    return storage_from_string(
        url,
        key_prefix=f"{prefix}:limits",
        wrap_exceptions=True,
        socket_timeout=REDIS_TIMEOUT_S,
        socket_connect_timeout=REDIS_TIMEOUT_S,
    )


def init_app(app: Flask) -> None:
    storage = _storage(app.config["THROTTLE_STORAGE_URL"], app.config["REDIS_PREFIX"])
    app.extensions[EXTENSION] = Throttle(
        MovingWindowRateLimiter(storage),
        parse_many(app.config["THROTTLE_PER_ACCOUNT"]),
        parse_many(app.config["THROTTLE_PER_ADDRESS"]),
    )


def get_throttle() -> Throttle:
    return current_app.extensions[EXTENSION]
