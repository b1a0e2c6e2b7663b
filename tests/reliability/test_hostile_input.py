"""Hostile input, generated: whatever API Gateway hands the handler, it answers in the envelope.

Over 10,000 generated events per run, through the real handler over moto (in process, so the
run stays short), for all twelve actions: bodies generated from each action's own request
model (its JSON Schema) and then mutated (wrong types, out-of-range, huge and deeply nested
values, lone surrogates, NaN and Infinity, integer overflow, removed fields), random JSON, duplicate
keys, bytes that are not UTF-8, broken base64, odd or missing query strings, wrong methods and
content types, in both payload versions. Ids and users are often drawn from conversations
seeded in the table, so that requests get past validation into every action's domain rules.

For each: no exception escapes, no 5xx, the answer is a well-formed BaseResponse echoing the
Action asked for, whose Result has the action's shape or whose Error is a row of the contract's
table (README section 5); a request refused as malformed made no DynamoDB call at all, and one
refused by a domain rule (ConversationNotFound, OwnerShouldBeEqual, ...) read but wrote nothing.

The profile is derandomized and prints a reproduction blob on failure, so CI runs are repeatable.
"""

from __future__ import annotations

import base64
import functools
import itertools
import json
import re
import secrets
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
from handler.api import action_names, find_action_module
from handler.domain.ids import ID_EPOCH_MS, ID_RANDOM_BITS, Entropy, new_short_id
from handler.store import table_definition
from tests.support.backends import Service, make_client, new_service
from tests.support.contract import INFO_FIELDS
from tests.support.events import LambdaContext
from tests.support.members import ERRORS, PARTICIPANT_FIELDS, SCANNED_FIELDS

METADATA_FIELDS = {"RequestId", "Action", "Version", "Service", "Region"}
MAX_BODY = 64 * 1024
VERSION = "2020-12-01"
STORED_BEFORE_RESET = 25
ACTIONS = action_names()
MODULES = {action: find_action_module(action) for action in ACTIONS}
WRITES = {"TransactWriteItems", "UpdateItem", "PutItem", "DeleteItem", "BatchWriteItem"}
# Refused as malformed: before any storage. Any other refusal is a domain rule, after reads.
MALFORMED = {
    "MissingParameter", "InvalidActionOrVersion", "MethodNotAllowed", "RequestEntityTooLarge",
    "JsonParsingError", "InvalidParam", "ConversationShortIdsHasInvalidElem",
}  # fmt: skip
NO_5XX_ERRORS = {code: row for code, row in ERRORS.items() if row[0] < 500}
# The conversation object's fields always present (actions.md); the …Str twins and OtherUserId
# only where they apply.
ALWAYS_IN_INFO = (INFO_FIELDS | {"ConversationId"}) - {"OtherUserId"}
OPTIONAL_IN_INFO = {"OwnerUserIdStr", "CreatorUserIdStr", "OtherUserId", "OtherUserIdStr"}

