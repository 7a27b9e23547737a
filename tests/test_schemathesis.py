"""Property-based test over the whole OpenAPI contract, in process: no input makes a 500,
every successful answer matches its documented schema, and invalid input is refused.
Routes added later are covered as soon as they are in the schema."""

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import negative_data_rejection, response_schema_conformance

from app.accounts import service
from app.accounts.schemas import SCOPES
from app.db import session_scope
from app.models import Role


@pytest.fixture
def bearer(app: FastAPI) -> str:
    """A key with every scope, so generated requests get past authentication."""
    for db in session_scope(app.state.sessionmaker):
        user = service.create_user(db, "fuzz@uni.edu", "a long fuzz password", "Fuzz", Role.student)
        _, secret = service.create_api_key(db, user, "fuzz", list(SCOPES))
    return secret


def test_no_generated_request_breaks_the_api(app: FastAPI, bearer: str) -> None:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=40, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {bearer}"},
                checks=[not_a_server_error, response_schema_conformance, negative_data_rejection],
            )

        check()
