"""Hostile input, generated: whatever API Gateway hands the handler, it answers in the envelope.

Over 10,000 generated events per run, through the real handler over moto (in process, so the
run stays short): random JSON, wrong types, huge and deeply nested values, lone surrogates, NaN
and Infinity, integer overflow, duplicate keys, bytes that are not UTF-8, broken base64, odd or
missing query strings, wrong methods and content types, in both payload versions. For each: no
exception escapes, no 5xx, the answer is a well-formed BaseResponse whose Error is a row of the
contract's table (section 5), and a refused request made no DynamoDB call at all.

The profile is derandomized and prints a reproduction blob on failure, so CI runs are repeatable.
"""

from __future__ import annotations

import base64
import json
import string
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from handler import app
from handler.store import table_definition
from tests.support.backends import Service, make_client, new_service
from tests.support.contract import CONTRACT_ERRORS, INFO_FIELDS
from tests.support.events import CREATE_QUERY, LambdaContext

METADATA_FIELDS = {"RequestId", "Action", "Version", "Service", "Region"}
MAX_BODY = 64 * 1024
STORED_BEFORE_RESET = 50

settings.register_profile(
    "reliability",
    derandomize=True,
    print_blob=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile("reliability")
# Examples per test; together at least 10,000 events per run.
EXAMPLES = {"json": 2500, "mutated": 3000, "bytes": 2000, "routes": 2500}


# --- events ----------------------------------------------------------------------------------


def event(
    body: str | None,
    *,
    version: str = "2.0",
    method: str = "POST",
    query: dict[str, str] | None = CREATE_QUERY,
    headers: dict[str, str] | None = None,
    is_base64: bool = False,
) -> dict[str, Any]:
    """An API Gateway proxy event as the given payload version carries it."""
    request_id = str(uuid.uuid4())
    headers = {"content-type": "application/json"} if headers is None else headers
    if version == "2.0":
        return {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": "/",
            "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
            "headers": headers,
            "queryStringParameters": query,
            "requestContext": {"http": {"method": method, "path": "/"}, "requestId": request_id},
            "body": body,
            "isBase64Encoded": is_base64,
        }
    return {
        "resource": "/",
        "path": "/",
        "httpMethod": method,
        "headers": headers,
        "queryStringParameters": query,
        "requestContext": {"requestId": request_id, "httpMethod": method},
        "body": body,
        "isBase64Encoded": is_base64,
    }


versions = st.sampled_from(["2.0", "1.0"])
lone_surrogates = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"])
hostile_text = st.text(st.characters() | lone_surrogates, max_size=40)
huge_text = st.builds(
    lambda unit, count: unit * count,
    st.sampled_from(["x", "é", "群", "\U0001f600", "\\", '"']),
    st.integers(min_value=0, max_value=MAX_BODY + 1024),
)
boundary_ints = st.sampled_from(
    [0, -1, 1, 2**31 - 1, 2**31, 2**53, 2**63 - 1, 2**63, 2**64, -(2**63), 10**30]
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | boundary_ints
    | st.floats(allow_nan=True, allow_infinity=True)
    | hostile_text
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(hostile_text, children, max_size=4)
    ),
    max_leaves=12,
)


def dumps(value: Any, *, ascii_only: bool) -> str:
    # allow_nan: NaN and Infinity go out as the bare words a careless client would send.
    return json.dumps(value, ensure_ascii=ascii_only, allow_nan=True)


@st.composite
def valid_requests(draw: st.DrawFn) -> dict[str, Any]:
    conversation_type = draw(st.sampled_from([1, 2, 100]))
    owner = draw(st.integers(min_value=1, max_value=2**63 - 1))
    request: dict[str, Any] = {
        "AppId": draw(st.integers(min_value=1, max_value=2**31 - 1)),
        "OwnerUserId": owner,
        "ConversationCoreInfo": {
            "ConversationType": conversation_type,
            "Name": draw(st.text(max_size=100)),
            "Ext": draw(
                st.dictionaries(st.text(min_size=1, max_size=64), st.text(max_size=40), max_size=5)
            ),
        },
    }
    if conversation_type == 1:
        request["OtherUserId"] = draw(
            st.integers(min_value=1, max_value=2**63 - 1).filter(lambda other: other != owner)
        )
    if draw(st.booleans()):
        request["InboxType"] = draw(st.integers(min_value=0, max_value=2**31 - 1))
    if draw(st.booleans()):
        request["IdempotentId"] = draw(st.text(min_size=1, max_size=128))
    return request


