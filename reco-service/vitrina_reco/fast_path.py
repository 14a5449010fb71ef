"""`GET /recommendations/{user_id}` answered ahead of FastAPI's per-request machinery.

The hot path of the service is one Redis round trip; FastAPI's middleware layers, route matching
and parameter solving around it cost more than the read itself (py-spy under `make bench-reco`:
over half of the CPU of a request). This ASGI layer, the outermost one, parses the common,
well-formed request itself and calls the route's own function with the same arguments; anything it
is not sure FastAPI would accept (a missing or wrong token, an odd parameter, a value FastAPI might
read differently) goes down the full stack unchanged, so the answer, a 401 or a 422 naming the
parameter, is FastAPI's. Errors of the route itself go to the app's own exception handlers.
"""

import hmac
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from vitrina_reco.access import set_endpoint
from vitrina_reco.metrics import RECOMMENDATIONS
from vitrina_reco.routers.recommendations import recommendations
from vitrina_shared.ids import MAX_EXCLUDE, is_valid_id
from vitrina_shared.redis_layout import MAX_STORED_K

PREFIX = "/recommendations/"
AUTHORIZATION = b"authorization"
BEARER = b"bearer "
K_DIGITS = len(str(MAX_STORED_K))
SCALARS = frozenset({"k", "exclude_bought", "version", "visitor_id"})
# Spellings of a boolean every parser reads alike (pydantic accepts more; FastAPI decides those).
BOOLEANS = {"true": True, "false": False, "1": True, "0": False}


def _arguments(user_id: str, query: bytes) -> dict[str, Any] | None:
    """The route's keyword arguments, or None where FastAPI should parse the request itself."""
    if not is_valid_id(user_id):
        return None
    arguments: dict[str, Any] = {"user_id": user_id, "exclude": []}
    if query:
        try:
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True, errors="strict")
        except (UnicodeDecodeError, ValueError):
            return None
        for name, value in pairs:
            if name == "exclude":
                arguments["exclude"].append(value)
            elif name in SCALARS:
                if name in arguments:  # repeated: which one counts is FastAPI's to say
                    return None
                arguments[name] = value
        if len(arguments["exclude"]) > MAX_EXCLUDE:
            return None
    k = arguments.get("k", "10")
    # Length first: `int()` refuses a string of over 4,300 digits with an error of its own.
    if not (k.isascii() and k.isdigit() and k[0] != "0" and len(k) <= K_DIGITS):
        return None
    arguments["k"] = int(k)
    if arguments["k"] > MAX_STORED_K:
        return None
    flag = BOOLEANS.get(arguments.get("exclude_bought", "false"))
    if flag is None:
        return None
    arguments["exclude_bought"] = flag
    for name in ("version", "visitor_id"):
        if name in arguments and not is_valid_id(arguments[name]):
            return None
    return arguments


class FastRecommendations:
    """Serve plain `GET /recommendations/{user_id}` requests; pass everything else to `app`."""

    def __init__(self, app: ASGIApp, api: Any):
        self.app, self.api = app, api
        token: bytes = api.state.token
        self.token = BEARER + token if api.state.settings.api_token is not None else None

    def _authorized(self, scope: Scope) -> bool:
        if self.token is None:
            return True
        for name, value in scope["headers"]:
            if name == AUTHORIZATION:  # the first one counts, as for Starlette's `Headers.get`
                # Read as FastAPI reads it (latin-1 text, compared as UTF-8), the scheme's case
                # ignored; any other spelling fails here and FastAPI's own check decides.
                given = value.decode("latin-1").encode()
                scheme, credentials = given[: len(BEARER)].lower(), given[len(BEARER) :]
                return hmac.compare_digest(scheme + credentials, self.token)
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and path.startswith(PREFIX)
            and not scope.get("root_path")
            and "/" not in path[len(PREFIX) :]
            and self._authorized(scope)
            and (arguments := _arguments(path[len(PREFIX) :], scope["query_string"])) is not None
        ):
            set_endpoint(scope, RECOMMENDATIONS)
            scope["path_params"] = {"user_id": arguments["user_id"]}
            request = Request(scope, receive)
            try:
                response = await recommendations(request, **arguments)
            except Exception as exc:
                response = await self._handler(exc)(request, exc)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _handler(self, exc: Exception) -> Callable:
        """The app's handler for `exc`, looked up along its class hierarchy as Starlette does."""
        handlers = self.api.exception_handlers
        return next(handlers[cls] for cls in type(exc).__mro__ if cls in handlers)
