"""API Gateway events in, vendor envelopes out: payload versions, body limits, routing, shapes."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from handler.actions import Dependencies, create_conversation
from handler.api import (
    Route,
    action_names,
    check_route,
    error_payload,
    requested_route,
    success_payload,
)
from handler.domain.ids import Entropy
from handler.domain.members import MemberLimits
from handler.domain.model import Conversation
from handler.domain.ports import Inserted, NewConversation
from handler.domain.users import UserRef
from handler.errors import ApiError, ErrorCode, describe
from handler.gateway import HttpRequest, http_response, parse_event
from handler.models import conversation_info
from handler.request_parsing import parse_request
from tests.support.contract import CONTRACT_ERRORS, INFO_FIELDS
from tests.support.events import CREATE_QUERY
from tests.support.records import a_conversation

MAX_BODY = 64 * 1024
BODY = '{"AppId":10,"OwnerUserId":10001,"ConversationCoreInfo":{"ConversationType":2}}'
METADATA = {
    "RequestId": "req-1",
    "Action": "CreateConversation",
    "Version": "2020-12-01",
    "Service": "rtc",
    "Region": "cn-north-1",
}
ROUTE = Route(action_name="CreateConversation", version="2020-12-01")


def http_api_event(**overrides: Any) -> dict[str, Any]:
    """Payload 2.0 as an HTTP API sends it."""
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "Action=CreateConversation&Version=2020-12-01",
        "headers": {"Content-Type": "application/json", "X-Date": "20251126T050000Z"},
        "queryStringParameters": dict(CREATE_QUERY),
        "requestContext": {
            "http": {"method": "POST", "path": "/"},
            "requestId": "http-api-request-id",
        },
        "body": BODY,
        "isBase64Encoded": False,
    }
    return {**event, **overrides}


def rest_api_event(**overrides: Any) -> dict[str, Any]:
    """Payload 1.0 as a REST API proxy integration sends it."""
    event: dict[str, Any] = {
        "resource": "/",
        "path": "/",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", "X-Date": "20251126T050000Z"},
        "multiValueHeaders": {"Content-Type": ["application/json"]},
        "queryStringParameters": dict(CREATE_QUERY),
        "multiValueQueryStringParameters": {k: [v] for k, v in CREATE_QUERY.items()},
        "requestContext": {"requestId": "rest-api-request-id", "httpMethod": "POST"},
        "body": BODY,
        "isBase64Encoded": False,
    }
    return {**event, **overrides}


def request(
    method: str = "POST",
    query: dict[str, str] | None = None,
    raw_body: str = BODY,
    body_is_base64: bool = False,
) -> HttpRequest:
    return HttpRequest(
        method=method,
        query=CREATE_QUERY if query is None else query,
        headers={},
        raw_body=raw_body,
        body_is_base64=body_is_base64,
        request_id="req-1",
    )


def api_error(call: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        call()
    return caught.value


def conversation(conversation_type: int, other: UserRef | None) -> Conversation:
    owner = UserRef(number=10001)
    members = 1 if other is None else 2
    return a_conversation(
        short_id=1234567890123,
        app_id=10,
        conversation_type=conversation_type,
        owner=owner,
        other=other,
        create_time=1764133200,
        modify_time=1764133200,
        member_count=members,
        next_join_number=1 + members,
    )


def create_result(created: Conversation, *, existed: bool) -> create_conversation.Result:
    info = conversation_info(created)
    return create_conversation.Result(
        ConversationShortId=info.ConversationShortId,
        ConversationId=info.ConversationId,
        Exist=existed,
        ConversationInfo=info,
    )


# --- gateway: events -------------------------------------------------------------------------


@pytest.mark.parametrize("make_event", [http_api_event, rest_api_event], ids=["2.0", "1.0"])
def test_both_payload_versions_read_the_same_request(make_event: Any) -> None:
    # Given the same POST as an HTTP API (2.0) and a REST API (1.0) event
    event = make_event()

    # When it is read
    parsed = parse_event(event, fallback_request_id="lambda-request-id")

    # Then method, query, lower-cased headers, body and the gateway's request id come through
    assert parsed.method == "POST"
    assert parsed.query == CREATE_QUERY
    assert parsed.headers == {"content-type": "application/json", "x-date": "20251126T050000Z"}
    assert parsed.body() == BODY.encode()
    assert parsed.request_id == event["requestContext"]["requestId"]


def test_the_2_0_method_comes_from_the_request_context() -> None:
    # Given an HTTP API GET
    event = http_api_event(requestContext={"http": {"method": "GET"}, "requestId": "r"})

    # When it is read, Then the method is GET
    assert parse_event(event, fallback_request_id="f").method == "GET"


def test_the_1_0_method_comes_from_http_method_in_any_case() -> None:
    # Given a REST API event whose method is lower case
    event = rest_api_event(httpMethod="delete")

    # When it is read, Then the method is upper case
    assert parse_event(event, fallback_request_id="f").method == "DELETE"


@pytest.mark.parametrize("make_event", [http_api_event, rest_api_event], ids=["2.0", "1.0"])
def test_the_lambda_request_id_stands_in_when_the_gateway_gives_none(make_event: Any) -> None:
    # Given an event whose request context has no request id
    event = make_event(requestContext={"http": {"method": "POST"}})

    # When it is read with the Lambda request id as fallback
    parsed = parse_event(event, fallback_request_id="lambda-request-id")

    # Then the Lambda request id is used
    assert parsed.request_id == "lambda-request-id"


def test_a_rest_api_event_without_query_headers_or_body_reads_as_empty() -> None:
    # Given a REST API event where API Gateway sent nulls
    event = rest_api_event(queryStringParameters=None, headers=None, body=None)

    # When it is read
    parsed = parse_event(event, fallback_request_id="f")

    # Then query and headers are empty, the body is empty, and the route check asks for Action
    assert (parsed.query, parsed.headers, parsed.body()) == ({}, {}, b"")
    assert api_error(lambda: check_route(parsed)).code is ErrorCode.MissingParameter


# --- gateway: bodies -------------------------------------------------------------------------


def test_a_base64_body_is_decoded() -> None:
    # Given a base64 body, as API Gateway sends binary or non-text media types
    payload = '{"ConversationCoreInfo":{"Name":"群"}}'.encode()
    event = http_api_event(body=base64.b64encode(payload).decode(), isBase64Encoded=True)

    # When the body is read, Then it is the original bytes
    assert parse_event(event, fallback_request_id="f").body() == payload


@pytest.mark.parametrize("raw", ["not base64!", "eyJ", "eyJhIjoxfQ", "eyJh\nIjoxfQ=="])
def test_a_broken_base64_body_is_a_json_parsing_error(raw: str) -> None:
    # Given a body flagged as base64 that is not valid base64
    broken = request(raw_body=raw, body_is_base64=True)

    # When it is read
    error = api_error(broken.body)

    # Then it is a JsonParsingError saying so (the body cannot be read as JSON text)
    assert error.code is ErrorCode.JsonParsingError
    assert error.message == "Request body is not valid base64"


def test_a_base64_body_of_exactly_64_kib_is_accepted() -> None:
    # Given a base64 body that decodes to exactly 64 KiB
    payload = b"x" * MAX_BODY
    exact = request(raw_body=base64.b64encode(payload).decode(), body_is_base64=True)

    # When it is read, Then it is the original bytes
    assert exact.body() == payload


def test_a_base64_body_of_64_kib_plus_1_is_too_large() -> None:
    # Given a base64 body that decodes to one byte over 64 KiB
    oversized = request(
        raw_body=base64.b64encode(b"x" * (MAX_BODY + 1)).decode(), body_is_base64=True
    )

    # When it is read, Then it is refused as too large
    assert api_error(oversized.body).code is ErrorCode.RequestEntityTooLarge


def test_a_base64_body_too_long_to_fit_is_refused_before_decoding() -> None:
    # Given a base64 text longer than any encoding of 64 KiB, and not even valid base64
    longest_fitting = len(base64.b64encode(b"x" * MAX_BODY))
    oversized = request(raw_body="!" * (longest_fitting + 1), body_is_base64=True)

    # When it is read
    error = api_error(oversized.body)

    # Then its size alone refuses it: it was never decoded (that would be JsonParsingError)
    assert error.code is ErrorCode.RequestEntityTooLarge
    assert error.message == "Request body is larger than 65536 bytes"


def test_a_plain_body_of_exactly_64_kib_is_accepted() -> None:
    # Given a text body of exactly 64 KiB
    exact = request(raw_body="x" * MAX_BODY)

    # When it is read, Then it is accepted as is
    assert exact.body() == b"x" * MAX_BODY


@pytest.mark.parametrize(
    "raw",
    ["x" * (MAX_BODY + 1), "群" * (MAX_BODY // 3 + 1)],
    ids=["ascii", "multi-byte-under-64k-characters"],
)
def test_a_plain_body_over_64_kib_is_too_large(raw: str) -> None:
    # Given a text body one byte over 64 KiB, counted in UTF-8 bytes, not characters
    assert len(raw.encode()) > MAX_BODY
    oversized = request(raw_body=raw)

    # When it is read, Then it is refused as too large
    error = api_error(oversized.body)
    assert error.code is ErrorCode.RequestEntityTooLarge
    assert error.message == "Request body is larger than 65536 bytes"


def test_a_plain_body_that_cannot_be_utf_8_is_a_json_parsing_error() -> None:
    # Given a text body holding a lone surrogate (not encodable as UTF-8)
    broken = request(raw_body='{"AppId":"\ud800"}')

    # When it is read, Then it is the contract's JsonParsingError ("not UTF-8")
    error = api_error(broken.body)
    assert error.code is ErrorCode.JsonParsingError
    assert error.message == "Request body is not valid UTF-8"


def test_http_response_is_utf_8_json_with_its_content_type() -> None:
    # Given a payload with non-ASCII text
    payload = {"Name": "群"}

    # When it is turned into an API Gateway response
    response = http_response(200, payload)

    # Then the status, content type and body are as the contract says, characters unescaped
    assert response == {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json; charset=utf-8"},
        "body": '{"Name":"群"}',
        "isBase64Encoded": False,
    }


# --- api: route check ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", ""])
def test_any_method_but_post_is_not_allowed(method: str) -> None:
    # Given a request with the right query but another method
    # When its route is checked
    error = api_error(lambda: check_route(request(method=method)))

    # Then it is MethodNotAllowed, naming the method
    assert error.code is ErrorCode.MethodNotAllowed
    assert error.message == f"Method {method or '(none)'} is not allowed; use POST"


def test_the_method_is_checked_before_the_query() -> None:
    # Given a GET without Action or Version
    # When its route is checked, Then the method is what is reported
    error = api_error(lambda: check_route(request(method="GET", query={})))
    assert error.code is ErrorCode.MethodNotAllowed


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "Action is required in the query string"),
        ({"Version": "2020-12-01"}, "Action is required in the query string"),
        ({"Action": "", "Version": "2020-12-01"}, "Action is required in the query string"),
        ({"Action": "CreateConversation"}, "Version is required in the query string"),
        (
            {"Action": "CreateConversation", "Version": ""},
            "Version is required in the query string",
        ),
    ],
)
def test_a_missing_action_or_version_is_a_missing_parameter(
    query: dict[str, str], message: str
) -> None:
    # Given a POST whose query lacks Action or Version
    # When its route is checked
    error = api_error(lambda: check_route(request(query=query)))

    # Then it is MissingParameter, naming what is missing
    assert error.code is ErrorCode.MissingParameter
    assert error.message == message


@pytest.mark.parametrize(
    "query",
    [
        {"Action": "GetConversation", "Version": "2020-12-01"},
        {"Action": "CreateConversation", "Version": "2021-01-01"},
        {"Action": "createconversation", "Version": "2020-12-01"},
        {"Action": "CreateConversation,CreateConversation", "Version": "2020-12-01"},
    ],
)
def test_any_other_action_and_version_pair_is_invalid(query: dict[str, str]) -> None:
    # Given a POST with an Action/Version pair this service does not serve
    # When its route is checked
    error = api_error(lambda: check_route(request(query=query)))

    # Then it is InvalidActionOrVersion, naming the Version and the Actions to use
    assert error.code is ErrorCode.InvalidActionOrVersion
    assert "Version is 2020-12-01" in error.message
    assert ", ".join(action_names()) in error.message


def test_a_post_with_the_right_action_and_version_passes() -> None:
    # Given the request this service serves, with extra query parameters
    query = {**CREATE_QUERY, "Extra": "1"}

    # When its route is checked, Then it passes to the CreateConversation module
    assert check_route(request(query=query)) is create_conversation


@pytest.mark.parametrize("action", action_names())
def test_every_action_routes_to_its_module_and_is_echoed(action: str) -> None:
    # Given a POST for any of the twelve actions
    routed = request(query={"Action": action, "Version": "2020-12-01"})

    # When its route is checked, Then its own module answers, and the metadata echoes it
    assert action == check_route(routed).ACTION
    assert requested_route(routed) == Route(action_name=action, version="2020-12-01")


# --- api: command and envelopes --------------------------------------------------------------


class _RecordingStore:
    """Takes the one insert the create makes, and says it was written."""

    def __init__(self) -> None:
        self.inserted: list[NewConversation] = []

    def insert(self, new: NewConversation) -> Inserted:
        self.inserted.append(new)
        return Inserted()


def test_absent_other_user_and_idempotent_id_reach_the_domain_as_none() -> None:
    # Given a group request with OtherUserId 0 and IdempotentId ""
    parsed = parse_request(
        create_conversation.Request,
        b'{"AppId":10,"OwnerUserId":10001,"OtherUserId":0,"IdempotentId":"",'
        b'"ConversationCoreInfo":{"ConversationType":2}}',
    )
    store = _RecordingStore()
    entropy = Entropy(now_ms=lambda: 1764133200000, random_bits=lambda bits: 1)
    dependencies = Dependencies(store, entropy, MemberLimits(group=200, live_group=10000))  # type: ignore[arg-type]

    # When the action runs
    create_conversation.run(parsed, dependencies)

    # Then neither keys the conversation: no single-chat and no IdempotentId record
    (new,) = store.inserted
    assert (new.single_chat, new.idempotency, new.conversation.other) == (None, None, None)
    assert [member.user for member in new.members] == [UserRef(number=10001)]


def test_a_single_chat_success_has_the_contract_shape() -> None:
    # Given a newly created single chat
    result = create_result(conversation(1, UserRef(number=10002)), existed=False)

    # When the success payload is built
    payload = success_payload(ROUTE, "req-1", "cn-north-1", result)

    # Then it is the contract's example: every field present, OtherUserId included
    assert payload == {
        "ResponseMetadata": METADATA,
        "Result": {
            "ConversationShortId": 1234567890123,
            "ConversationId": "1234567890123",
            "Exist": False,
            "ConversationInfo": {
                "ConversationShortId": 1234567890123,
                "ConversationId": "1234567890123",
                "AppId": 10,
                "InboxType": 0,
                "ConversationType": 1,
                "Name": "",
                "AvatarUrl": "",
                "Description": "",
                "Notice": "",
                "Ext": {},
                "OwnerUserId": 10001,
                "CreatorUserId": 10001,
                "OtherUserId": 10002,
                "Status": 0,
                "CreateTime": 1764133200,
                "ModifyTime": 1764133200,
                "MemberCount": 2,
                "OnlineCount": 0,
            },
        },
    }


@pytest.mark.parametrize("conversation_type", [2, 100])
def test_a_group_success_omits_other_user_and_counts_one_member(conversation_type: int) -> None:
    # Given an existing group or live group
    result = create_result(conversation(conversation_type, None), existed=True)

    # When the success payload is built
    payload = success_payload(ROUTE, "req-1", "eu-west-1", result)

    # Then every field but OtherUserId is present, with Exist true and one member
    info = payload["Result"]["ConversationInfo"]
    assert set(info) == INFO_FIELDS
    assert (info["ConversationType"], info["MemberCount"]) == (conversation_type, 1)
    assert payload["Result"]["Exist"] is True
    assert payload["ResponseMetadata"]["Region"] == "eu-west-1"
    assert json.loads(json.dumps(payload)) == payload


@pytest.mark.parametrize("code", list(ErrorCode), ids=lambda code: code.name)
def test_an_error_payload_carries_code_n_only_where_the_table_has_one(code: ErrorCode) -> None:
    # Given any error code of the table
    body = describe(ApiError(code, "what went wrong"))

    # When the error payload is built
    payload = error_payload(ROUTE, "req-1", "cn-north-1", body)

    # Then it is the metadata plus Error, with CodeN exactly where the table has one
    expected_error: dict[str, Any] = {"Code": code.name, "Message": "what went wrong"}
    _, code_n = CONTRACT_ERRORS[code.name]
    if code_n is not None:
        expected_error["CodeN"] = code_n
    assert payload == {"ResponseMetadata": {**METADATA, "Error": expected_error}}


def test_string_users_answer_with_their_str_twins_and_integer_zero() -> None:
    # Given a single chat between a string user and an integer user
    owner = UserRef(text="alice#1")
    chat = Conversation(
        **{
            **vars(conversation(1, UserRef(number=10002))),
            "owner": owner,
            "creator": owner,
        }
    )

    # When its ConversationInfo is answered
    info = success_payload(ROUTE, "req-1", "cn-north-1", create_result(chat, existed=False))[
        "Result"
    ]["ConversationInfo"]

    # Then the string user has integer 0 and the Str twin, the integer user no Str field
    assert (info["OwnerUserId"], info["OwnerUserIdStr"]) == (0, "alice#1")
    assert (info["CreatorUserId"], info["CreatorUserIdStr"]) == (0, "alice#1")
    assert info["OtherUserId"] == 10002
    assert "OtherUserIdStr" not in info


def test_an_error_echoes_the_action_and_version_that_were_asked_for() -> None:
    # Given a request for an action this service does not have, in another Version
    asked = request(query={"Action": "NoSuchAction", "Version": "1999-01-01"})

    # When its error payload is built
    error = api_error(lambda: check_route(asked))
    payload = error_payload(requested_route(asked), "req-1", "cn-north-1", describe(error))

    # Then the metadata says what was asked, not what exists
    metadata = payload["ResponseMetadata"]
    assert (metadata["Action"], metadata["Version"]) == ("NoSuchAction", "1999-01-01")
    assert metadata["Error"]["Code"] == "InvalidActionOrVersion"
