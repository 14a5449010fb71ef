"""`?version=`: serve a kept model version other than the active one, for the shop's experiments.

Without the parameter (or naming the active version) nothing changes: the cached active state,
one Redis round trip per request. Another version's small parts are cached the same way.
"""

from typing import Annotated

from fastapi import HTTPException, Query

from vitrina_reco.params import ID_PATTERN, MAX_ID_LENGTH
from vitrina_reco.store import ModelState, RecoStore

Version = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_ID_LENGTH,
        pattern=ID_PATTERN,
        description="A published model version to answer from instead of the active one; "
        "404 when it is no longer kept.",
    ),
]


async def state_for(store: RecoStore, version: str | None) -> ModelState:
    active = await store.state()
    if version is None or version == active.version:
        return active
    state = await store.kept_version(version)
    if state is None:
        raise HTTPException(
            404,
            f"model version {version!r} is not kept (pruned or never published); "
            f"the active version is {active.version}",
        )
    return state