settings.register_profile(
    "reliability",
    derandomize=True,
    print_blob=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
PROFILE = settings.get_profile("reliability")
# Examples per test; together at least 10,000 events per run (the mutated test runs per action).
EXAMPLES = {"json": 2500, "mutated": 300, "bytes": 2000, "routes": 2500}
EVENTS_PER_EXAMPLE = 16
EVENTS_PER_RUN = EXAMPLES["json"] + EXAMPLES["bytes"] + EXAMPLES["routes"]
EVENTS_PER_RUN += EXAMPLES["mutated"] * len(ACTIONS)

# --- the seeded table ------------------------------------------------------------------------

# Seeded conversations get fixed ids: drawn at a fixed instant with random bits 1, 2, 3.
SEED_MS = ID_EPOCH_MS + 86_400_000
SEED_APP = 10
GROUP_ID, LIVE_ID, SINGLE_ID = (new_short_id(SEED_MS, bits) for bits in (1, 2, 3))
SEEDED_IDS = [GROUP_ID, LIVE_ID, SINGLE_ID]
OWNER, OTHER = 10001, 10002
MEMBERS = [20001, 20002, 20003, 20004]
USERS = [OWNER, OTHER, *MEMBERS, 30001]

pytestmark = pytest.mark.heavy


def seed(service: Service) -> None:
    """A group, a live group (each of OWNER, members and a manager) and a single chat."""
    bits = iter(range(1, 1 + len(SEEDED_IDS)))
    real = app.entropy
    app.entropy = Entropy(
        now_ms=lambda: SEED_MS,
        random_bits=lambda n: next(bits) if n == ID_RANDOM_BITS else secrets.randbits(n),
    )
    try:
        owner = {"AppId": SEED_APP, "OwnerUserId": OWNER}
        for conversation_type in (2, 100):
            core = {"ConversationType": conversation_type}
            send_ok("CreateConversation", {**owner, "ConversationCoreInfo": core})
        single = {**owner, "OtherUserId": OTHER, "ConversationCoreInfo": {"ConversationType": 1}}
        send_ok("CreateConversation", single)
    finally:
        app.entropy = real
    for short_id in (GROUP_ID, LIVE_ID):
        infos = [{"ParticipantUserId": user} for user in MEMBERS]
        infos[1]["Role"] = 2
        body = {"AppId": SEED_APP, "ConversationShortId": short_id, "Operator": OWNER}
        send_ok("BatchAddConversationParticipant", {**body, "ParticipantInfos": infos})
    service.calls.clear()


def send_ok(action: str, body: dict[str, Any]) -> None:
    sent = event(json.dumps(body), query=query(action))
    raw = app.lambda_handler(sent, LambdaContext())  # type: ignore[arg-type]
    assert raw["statusCode"] == 200, raw["body"]


# --- events ----------------------------------------------------------------------------------


def query(action: str) -> dict[str, str]:
    return {"Action": action, "Version": VERSION}


def event(
    body: str | None,
    *,
    version: str = "2.0",
    method: str = "POST",
    query: dict[str, str] | None = None,
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
actions = st.sampled_from(ACTIONS)
lone_surrogates = st.sampled_from(["\ud800", "\udbff", "\udc00", "\udfff"])
hostile_text = st.text(st.characters() | lone_surrogates, max_size=40)
huge_text = st.builds(
    lambda unit, count: unit * count,
    st.sampled_from(["x", "é", "群", "\U0001f600", "\\", '"']),
    st.integers(min_value=0, max_value=MAX_BODY + 1024),
)
boundary_ints = st.sampled_from(
    [0, -1, 1, 2, 7, 100, 2**31 - 1, 2**31, 2**53 - 1, 2**53, 2**63 - 1, 2**63, 2**64, -(2**63),
     10**30]
)  # fmt: skip
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


# --- bodies from each action's request model ---------------------------------------------------

# Fields whose values are drawn from the seeded table half of the time, so that requests reach
# the domain: an AppId, a conversation, a user.
SEEDED_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "AppId": st.just(SEED_APP),
    "ConversationShortId": st.sampled_from(SEEDED_IDS),
    "OwnerUserId": st.sampled_from(USERS),
    "OtherUserId": st.sampled_from(USERS),
    "ParticipantUserId": st.sampled_from(USERS),
    "Operator": st.sampled_from(USERS),
    "ParticipantUserIds": st.lists(st.sampled_from(USERS), min_size=1, max_size=5, unique=True),
}
MAX_TEXT = 24
MAX_ITEMS = 6


def from_schema(
    schema: dict[str, Any], defs: dict[str, Any], name: str | None = None
) -> st.SearchStrategy[Any]:
    """Values a JSON Schema (as pydantic writes one) allows; named fields also from the seeds.

    Built once per schema node (the schemas are cached, so their ids are stable): a strategy
    built anew on every draw costs Hypothesis more than the draw.
    """
    key = (id(schema), name)
    if key not in _BUILT:
        strategy = _from_schema(schema, defs)
        seeded = SEEDED_VALUES.get(name or "")
        if seeded is not None:
            if schema.get("type") == "array" and name == "ConversationShortId":
                seeded = st.lists(st.sampled_from(SEEDED_IDS), min_size=1, max_size=4)
            strategy = seeded | strategy
        _BUILT[key] = strategy
    return _BUILT[key]


_BUILT: dict[tuple[int, str | None], st.SearchStrategy[Any]] = {}


def _from_schema(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[Any]:
    if "$ref" in schema:
        return from_schema(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in schema:
        return st.one_of([from_schema(branch, defs) for branch in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "object":
        kind = "record" if "properties" in schema else "map"
    assert kind in _BY_TYPE, f"a request schema this generator does not know: {schema}"
    return _BY_TYPE[kind](schema, defs)


def _integers(schema: dict[str, Any], _: dict[str, Any]) -> st.SearchStrategy[int]:
    low, high = schema.get("minimum"), schema.get("maximum")
    bounds = [bound for bound in (low, high) if bound is not None]
    return st.integers(low, high) | st.sampled_from(bounds or [0])


def _arrays(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[list[Any]]:
    low = schema.get("minItems", 0)
    items = from_schema(schema["items"], defs)
    some = st.lists(items, min_size=low, max_size=max(low, min(schema.get("maxItems", 9), 6)))
    if "maxItems" not in schema:
        return some
    # A full batch: one item drawn, copied with a distinct id in each (drawing 50 or 100 items
    # one by one would cost most of the run's time)
    return some | st.builds(_full_batch, items, st.just(schema["maxItems"]))


def _full_batch(item: Any, size: int) -> list[Any]:
    if isinstance(item, int):
        start = max(1, min(item, 2**53 - 1 - size))
        return list(range(start, start + size))
    if isinstance(item, dict) and "ParticipantUserId" in item:
        return [{**item, "ParticipantUserId": 30_000 + index} for index in range(size)]
    return [item] * size


def _maps(schema: dict[str, Any], defs: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    names = schema.get("propertyNames", {})
    keys = _strings(max(names.get("minLength", 0), 1), names.get("maxLength"))
    values = from_schema(schema.get("additionalProperties", {"type": "string"}), defs)
    return st.dictionaries(keys, values, max_size=min(schema.get("maxProperties", 9), 5))


def _strings(low: int, high: int | None) -> st.SearchStrategy[str]:
    short = st.text(min_size=low, max_size=max(low, min(high or MAX_TEXT, MAX_TEXT)))
    if high is None:
        return short
    return short | st.sampled_from(["x", "群", "\U0001f600"]).map(lambda unit: unit * high)


# How an integer user and its …Str twin are given: mostly one of them, as README section 3 says.
TWIN_CHOICES = st.sampled_from(["number"] * 5 + ["text"] * 3 + ["neither", "both"])


@st.composite
def _objects(draw: st.DrawFn, schema: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    properties = schema["properties"]
    required = set(schema.get("required", ()))
    twins = {name: draw(TWIN_CHOICES) for name in properties if f"{name}Str" in properties}
    value: dict[str, Any] = {}
    for name, field_schema in properties.items():
        twin = twins.get(name) or twins.get(name.removesuffix("Str"))
        if twin is not None:
            side = "text" if name.endswith("Str") else "number"
            if twin in ("both", side):
                value[name] = draw(_user_values(field_schema, defs, name, side))
        elif name in required or draw(st.booleans()):
            value[name] = draw(from_schema(field_schema, defs, name))
    return value


def _user_values(
    schema: dict[str, Any], defs: dict[str, Any], name: str, side: str
) -> st.SearchStrategy[Any]:
    """A user field: 4 in 5 a clean user name, else anything its schema allows."""
    key = (id(schema), f"user:{name}")
    if key not in _BUILT:
        _BUILT[key] = st.one_of([USER_NAMES[side]] * 4 + [from_schema(schema, defs, name)])
    return _BUILT[key]


USER_NAMES = {
    "number": st.sampled_from(USERS) | st.integers(1, 2**63 - 1),
    "text": st.text(string.ascii_letters + string.digits + "#群é", min_size=1, max_size=24),
}


@st.composite
def _creates(draw: st.DrawFn) -> dict[str, Any]:
    """CreateConversation bodies, 3 in 4 with OtherUserId given just when a single chat needs it
    (a rule between two fields that the schema cannot state)."""
    schema = schema_of("CreateConversation")
    body = draw(_objects(schema, schema.get("$defs", {})))
    core = body.get("ConversationCoreInfo")
    if draw(st.integers(0, 3)) and isinstance(core, dict):
        if core.get("ConversationType") == 1:
            if not body.get("OtherUserId") and not body.get("OtherUserIdStr"):
                body["OtherUserId"] = draw(st.sampled_from(USERS))
        else:
            body.pop("OtherUserId", None)
            body.pop("OtherUserIdStr", None)
    return body


_BY_TYPE: dict[str, Callable[[dict[str, Any], dict[str, Any]], st.SearchStrategy[Any]]] = {
    "integer": _integers,
    "string": lambda schema, _: _strings(schema.get("minLength", 0), schema.get("maxLength")),
    "boolean": lambda _, __: st.booleans(),
    "null": lambda _, __: st.none(),
    "array": _arrays,
    "record": _objects,
    "map": _maps,
}


@functools.cache
def schema_of(action: str) -> dict[str, Any]:
    return dict(MODULES[action].Request.model_json_schema())


@functools.cache
def requests_of(action: str) -> st.SearchStrategy[dict[str, Any]]:
    """Bodies of `action` built from its request model's JSON Schema."""
    if action == "CreateConversation":
        return _creates()
    schema = schema_of(action)
    return _objects(schema, schema.get("$defs", {}))


@functools.cache
def field_paths(action: str) -> list[tuple[str | int, ...]]:
    """Every field of `action`'s request, nested ones included (an array's through item 0)."""
    schema = schema_of(action)
    defs = schema.get("$defs", {})
    paths: list[tuple[str | int, ...]] = []

    def walk(node: dict[str, Any], prefix: tuple[str | int, ...]) -> None:
        if "$ref" in node:
            walk(defs[node["$ref"].rsplit("/", 1)[-1]], prefix)
        for branch in node.get("anyOf", ()):
            walk(branch, prefix)
        if node.get("type") == "array":
            paths.append((*prefix, 0))
            walk(node["items"], (*prefix, 0))
        if "additionalProperties" in node:
            paths.append((*prefix, "k"))
        for name, child in node.get("properties", {}).items():
            paths.append((*prefix, name))
            walk(child, (*prefix, name))

    walk(schema, ())
    return sorted(set(paths), key=str)


ABSENT = object()
hostile_values = st.just(ABSENT) | json_values | boundary_ints | huge_text | st.just(float("nan"))


@st.composite
def mutated_requests(draw: st.DrawFn, action: str) -> dict[str, Any]:
    """A body of `action` from its model, a few fields replaced by hostile values or removed."""
    request = draw(requests_of(action))
    paths = field_paths(action)
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        path = draw(st.sampled_from(paths))
        value = draw(hostile_values)
        parent: Any = request
        for part, following in itertools.pairwise(path):
            empty: Any = [] if isinstance(following, int) else {}
            parent = _child(parent, part, empty)
            if parent is None:
                break
        else:
            _set(parent, path[-1], value)
    return request


def _child(parent: Any, part: str | int, empty: Any) -> Any:
    if isinstance(part, int):
        if not isinstance(parent, list):
            return None
        if not parent:
            parent.append(empty)
        child = parent[0]
    else:
        if not isinstance(parent, dict):
            return None
        if not isinstance(parent.get(part), type(empty)):
            parent[part] = empty
        child = parent[part]
    return child if isinstance(child, dict | list) else None


def _set(parent: Any, part: str | int, value: Any) -> None:
    if isinstance(parent, list):
        if value is ABSENT:
            parent.clear()
        else:
            parent[:1] = [value]
    elif isinstance(parent, dict):
        if value is ABSENT:
            parent.pop(part, None)
        else:
            parent[part] = value


any_request = actions.flatmap(lambda action: st.tuples(st.just(action), requests_of(action)))


@st.composite
def textual_tricks(draw: st.DrawFn) -> tuple[str, str]:
    """(action, a JSON text json.dumps would never write) for that action."""
    action, request = draw(any_request)
    valid = dumps(request, ascii_only=True)
    depth = draw(st.integers(min_value=1, max_value=200_000))
    digits = draw(st.integers(min_value=1, max_value=20_000))
    key = draw(st.sampled_from([*request, "Other"])) if request else "AppId"
    text = draw(
        st.sampled_from(
            [
                "[" * depth + "]" * depth,
                '{"a":' * depth + "1" + "}" * depth,
                valid[:-1] + f', "{key}": 1}}' if len(valid) > 2 else '{"a": 1, "a": 2}',
                '{"AppId":000000,"ConversationShortId":1}',
                '{"AppId": ' + "9" * digits + ', "ConversationShortId": 1}',
                '{"AppId": NaN, "ConversationShortId": Infinity, "Limit": -Infinity}',
                '{"AppId": 1e400, "ConversationShortId": -0.0}',
                '{"AppId": 10, "ConversationShortId": [1e400]}',
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
    return action, text


# --- checks ----------------------------------------------------------------------------------


def sendable(text: str) -> str:
    """What an echo of `text` holds: lone surrogates cannot be sent as UTF-8."""
    return re.sub("[\ud800-\udfff]", "\ufffd", text)


def check_answer(raw: Any, sent: dict[str, Any], calls: list[str]) -> tuple[str, int, str]:
    """Assert the answer is a well-formed BaseResponse; return (Action, status, Code or Result)."""
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
    asked = {str(k): str(v) for k, v in (sent.get("queryStringParameters") or {}).items()}
    # The Action asked for is echoed, even an unknown one; the Version asked for, or ours
    assert metadata["Action"] == sendable(asked.get("Action", ""))
    assert metadata["Version"] == (sendable(asked.get("Version", "")) or VERSION)
    assert (metadata["Service"], metadata["Region"]) == ("rtc", "cn-north-1")
    if status == 200:
        action = metadata["Action"]
        assert set(payload) == {"ResponseMetadata", "Result"}
        assert "Error" not in metadata
        check_result(action, payload["Result"])
        if action == "CreateConversation":
            assert WRITES & set(calls), "a created or found conversation must come from storage"
        return action, status, "Result"
    assert set(payload) == {"ResponseMetadata"}
    error = metadata["Error"]
    code = error["Code"]
    assert code in NO_5XX_ERRORS, code
    expected_status, expected_code_n = NO_5XX_ERRORS[code]
    assert status == expected_status
    assert error.get("CodeN") == expected_code_n
    assert set(error) == ({"CodeN"} if expected_code_n else set()) | {"Code", "Message"}
    assert isinstance(error["Message"], str) and error["Message"]
    if code in MALFORMED:
        # Refused means refused before storage: not a write, not even a read
        assert calls == [], (code, calls)
    else:
        # A domain rule refused it: it read what it needed, and wrote nothing
        assert calls, code
        assert not WRITES & set(calls), (code, calls)
    return metadata["Action"], status, code


def check_result(action: str, result: dict[str, Any]) -> None:
    """The Result has the action's shape: its model's fields, strictly typed, and no others."""
    result_model = getattr(MODULES[action], "Result", None)
    if result_model is None:  # an action whose vendor Result is empty
        assert result == {}
        return
    result_model.model_validate(result, strict=True)
    assert set(result) <= set(result_model.model_fields), set(result)
    for info in conversation_objects(result):
        assert ALWAYS_IN_INFO <= set(info) <= ALWAYS_IN_INFO | OPTIONAL_IN_INFO, set(info)
        assert 1 <= info["ConversationShortId"] <= 2**53 - 1
        assert info["ConversationId"] == str(info["ConversationShortId"])
        assert (info["Status"], info["OnlineCount"]) == (0, 0)
        assert ("OtherUserId" in info) == (info["ConversationType"] == 1)
    if action == "BatchGetConversationParticipant":
        assert all(set(item) == PARTICIPANT_FIELDS for item in result["Participants"])
        assert sum(item["Role"] == 1 for item in result["Participants"]) <= 1
    if action == "ScanConversationParticipantList":
        ids = {"ConversationShortId", "ParticipantUserId", "ParticipantUserIdStr"}
        for item in result["Participants"]:
            assert set(item) <= SCANNED_FIELDS | ids | {"OperatorStr"}
            assert set(item) <= ids or set(item) >= SCANNED_FIELDS
        assert -(2**31) <= result["NextCursor"] <= 2**31 - 1
    if "NextCursor" in result and not result["HasMore"]:
        assert result["NextCursor"] == -1
    if "FailedUserIds" in result:
        assert all(isinstance(user, int) and user > 0 for user in result["FailedUserIds"])


def conversation_objects(result: dict[str, Any]) -> list[dict[str, Any]]:
    if "ConversationInfo" in result:
        assert result["ConversationId"] == str(result["ConversationShortId"])
        assert result["ConversationInfo"]["ConversationShortId"] == result["ConversationShortId"]
        return [result["ConversationInfo"]]
    return list(result.get("ConversationCoreInfos", result.get("ConversationInfos", [])))


def _no_constants(name: str) -> Any:
    raise AssertionError(f"the answer holds {name}, which is not JSON")


# --- tests -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_client() -> Iterator[Any]:
    """One moto for the module's tests (starting it costs more than a test's table does)."""
    with mock_aws():
        yield make_client()


@pytest.fixture
def moto_service(moto_client: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Service]:
    """A fresh, seeded table for each test, so that each test's run repeats exactly; dropped
    afterwards, since moto copies every table it holds on each transaction."""
    service = new_service(moto_client, monkeypatch)
    seed(service)
    yield service
    moto_client.delete_table(TableName=service.table_name)


Sender = Callable[[dict[str, Any]], tuple[str, int, str]]


@pytest.fixture
def send(moto_service: Service) -> Iterator[Sender]:
    outcomes: Counter[tuple[str, int, str]] = Counter()
    stored = [0]

    def sender(sent: dict[str, Any]) -> tuple[str, int, str]:
        moto_service.calls.clear()
        raw = app.lambda_handler(sent, LambdaContext("lambda-request-id"))  # type: ignore[arg-type]
        outcome = check_answer(raw, sent, moto_service.calls)
        outcomes[outcome] += 1
        stored[0] += bool(WRITES & set(moto_service.calls))
        if stored[0] >= STORED_BEFORE_RESET:
            # moto copies every table for each transaction (to roll it back): keep them small
            recreate_table(moto_service)
            stored[0] = 0
        return outcome

    yield sender
    codes: Counter[str] = Counter()
    successes: Counter[str] = Counter()
    for (action, _, code), count in outcomes.items():
        codes[code] += count
        if code == "Result":
            successes[action] += count
    print(f"\n{sum(outcomes.values())} events: {dict(codes.most_common())}")
    print(f"succeeded: {dict(successes.most_common())}")


def recreate_table(service: Service) -> None:
    service.client.delete_table(TableName=service.table_name)
    service.client.create_table(**table_definition(service.table_name))
    seed(service)


def run_examples(name: str, strategy: st.SearchStrategy[dict[str, Any]], send: Sender) -> None:
    """Send EXAMPLES[name] generated events and check that all of them were sent.

    Each Hypothesis example is a batch of EVENTS_PER_EXAMPLE events: the engine's own work per
    example (bookkeeping, mutating earlier examples) would otherwise cost more than the events.
    A failing batch still shrinks, and the assertion names the event that failed.
    """
    sent = [0]

    @settings(PROFILE, max_examples=-(-EXAMPLES[name] // EVENTS_PER_EXAMPLE))
    @given(st.lists(strategy, min_size=EVENTS_PER_EXAMPLE, max_size=EVENTS_PER_EXAMPLE))
    def examples(hostile_events: list[dict[str, Any]]) -> None:
        for hostile_event in hostile_events:
            sent[0] += 1
            send(hostile_event)

    examples()
    assert sent[0] >= EXAMPLES[name]


def test_random_json_bodies(send: Sender) -> None:
    # Given any JSON value, written ASCII-escaped or raw (raw lone surrogates included), for
    # any action
    events = st.builds(
        lambda value, ascii_only, version, action: event(
            dumps(value, ascii_only=ascii_only), version=version, query=query(action)
        ),
        json_values,
        st.booleans(),
        versions,
        actions,
    )
    # When each is sent / Then each gets a well-formed answer (checked in `send`)
    run_examples("json", events, send)


@pytest.mark.parametrize("action", ACTIONS)
def test_valid_requests_with_hostile_fields(send: Sender, action: str) -> None:
    # Given bodies generated from the action's request model, with fields replaced by wrong
    # types, out-of-range or huge values, NaN, lone surrogates, or removed; some left valid,
    # sent plain or base64-encoded
    def encode(request: dict[str, Any], ascii_only: bool, base64_body: bool, version: str) -> Any:
        text = dumps(request, ascii_only=ascii_only)
        if not base64_body:
            return event(text, version=version, query=query(action))
        raw = text.encode("utf-8", "surrogatepass")
        body = base64.b64encode(raw).decode()
        return event(body, version=version, query=query(action), is_base64=True)

    events = st.builds(encode, mutated_requests(action), st.booleans(), st.booleans(), versions)
    # When each is sent / Then each gets a well-formed answer; only accepted ones write
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
        hostile_text.map(lambda text: (text, False)),
        huge_text.map(lambda text: (text, False)),
    )
    plain = st.builds(lambda body, action: (action, *body), bodies, actions)
    tricks = textual_tricks().map(lambda trick: (trick[0], trick[1], False))
    events = st.builds(
        lambda body, version: event(
            body[1], version=version, query=query(body[0]), is_base64=body[2]
        ),
        plain | tricks,
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
    action_values = st.sampled_from(
        [*ACTIONS, "", " ", "createconversation", "CreateConversation ", "Create_Conversation",
         "BatchGetConversation", "Action", "ReapDissolved", "X" * 70]
    )  # fmt: skip
    queries = st.one_of(
        st.none(),
        actions.map(query),
        st.dictionaries(st.sampled_from(["Action", "Version", "action", "version", "X"]),
                        action_values | st.sampled_from([VERSION, "2020-12-1", ""])
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
        st.none(), any_request.map(lambda request: dumps(request[1], ascii_only=False))
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
    assert EVENTS_PER_RUN >= 10_000


def test_generated_bodies_cover_every_field_of_every_action() -> None:
    # Given each action's request model / Then the mutations can reach each of its fields
    for action in ACTIONS:
        model_fields = set(MODULES[action].Request.model_fields)
        assert model_fields <= {path[0] for path in field_paths(action)}, action
