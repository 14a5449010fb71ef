"""Property-based.

Schemathesis generates requests from the OpenAPI document (valid and invalid ones); no answer may be
a 5xx, and every answer must match the status codes, content types and schemas the document
declares. Run twice: without auth, and with a token the client sends (then schemathesis also checks
that leaving the token out or sending a wrong one is refused).
"""

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
)

from vitrina_reco.app import create_app
from vitrina_reco.settings import RecoSettings

from .conftest import API_TOKEN

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# The documents only: building the app connects to nothing. Requests go to the running services.
schema = schemathesis.openapi.from_dict(create_app(RecoSettings()).openapi())
schema_with_auth = schemathesis.openapi.from_dict(
    create_app(RecoSettings(RECO_API_TOKEN=API_TOKEN)).openapi()
)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_matches_the_schema_and_none_is_a_5xx(case, published_service):
    case.call_and_validate(base_url=published_service, checks=CHECKS)


@schema_with_auth.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_with_auth_on_every_answer_matches_and_auth_is_enforced(case, published_service_with_auth):
    case.call_and_validate(
        base_url=published_service_with_auth,
        headers={"Authorization": f"Bearer {API_TOKEN}"},
        checks=[*CHECKS, ignored_auth],
    )
