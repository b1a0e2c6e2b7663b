"""The handler's order of checks with authentication on, through API Gateway events, on moto."""

from __future__ import annotations

import base64
import importlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest
from moto import mock_aws
from signing_support import ACCESS_KEY_ID, BODY, SECRET, WRONG_SECRET, sdk_signed_request

from handler.gateway import MAX_BODY_BYTES, HttpRequest
from handler.store import rate_counter_key, table_definition
from tests.support.events import LambdaContext

TABLE = "auth-flow-test"
KEYS = json.dumps({ACCESS_KEY_ID: {"SecretAccessKey": SECRET, "AppIds": [10, 11]}})
CALLER_ARN = "arn:aws:iam::123456789012:user/im-backend"
CONTEXT = LambdaContext("lambda-request-id")


@pytest.fixture
def load_app(monkeypatch) -> Iterator[Callable[..., ModuleType]]:
    """Import handler.app fresh under the given environment, against an empty moto table."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("TABLE_NAME", TABLE)
    with mock_aws():

        def load(**environ: str) -> ModuleType:
            for name, value in environ.items():
                monkeypatch.setenv(name, value)
            sys.modules.pop("handler.app", None)
            app = importlib.import_module("handler.app")
            app.dynamodb.create_table(**table_definition(TABLE))
            return app

        yield load
    sys.modules.pop("handler.app", None)


def signed_now(**kwargs: Any) -> HttpRequest:
    return sdk_signed_request(signed_at=datetime.now(tz=UTC), **kwargs)


def http_api_event(request: HttpRequest, *, iam_caller: str | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {
        "http": {"method": request.method, "path": request.path},
        "requestId": "api-request-id",
        "stage": request.stage or "$default",
    }
    if iam_caller:
        context["authorizer"] = {"iam": {"userArn": iam_caller}}
    return {
        "version": "2.0",
        "rawPath": request.path,
        "rawQueryString": request.raw_query,
        "queryStringParameters": dict(request.query),
        "headers": dict(request.headers),
        "requestContext": context,
        "body": request.raw_body,
        "isBase64Encoded": request.body_is_base64,
    }


def call(app: ModuleType, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = app.lambda_handler(event, CONTEXT)
    return response["statusCode"], json.loads(response["body"])


def error_code(payload: dict[str, Any]) -> str:
    return payload["ResponseMetadata"]["Error"]["Code"]


def stored_keys(app: ModuleType) -> list[str]:
    items = app.dynamodb.scan(TableName=TABLE)["Items"]
    return sorted(item["PK"]["S"] for item in items if not is_rate_counter(item))


def is_rate_counter(item: dict[str, Any]) -> bool:
    return bool(item["SK"]["S"] == "R")


def body_for(app_id: int = 10, **fields: Any) -> str:
    return json.dumps(
        {
            "AppId": app_id,
            "OwnerUserId": 1,
            "OtherUserId": 2,
            "IdempotentId": "flow-1",
            "ConversationCoreInfo": {"ConversationType": 1},
            **fields,
        }
    )


def test_a_signed_create_succeeds(load_app):
    app = load_app(AUTH_MODE="signature", AUTH_KEYS_JSON=KEYS)
    status, payload = call(app, http_api_event(signed_now(body=body_for())))
    assert status == 200
    assert payload["Result"]["Exist"] is False


def test_the_route_is_checked_before_authentication(load_app):
    # Given an unsigned GET
    app = load_app(AUTH_MODE="signature", AUTH_KEYS_JSON=KEYS)
    event = http_api_event(sdk_signed_request())
    event["requestContext"]["http"]["method"] = "GET"
    event["headers"].pop("authorization")
    # Then it is MethodNotAllowed, not an authentication failure
    status, payload = call(app, event)
    assert (status, error_code(payload)) == (405, "MethodNotAllowed")


def test_an_oversized_body_is_refused_before_it_is_hashed_for_the_signature(load_app):
    # Given an unsigned request whose base64 body is over the limit
    app = load_app(AUTH_MODE="signature", AUTH_KEYS_JSON=KEYS)
    event = http_api_event(sdk_signed_request())
    event["headers"].pop("authorization")
    event["body"] = base64.b64encode(b"{" + b" " * MAX_BODY_BYTES + b"}").decode()
    event["isBase64Encoded"] = True
    # Then it is RequestEntityTooLarge, not MissingAuthenticationToken
    status, payload = call(app, event)
    assert (status, error_code(payload)) == (413, "RequestEntityTooLarge")


def test_authentication_comes_before_body_validation(load_app):
    # Given a wrongly signed request whose body is not even JSON
    app = load_app(AUTH_MODE="signature", AUTH_KEYS_JSON=KEYS)
    event = http_api_event(signed_now(body="not json", secret=WRONG_SECRET))
    # Then the caller learns only that the signature is wrong
    status, payload = call(app, event)
    assert (status, error_code(payload)) == (401, "SignatureDoesNotMatch")
    assert payload["ResponseMetadata"]["Error"]["CodeN"] == 100010


def test_the_rate_limit_comes_before_body_validation(load_app):
    # Given a write limit of 1 per second, already spent on CreateConversation for the next
    # few seconds
    app = load_app(AUTH_MODE="signature", AUTH_KEYS_JSON=KEYS, RATE_LIMIT_WRITE_PER_SECOND="1")
    now = int(time.time())
    for window in range(now - 1, now + 10):
        key = rate_counter_key(ACCESS_KEY_ID, "CreateConversation", window)
        app.dynamodb.put_item(TableName=TABLE, Item={**key, "RequestCount": {"N": "1"}})
    # When a correctly signed request with an invalid body arrives
    status, payload = call(app, http_api_event(signed_now(body="not json")))
    # Then it is FlowLimitExceeded 429, and nothing was written
    assert (status, error_code(payload)) == (429, "FlowLimitExceeded")
    assert stored_keys(app) == []


def test_a_foreign_app_id_is_checked_after_validation_and_writes_nothing(load_app):
    app = load_app(AUTH_MODE="signature", AUTH_KEYS_JSON=KEYS)
    # Given a signed request for AppId 12 (the key has 10 and 11) with an invalid field
    status, payload = call(
        app, http_api_event(signed_now(body=body_for(app_id=12, OwnerUserId="1")))
    )
    # Then validation answers first
    assert (status, error_code(payload)) == (400, "InvalidParam")
    # When the body is valid, Then it is AccessDenied 403 with its CodeN, and nothing is written
    status, payload = call(app, http_api_event(signed_now(body=body_for(app_id=12))))
    assert (status, error_code(payload)) == (403, "AccessDenied")
    assert payload["ResponseMetadata"]["Error"]["CodeN"] == 100013
    assert stored_keys(app) == []


def test_a_rest_api_event_with_a_stage_verifies(load_app):
    # Given a REST API (payload 1.0) event for a request the SDK signed for "/prod/"
    app = load_app(AUTH_MODE="signature", AUTH_KEYS_JSON=KEYS)
    request = signed_now(body=body_for(), path="/prod/")
    event = {
        "httpMethod": "POST",
        "path": "/",
        "queryStringParameters": dict(request.query),
        "multiValueQueryStringParameters": {k: [v] for k, v in request.query.items()},
        "headers": {name.title(): value for name, value in request.headers.items()},
        "requestContext": {"requestId": "rest-id", "path": "/prod/", "stage": "prod"},
        "body": request.raw_body,
        "isBase64Encoded": False,
    }
    # When handled, Then it is created
    status, payload = call(app, event)
    assert status == 200, payload
    assert payload["Result"]["Exist"] is False


def test_iam_mode_requires_the_identity_api_gateway_verified(load_app):
    app = load_app(AUTH_MODE="iam")
    unsigned = sdk_signed_request(body=body_for())
    # Given a request that reached the function without an IAM identity, Then it is refused
    status, payload = call(app, http_api_event(unsigned))
    assert (status, error_code(payload)) == (401, "MissingAuthenticationToken")
    assert stored_keys(app) == []
    # Given the same request with the authorizer's identity, Then it is created for any AppId
    status, payload = call(app, http_api_event(unsigned, iam_caller=CALLER_ARN))
    assert status == 200
    # And it was counted against the caller's rate limit
    counters = app.dynamodb.scan(TableName=TABLE)["Items"]
    assert any(
        is_rate_counter(item) and item["PK"]["S"].endswith(f"#CreateConversation#{CALLER_ARN}")
        for item in counters
    )


def test_with_auth_off_an_unsigned_request_is_served_and_nothing_is_counted(load_app):
    app = load_app(AUTH_MODE="none")
    event = http_api_event(sdk_signed_request(body=body_for()))
    event["headers"].pop("authorization")
    status, _ = call(app, event)
    assert status == 200
    assert not any(is_rate_counter(item) for item in app.dynamodb.scan(TableName=TABLE)["Items"])


def test_no_log_line_or_response_carries_the_secret(load_app, capsys):
    # Given requests that succeed and fail in every auth step
    app = load_app(AUTH_MODE="signature", AUTH_KEYS_JSON=KEYS, POWERTOOLS_LOG_LEVEL="DEBUG")
    events = [
        http_api_event(signed_now(body=body_for())),
        http_api_event(signed_now(body=body_for(), secret=WRONG_SECRET)),
        http_api_event(signed_now(body=body_for(app_id=99))),
        http_api_event(sdk_signed_request(body=BODY)),  # stale X-Date
    ]
    bodies = [app.lambda_handler(event, CONTEXT)["body"] for event in events]
    # Then neither the responses nor anything logged contains the secret
    logged = capsys.readouterr()
    assert all(SECRET not in body for body in bodies)
    assert SECRET not in logged.out + logged.err
