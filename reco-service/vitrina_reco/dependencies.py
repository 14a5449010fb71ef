"""What route handlers use: the store (opened by the app's lifespan) and the auth check.

The store is fetched with `store_of(request)`, not injected with `Depends`: a sub-dependency
doubles FastAPI's per-request parameter solving, a measurable share of a request (see the bench).
"""

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from vitrina_reco.settings import RecoSettings
from vitrina_reco.store import RecoStore

bearer = HTTPBearer(auto_error=False, description="The value of RECO_API_TOKEN.")


def store_of(request: Request) -> RecoStore:
    return request.app.state.store


def settings_of(request: Request) -> RecoSettings:
    return request.app.state.settings


async def require_token(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    """401 unless `Authorization: Bearer <RECO_API_TOKEN>`; compared in constant time."""
    expected: bytes = request.app.state.token
    given = credentials.credentials.encode() if credentials else b""
    if not hmac.compare_digest(given, expected):
        raise HTTPException(
            status_code=401,
            detail="missing or wrong bearer token (Authorization: Bearer <RECO_API_TOKEN>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
