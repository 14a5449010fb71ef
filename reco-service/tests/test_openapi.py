"""Property-based: schemathesis generates requests from the OpenAPI document (valid and invalid
ones); no answer may be a 5xx, and every answer must match the status codes, content types and
schemas the document declares."""

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from vitrina_reco.app import create_app
from vitrina_reco.settings import RecoSettings

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]

# The document only: building the app connects to nothing. Requests go to `published_service`.
schema = schemathesis.openapi.from_dict(create_app(RecoSettings()).openapi())


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_answer_matches_the_schema_and_none_is_a_5xx(case, published_service):
    case.call_and_validate(base_url=published_service, checks=CHECKS)
