"""Property-based fuzzing of the served OpenAPI document: no request gets a 5xx while Kafka is up.

Drives schemathesis from a plain test (its pytest plugin's lazy loader does not
work with this pytest): one hypothesis run per documented operation.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance

from questline_api.spec import openapi

CHECKS = [not_a_server_error, content_type_conformance, response_schema_conformance]


@pytest.mark.stack
@pytest.mark.timeout(300)
def test_no_generated_request_gets_a_server_error(api_url):
    schema = schemathesis.openapi.from_url(f"{api_url}/v1/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    documented = {f"{method.upper()} {path}" for path, item in openapi()["paths"].items() for method in item}
    # schemathesis leaves out the operation that serves the document it fuzzes.
    assert {operation.label for operation in operations} == documented - {"GET /v1/openapi.json"}

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=15, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def requests_to(case):
            case.call_and_validate(checks=CHECKS)

        requests_to()
