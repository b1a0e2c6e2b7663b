"""Logs and metrics of the real handler: correlation ids, and an EMF metric for every outcome."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import botocore.endpoint
import pytest
from botocore.awsrequest import AWSResponse
from ops_support import emf_documents, group_chat, metric_names

from handler.telemetry import (
    DYNAMODB_RETRY,
    error_metric,
    success_metric,
)
from tests.support.events import LambdaContext, http_api_event
from tests.support.faults import answer_instead, error_response

THROTTLING_MESSAGE = "Rate of requests exceeds the allowed throughput."
CREATED = success_metric("CreateConversation")


def invoke(app: ModuleType, event: dict[str, Any]) -> dict[str, Any]:
    return app.lambda_handler(event, LambdaContext())


def only_emf_document(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    documents = emf_documents(capsys.readouterr().out)
    assert len(documents) == 1, documents
    return documents[0]


@pytest.fixture
def throttle(app: ModuleType, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Answer the next N DynamoDB attempts with ThrottlingException (N: append to the list).

    Registered first on the handler's own client, so it answers in moto's place (the attempt
    never reaches moto); botocore's backoff sleep is skipped, since these tests count retries and
    do not time them.
    """
    remaining: list[int] = []

    def before_send(request: Any, **_: Any) -> AWSResponse | None:
        if remaining and remaining[0] > 0:
            remaining[0] -= 1
            throttled = error_response(400, "ThrottlingException", THROTTLING_MESSAGE)
            return answer_instead(request, throttled)
        return None

    monkeypatch.setattr(botocore.endpoint.time, "sleep", lambda _seconds: None)
    events = app.store._client.meta.events
    events.register_first("before-send.dynamodb", before_send, unique_id="test-throttle")
    try:
        yield remaining
    finally:
        events.unregister("before-send.dynamodb", unique_id="test-throttle")