FIELD_PATHS = [
    ("AppId",), ("OwnerUserId",), ("OtherUserId",), ("InboxType",), ("IdempotentId",),
    ("ConversationCoreInfo",), ("ConversationCoreInfo", "ConversationType"),
    ("ConversationCoreInfo", "Name"), ("ConversationCoreInfo", "AvatarUrl"),
    ("ConversationCoreInfo", "Description"), ("ConversationCoreInfo", "Notice"),
    ("ConversationCoreInfo", "Ext"), ("ConversationCoreInfo", "Ext", "k"),
]  # fmt: skip
ABSENT = object()


@st.composite
def mutated_requests(draw: st.DrawFn) -> dict[str, Any]:
    """A valid request with a few fields replaced by hostile values or removed."""
    request = draw(valid_requests())
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        path = draw(st.sampled_from(FIELD_PATHS))
        value = draw(
            st.just(ABSENT) | json_values | boundary_ints | huge_text | st.just(float("nan"))
        )
        parent = request
        for part in path[:-1]:
            if not isinstance(parent.get(part), dict):
                parent[part] = {}
            parent = parent[part]
        if value is ABSENT:
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = value
    return request


@st.composite
def textual_tricks(draw: st.DrawFn) -> str:
    """JSON texts json.dumps would never write."""
    valid = dumps(draw(valid_requests()), ascii_only=True)
    depth = draw(st.integers(min_value=1, max_value=200_000))
    digits = draw(st.integers(min_value=1, max_value=20_000))
    key = draw(st.sampled_from(["AppId", "OwnerUserId", "ConversationCoreInfo", "Other"]))
    return draw(
        st.sampled_from(
            [
                "[" * depth + "]" * depth,
                '{"a":' * depth + "1" + "}" * depth,
                valid[:-1] + f', "{key}": 1}}',  # the key again, at the end
                '{"AppId":000000,"OwnerUserId":1,"ConversationCoreInfo":{"ConversationType":2}}',
                '{"AppId": ' + "9" * digits + ', "OwnerUserId": 1}',
                '{"AppId": NaN, "OwnerUserId": Infinity, "InboxType": -Infinity}',
                '{"AppId": 1e400, "OwnerUserId": -0.0}',
                "\ufeff" + valid,
                valid + "garbage",
                valid.replace('"', "'"),
                valid[: len(valid) // 2],
                "",
                "   \n\t ",
                "null",
                '"a string"',
                "[1, 2, 3]",
            ]
        )
    )


# --- checks ----------------------------------------------------------------------------------


def check_answer(raw: Any, sent: dict[str, Any], calls: list[str]) -> tuple[int, str]:
    """Assert the answer is a well-formed BaseResponse; return (status, Code or "Result")."""
    assert isinstance(raw, dict)
    assert set(raw) == {"statusCode", "headers", "body", "isBase64Encoded"}
    status = raw["statusCode"]
    assert isinstance(status, int)
    assert status < 500, raw["body"][:300]
    # A 405 also names the one method allowed, as HTTP requires
    allow = {"Allow": "POST"} if status == 405 else {}
    assert raw["headers"] == {"Content-Type": "application/json; charset=utf-8", **allow}
    assert raw["isBase64Encoded"] is False
    raw["body"].encode("utf-8")  # the Lambda runtime must be able to send it
    payload = json.loads(raw["body"], parse_constant=_no_constants)
    metadata = payload["ResponseMetadata"]
    assert set(metadata) - {"Error"} == METADATA_FIELDS
    assert metadata["RequestId"] == sent["requestContext"]["requestId"]
    assert (metadata["Action"], metadata["Version"], metadata["Service"]) == (
        "CreateConversation", "2020-12-01", "rtc",
    )  # fmt: skip
    assert metadata["Region"] == "cn-north-1"
    if status == 200:
        assert set(payload) == {"ResponseMetadata", "Result"}
        assert "Error" not in metadata
        check_result(payload["Result"])
        assert calls, "a created or found conversation must come from storage"
        return status, "Result"
    assert set(payload) == {"ResponseMetadata"}
    error = metadata["Error"]
    code = error["Code"]
    assert code in CONTRACT_ERRORS, code
    expected_status, expected_code_n = CONTRACT_ERRORS[code]
    assert status == expected_status
    assert error.get("CodeN") == expected_code_n
    assert set(error) == ({"CodeN"} if expected_code_n else set()) | {"Code", "Message"}
    assert isinstance(error["Message"], str) and error["Message"]
    # Refused means refused before storage: not a write, not even a read
    assert calls == []
    return status, code


def check_result(result: dict[str, Any]) -> None:
    info = result["ConversationInfo"]
    assert set(result) == {"ConversationShortId", "Exist", "ConversationInfo"}
    assert isinstance(result["Exist"], bool)
    assert set(info) - {"OtherUserId"} == INFO_FIELDS
    assert 1 <= result["ConversationShortId"] == info["ConversationShortId"] <= 2**53 - 1
    assert ("OtherUserId" in info) == (info["ConversationType"] == 1)
    assert info["CreatorUserId"] == info["OwnerUserId"]


def _no_constants(name: str) -> Any:
    raise AssertionError(f"the answer holds {name}, which is not JSON")


# --- tests -----------------------------------------------------------------------------------


@pytest.fixture
def moto_service(monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    with mock_aws():
        yield new_service(make_client(), monkeypatch)


Sender = Callable[[dict[str, Any]], tuple[int, str]]


@pytest.fixture
def send(moto_service: Service) -> Iterator[Sender]:
    outcomes: Counter[tuple[int, str]] = Counter()
    stored = [0]

    def sender(sent: dict[str, Any]) -> tuple[int, str]:
        moto_service.calls.clear()
        raw = app.lambda_handler(sent, LambdaContext("lambda-request-id"))  # type: ignore[arg-type]
        outcome = check_answer(raw, sent, moto_service.calls)
        outcomes[outcome] += 1
        stored[0] += outcome[0] == 200
        if stored[0] >= STORED_BEFORE_RESET:
            # moto copies every table for each transaction (to roll it back): keep them small
            recreate_table(moto_service)
            stored[0] = 0
        return outcome

    yield sender
    print(f"\n{sum(outcomes.values())} events: {dict(outcomes.most_common())}")


def recreate_table(service: Service) -> None:
    service.client.delete_table(TableName=service.table_name)
    service.client.create_table(**table_definition(service.table_name))


def run_examples(name: str, strategy: st.SearchStrategy[dict[str, Any]], send: Sender) -> None:
    """Send EXAMPLES[name] generated events and check that all of them were sent."""
    sent = [0]

    @settings(PROFILE, max_examples=EXAMPLES[name])
    @given(strategy)
    def examples(hostile_event: dict[str, Any]) -> None:
        sent[0] += 1
        send(hostile_event)

    examples()
    assert sent[0] >= EXAMPLES[name]


def test_random_json_bodies(send: Sender) -> None:
    # Given any JSON value, written ASCII-escaped or raw (raw lone surrogates included)
    events = st.builds(
        lambda value, ascii_only, version: event(
            dumps(value, ascii_only=ascii_only), version=version
        ),
        json_values,
        st.booleans(),
        versions,
    )
    # When each is sent / Then each gets a well-formed answer (checked in `send`)
    run_examples("json", events, send)


def test_valid_requests_with_hostile_fields(send: Sender) -> None:
    # Given valid requests with fields replaced by wrong types, out-of-range or huge values,
    # NaN, lone surrogates, or removed; some left valid, sent plain or base64-encoded
    def encode(request: dict[str, Any], ascii_only: bool, base64_body: bool, version: str) -> Any:
        text = dumps(request, ascii_only=ascii_only)
        if not base64_body:
            return event(text, version=version)
        raw = text.encode("utf-8", "surrogatepass")
        return event(base64.b64encode(raw).decode(), version=version, is_base64=True)

    events = st.builds(encode, mutated_requests(), st.booleans(), st.booleans(), versions)
    # When each is sent / Then each gets a well-formed answer, and only accepted ones write
    run_examples("mutated", events, send)


def test_bytes_base64_and_malformed_json_texts(send: Sender) -> None:
    # Given bytes that are not UTF-8 (base64-encoded as API Gateway sends binary bodies),
    # broken base64, and JSON texts with duplicate keys, NaN, overflowing or deeply nested values
    not_utf8 = st.binary(max_size=300).map(lambda data: data + b"\xff\xfe\x80")
    bodies = st.one_of(
        not_utf8.map(lambda data: (base64.b64encode(data).decode(), True)),
        st.binary(max_size=300).map(lambda data: (base64.b64encode(data).decode(), True)),
        st.text(string.printable, max_size=100).map(lambda text: (text, True)),
        st.text(string.ascii_letters + "+/=", max_size=100).map(lambda text: (text, True)),
        st.integers(min_value=0, max_value=MAX_BODY * 2).map(lambda size: ("QUFB" * size, True)),
        textual_tricks().map(lambda text: (text, False)),
        hostile_text.map(lambda text: (text, False)),
        huge_text.map(lambda text: (text, False)),
    )
    events = st.builds(
        lambda body, version: event(body[0], version=version, is_base64=body[1]),
        bodies,
        versions,
    )
    # When each is sent / Then each gets a well-formed answer (checked in `send`)
    run_examples("bytes", events, send)


def test_methods_query_strings_and_content_types(send: Sender) -> None:
    # Given any method, any or no query string, any content type, any body presence
    # POST half of the time, so that query strings and bodies get checked too
    posts = st.sampled_from(["POST", "post", "Post"])
    methods = st.one_of(
        posts,
        posts,
        st.sampled_from(["GET", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", ""]),
        st.text(string.ascii_letters, min_size=1, max_size=12),
    )
    queries = st.one_of(
        st.none(),
        st.just(CREATE_QUERY),
        st.dictionaries(st.sampled_from(["Action", "Version", "action", "version", "X"]),
                        st.sampled_from(["CreateConversation", "2020-12-01", "", " ",
                                         "createconversation", "2020-12-1", "CreateConversation "])
                        | hostile_text, max_size=4),
        st.dictionaries(hostile_text, hostile_text, max_size=3),
    )  # fmt: skip
    headers = st.one_of(
        st.none(),
        st.just({}),
        st.dictionaries(
            st.sampled_from(["content-type", "Content-Type", "CONTENT-TYPE", "accept"]),
            st.sampled_from(
                ["application/json", "text/plain", "application/x-www-form-urlencoded",
                 "multipart/form-data; boundary=x", "application/json; charset=latin-1", ""]
            ) | st.text(string.printable, max_size=30),
            max_size=3,
        ),
    )  # fmt: skip
    bodies = st.one_of(
        st.none(), valid_requests().map(lambda request: dumps(request, ascii_only=False))
    )
    events = st.builds(
        lambda method, query, header, body, version: event(
            body, version=version, method=method, query=query, headers=header
        ),
        methods,
        queries,
        headers,
        bodies,
        versions,
    )
    # When each is sent / Then each gets a well-formed answer (checked in `send`)
    run_examples("routes", events, send)


def test_the_runs_add_up_to_at_least_ten_thousand_events() -> None:
    # Given the examples each test above generates / Then together they pass 10,000
    assert sum(EXAMPLES.values()) >= 10_000
