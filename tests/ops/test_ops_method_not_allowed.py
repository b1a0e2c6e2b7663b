"""A refused method says which one is allowed, as HTTP requires of a 405 (found by schemathesis)."""

from __future__ import annotations

import json
from types import ModuleType

import pytest
from ops_support import group_chat

from tests.support.events import LambdaContext, http_api_event


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "HEAD"])
def test_any_method_but_post_gets_405_with_an_allow_header(app: ModuleType, method: str) -> None:
    # Given a request with another method
    event = http_api_event(group_chat(), method=method)
    # When it is handled
    response = app.lambda_handler(event, LambdaContext())
    # Then it is MethodNotAllowed, and the Allow header names POST
    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == "POST"
    assert json.loads(response["body"])["ResponseMetadata"]["Error"]["Code"] == "MethodNotAllowed"


def test_other_errors_and_successes_carry_no_allow_header(app: ModuleType) -> None:
    # Given a refused POST and a successful one
    refused = app.lambda_handler(http_api_event(b"{"), LambdaContext())
    created = app.lambda_handler(http_api_event(group_chat()), LambdaContext())
    # Then neither has an Allow header: only a 405 is about methods
    assert (refused["statusCode"], created["statusCode"]) == (400, 200)
    assert "Allow" not in refused["headers"]
    assert "Allow" not in created["headers"]