def test_a_created_conversation_is_counted_in_the_configured_namespace(
    app: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a new group chat
    capsys.readouterr()
    # When it is created
    response = invoke(app, http_api_event(group_chat(IdempotentId="metrics-created")))
    # Then one EMF document counts it, under the namespace and service from the settings
    assert response["statusCode"] == 200
    document = only_emf_document(capsys)
    directive = document["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == app.settings.metrics_namespace
    assert directive["Dimensions"] == [["service"]]
    assert document["service"] == app.settings.service_name
    assert CREATED == "CreateConversation.Succeeded"
    assert metric_names(document) == {CREATED}
    assert document[CREATED] == [1.0]
    # And its audit fields say which action, which conversation, and that it was new
    assert document["action"] == "CreateConversation"
    assert document["existed"] is False
    short_id = json.loads(response["body"])["Result"]["ConversationShortId"]
    assert document["conversation_short_id"] == short_id


def test_another_actions_success_is_counted_under_its_own_name(
    app: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a group
    created = invoke(app, http_api_event(group_chat()))
    short_id = json.loads(created["body"])["Result"]["ConversationShortId"]
    capsys.readouterr()
    # When it is read with BatchGetConversations
    query = {"Action": "BatchGetConversations", "Version": "2020-12-01"}
    body = {"AppId": group_chat()["AppId"], "ConversationShortId": [short_id]}
    response = invoke(app, http_api_event(body, query=query))
    # Then its one EMF document counts a BatchGetConversations success, nothing else
    assert response["statusCode"] == 200, response["body"]
    document = only_emf_document(capsys)
    assert metric_names(document) == {"BatchGetConversations.Succeeded"}
    assert document["action"] == "BatchGetConversations"


def test_an_existing_conversation_is_a_success_marked_existed(
    app: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a conversation created with an IdempotentId
    invoke(app, http_api_event(group_chat(IdempotentId="metrics-existing")))
    capsys.readouterr()
    # When the same request comes again
    response = invoke(app, http_api_event(group_chat(IdempotentId="metrics-existing")))
    # Then the EMF document counts the success, and its audit field says it existed
    assert json.loads(response["body"])["Result"]["Exist"] is True
    document = only_emf_document(capsys)
    assert metric_names(document) == {CREATED}
    assert document[CREATED] == [1.0]
    assert document["existed"] is True


@pytest.mark.parametrize(
    ("event", "code"),
    [
        (http_api_event(group_chat(), query={"Version": "2020-12-01"}), "MissingParameter"),
        (http_api_event(group_chat(AppId="10")), "InvalidParam"),
        (http_api_event(b"{not json"), "JsonParsingError"),
        (
            http_api_event(group_chat(), query={"Action": "Nope", "Version": "2020-12-01"}),
            "InvalidActionOrVersion",
        ),
        (http_api_event(group_chat(), method="GET"), "MethodNotAllowed"),
        (http_api_event("x" * (64 * 1024 + 1)), "RequestEntityTooLarge"),
    ],
)
def test_each_refused_request_is_counted_under_its_error_code(
    app: ModuleType,
    capsys: pytest.CaptureFixture[str],
    log_output: Any,
    event: dict[str, Any],
    code: str,
) -> None:
    # Given a request the API refuses
    capsys.readouterr()
    # When it is handled
    response = invoke(app, event)
    # Then the metric named after its code is counted, and the log line names the code
    assert json.loads(response["body"])["ResponseMetadata"]["Error"]["Code"] == code
    document = only_emf_document(capsys)
    assert metric_names(document) == {error_metric(code)}
    assert document[error_metric(code)] == [1.0]
    [line] = [json.loads(line) for line in log_output.getvalue().splitlines()]
    assert (line["message"], line["code"], line["http_status"]) == (
        "request refused",
        code,
        response["statusCode"],
    )


def test_a_throttled_attempt_is_counted_as_a_dynamodb_retry(
    app: ModuleType, capsys: pytest.CaptureFixture[str], throttle: list[int]
) -> None:
    # Given DynamoDB throttles the first attempt of the next call
    throttle.append(1)
    capsys.readouterr()
    # When a conversation is created
    response = invoke(app, http_api_event(group_chat(IdempotentId="metrics-retry")))
    # Then botocore's retry succeeded, and the invocation counts one retry beside the creation
    assert response["statusCode"] == 200
    document = only_emf_document(capsys)
    assert metric_names(document) == {CREATED, DYNAMODB_RETRY}
    assert document[DYNAMODB_RETRY] == [1.0]


def test_storage_that_stays_throttled_counts_every_retry_and_the_503(
    app: ModuleType, capsys: pytest.CaptureFixture[str], throttle: list[int]
) -> None:
    # Given DynamoDB throttles every attempt
    throttle.append(1_000)
    capsys.readouterr()
    # When a conversation is requested
    response = invoke(app, http_api_event(group_chat(IdempotentId="metrics-throttled")))
    # Then the caller gets ServiceUnavailableTemp, and each retry botocore made is counted
    assert response["statusCode"] == 503
    document = only_emf_document(capsys)
    retries = app.settings.dynamodb_max_attempts - 1
    assert retries >= 1, "the settings under test let botocore retry"
    assert metric_names(document) == {error_metric("ServiceUnavailableTemp"), DYNAMODB_RETRY}
    assert document[DYNAMODB_RETRY] == [1.0] * retries
    # And the throttled attempts wrote nothing: once throttling stops, the same request creates
    throttle.clear()
    again = invoke(app, http_api_event(group_chat(IdempotentId="metrics-throttled")))
    assert json.loads(again["body"])["Result"]["Exist"] is False


def test_every_output_line_carries_its_own_request_id(
    app: ModuleType, log_output: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given two requests with their API Gateway request ids
    first, second = "apigw-request-first", "apigw-request-second"
    capsys.readouterr()
    # When both are handled, one created and one refused
    created = invoke(app, http_api_event(group_chat(), request_id=first))
    success_document = only_emf_document(capsys)
    invoke(app, http_api_event(b"[]", request_id=second))
    # Then the success's one line, its EMF document, names its request and conversation
    short_id = json.loads(created["body"])["Result"]["ConversationShortId"]
    assert success_document["request_id"] == first
    assert success_document["conversation_short_id"] == short_id
    assert success_document["service"] == app.settings.service_name
    # And the refusal's log line names its request as correlation id: the only log line written
    lines = [json.loads(line) for line in log_output.getvalue().splitlines()]
    assert [(line["message"], line["correlation_id"]) for line in lines] == [
        ("request refused", second),
    ]


@pytest.mark.parametrize("body", [group_chat(), b"[]"], ids=["created", "refused"])
def test_without_a_gateway_request_id_the_lambda_request_id_correlates(
    app: ModuleType, log_output: Any, capsys: pytest.CaptureFixture[str], body: Any
) -> None:
    # Given an event whose requestContext has no requestId
    event = http_api_event(body)
    del event["requestContext"]["requestId"]
    context = LambdaContext()
    capsys.readouterr()
    # When it is handled
    response = app.lambda_handler(event, context)
    # Then the Lambda request id is both the RequestId answered and the id its output carries
    answer = json.loads(response["body"])
    assert answer["ResponseMetadata"]["RequestId"] == context.aws_request_id
    if response["statusCode"] == 200:
        assert only_emf_document(capsys)["request_id"] == context.aws_request_id
    else:
        [line] = [json.loads(line) for line in log_output.getvalue().splitlines()]
        assert line["correlation_id"] == context.aws_request_id
