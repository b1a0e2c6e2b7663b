"""Body bytes -> validated request: every rule and limit of the contract's section 2, on
CreateConversation's request (the other actions' requests share the same parser and field types).

Each limit is tried at its boundary (accepted) and just past it (refused). A refusal must carry
the right vendor code and a message that names the field by its path: a body that is not a JSON
object is JsonParsingError, a field missing, mistyped or out of range InvalidParam.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from handler.actions import batch_add_conversation_participant as add
from handler.actions.create_conversation import Request as CreateConversationRequest
from handler.errors import ApiError, ErrorCode
from handler.request_parsing import parse_request

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
# A required body field missing is InvalidParam too (MissingParameter is for the query string).
MISSING = ErrorCode.InvalidParam
INVALID = ErrorCode.InvalidParam
NOT_JSON = ErrorCode.JsonParsingError

SINGLE_CHAT: dict[str, Any] = {
    "AppId": 10,
    "OwnerUserId": 10001,
    "OtherUserId": 10002,
    "ConversationCoreInfo": {"ConversationType": 1},
}
GROUP_CHAT: dict[str, Any] = {
    "AppId": 10,
    "OwnerUserId": 10001,
    "ConversationCoreInfo": {"ConversationType": 2},
}
ABSENT = object()
PLACEHOLDER = "__value_under_test__"

# The vendor page's own request example, byte for byte (its `000000` is not valid JSON).
VENDOR_EXAMPLE = """{
    "AppId":000000,
    "InboxType":0,
    "ConversationCoreInfo":{
        "Name":"Conversation",
        "AvatarUrl":"http://xxx.xxx",
        "Description":"Your_Description",
        "Notice":"Your_Notice",
        "Ext":{
            "key":"value"
        },
        "ConversationType":2
    },
    "OwnerUserId":10001
}"""


def document_with(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of `base` with the dotted `path` set to `value`, or removed when it is ABSENT."""
    document = copy.deepcopy(base)
    *parents, name = path.split(".")
    target = document
    for parent in parents:
        target = target[parent]
    if value is ABSENT:
        target.pop(name, None)
    else:
        target[name] = value
    return document


def body_with(base: dict[str, Any], path: str, value: Any) -> bytes:
    # json.dumps escapes non-ASCII, so a lone surrogate travels as the JSON text "\ud800".
    return json.dumps(document_with(base, path, value)).encode()


def body_with_token(base: dict[str, Any], path: str, token: str) -> bytes:
    """A body whose `path` holds the JSON text `token` as written (1e400, NaN, 000000, ...)."""
    text = json.dumps(document_with(base, path, PLACEHOLDER))
    return text.replace(json.dumps(PLACEHOLDER), token).encode()


def parse_create_request(body: bytes) -> CreateConversationRequest:
    return parse_request(CreateConversationRequest, body)


def value_at(request: CreateConversationRequest, path: str) -> Any:
    value: Any = request
    for name in path.split("."):
        value = getattr(value, name)
    return value


def value_at_document(document: dict[str, Any], path: str) -> Any:
    value: Any = document
    for name in path.split("."):
        value = value[name]
    return value


def refusal(body: bytes) -> ApiError:
    with pytest.raises(ApiError) as caught:
        parse_create_request(body)
    return caught.value


def assert_refused(body: bytes, code: ErrorCode, named: str, reason: str) -> None:
    error = refusal(body)
    assert error.code is code, error.message
    assert error.message.startswith(named), error.message
    assert error.message.endswith(reason), error.message


def ext_with(entries: int) -> dict[str, str]:
    return {f"key-{index}": "value" for index in range(entries)}


def label(value: Any) -> str:
    """A short test id for a value: long strings and Ext mappings by their size."""
    if isinstance(value, str):
        return f"{len(value)}x{ascii(value[0])[1:-1]}" if value else '""'
    if isinstance(value, dict):
        if len(value) != 1:
            return f"{len(value)}-entries"
        ((key, entry),) = value.items()
        return f"key-{label(key)}:{label(entry)}"
    return str(value)


def param_id(path: str, value: Any) -> str:
    return f"{path.rsplit('.', maxsplit=1)[-1]}={label(value)}"


def at(path: str, value: Any, base: dict[str, Any] = GROUP_CHAT) -> Any:
    return pytest.param(path, value, base, id=param_id(path, value))


def past(
    path: str,
    value: Any,
    reason: str,
    *,
    base: dict[str, Any] = GROUP_CHAT,
    named: str | None = None,
) -> Any:
    return pytest.param(path, value, base, named or path, reason, id=param_id(path, value))


NAME = "ConversationCoreInfo.Name"
AVATAR_URL = "ConversationCoreInfo.AvatarUrl"
DESCRIPTION = "ConversationCoreInfo.Description"
NOTICE = "ConversationCoreInfo.Notice"
EXT = "ConversationCoreInfo.Ext"
CONVERSATION_TYPE = "ConversationCoreInfo.ConversationType"

ACCEPTED_AT_THE_LIMITS = [
    at("AppId", 1),
    at("AppId", INT32_MAX),
    at("OwnerUserId", 1),
    at("OwnerUserId", INT64_MAX),
    at("OtherUserIdStr", "", SINGLE_CHAT),
    at("OwnerUserIdStr", ""),
    at("OtherUserId", 1, SINGLE_CHAT),
    at("OtherUserId", INT64_MAX, SINGLE_CHAT),
    at("InboxType", 0),
    at("InboxType", INT32_MAX),
    at("IdempotentId", "i"),
    at("IdempotentId", "i" * 128),
    at("IdempotentId", "群" * 128),
    at(CONVERSATION_TYPE, 1, SINGLE_CHAT),
    at(CONVERSATION_TYPE, 2),
    at(CONVERSATION_TYPE, 100),
    at(NAME, "n" * 100),
    at(NAME, "群" * 100),
    # A surrogate pair is one character (U+1F600), not two.
    at(NAME, "\U0001f600" * 100),
    at(AVATAR_URL, "a" * 1024),
    at(AVATAR_URL, "群" * 1024),
    at(DESCRIPTION, "d" * 1000),
    at(DESCRIPTION, "群" * 1000),
    at(NOTICE, "n" * 1000),
    at(NOTICE, "群" * 1000),
    at(EXT, ext_with(100)),
    at(EXT, {"k": "v"}),
    at(EXT, {"k" * 64: "v"}),
    at(EXT, {"群" * 64: "v"}),
    at(EXT, {"k": ""}),
    at(EXT, {"k": "v" * 1024}),
    at(EXT, {"k": "群" * 1024}),
]


@pytest.mark.parametrize(("path", "value", "base"), ACCEPTED_AT_THE_LIMITS)
def test_a_value_at_its_limit_is_accepted_as_sent(
    path: str, value: Any, base: dict[str, Any]
) -> None:
    # Given a body whose field holds a value right at the contract's limit
    body = body_with(base, path, value)

    # When it is parsed
    request = parse_create_request(body)

    # Then the request carries the value unchanged
    assert value_at(request, path) == value


APP_ID_RANGE = "must be between 1 and 2147483647"
USER_ID_RANGE = "must be between 1 and 9223372036854775807"
# 0 is not out of range: it means "absent" (then the `…Str` twin names the user, or nobody is
# named), and whether absence is allowed depends on the field and the type.
OTHER_USER_ID_RANGE = "must be between 1 and 9223372036854775807 (0 or null mean absent)"
INBOX_TYPE_RANGE = "must be between 0 and 2147483647"
ONE_OF_THE_TYPES = "must be one of 1, 2, 100"


def too_long(limit: int) -> str:
    return f"must be at most {limit} characters"


REFUSED_PAST_THE_LIMITS = [
    past("AppId", 0, APP_ID_RANGE),
    past("AppId", -1, APP_ID_RANGE),
    past("AppId", 2**31, APP_ID_RANGE),
    past("OwnerUserId", 0, "is required"),
    past("OwnerUserId", -1, OTHER_USER_ID_RANGE),
    past("OwnerUserId", 2**63, OTHER_USER_ID_RANGE),
    past("OwnerUserId", 2**64, OTHER_USER_ID_RANGE),
    past("OwnerUserIdStr", "u" * 129, too_long(128)),
    past("OwnerUserIdStr", "群" * 129, too_long(128)),
    past("OtherUserIdStr", "u" * 129, too_long(128), base=SINGLE_CHAT),
    past("OtherUserId", -1, OTHER_USER_ID_RANGE, base=SINGLE_CHAT),
    past("OtherUserId", 2**63, OTHER_USER_ID_RANGE, base=SINGLE_CHAT),
    past("OtherUserId", -1, OTHER_USER_ID_RANGE),
    past("InboxType", -1, INBOX_TYPE_RANGE),
    past("InboxType", 2**31, INBOX_TYPE_RANGE),
    past("IdempotentId", "i" * 129, too_long(128)),
    past("IdempotentId", "群" * 129, too_long(128)),
    past(CONVERSATION_TYPE, 0, ONE_OF_THE_TYPES),
    past(CONVERSATION_TYPE, 3, ONE_OF_THE_TYPES),
    past(CONVERSATION_TYPE, 101, ONE_OF_THE_TYPES),
    past(CONVERSATION_TYPE, -1, ONE_OF_THE_TYPES),
    past(NAME, "n" * 101, too_long(100)),
    past(NAME, "群" * 101, too_long(100)),
    past(NAME, "\U0001f600" * 101, too_long(100)),
    past(AVATAR_URL, "a" * 1025, too_long(1024)),
    past(AVATAR_URL, "群" * 1025, too_long(1024)),
    past(DESCRIPTION, "d" * 1001, too_long(1000)),
    past(DESCRIPTION, "群" * 1001, too_long(1000)),
    past(NOTICE, "n" * 1001, too_long(1000)),
    past(NOTICE, "群" * 1001, too_long(1000)),
    past(EXT, ext_with(101), "must have at most 100 entries"),
    past(EXT, {"": "v"}, "must not be empty", named=f'{EXT} key ""'),
    past(EXT, {"k" * 65: "v"}, too_long(64), named=f'{EXT} key "kkkk'),
    past(EXT, {"群" * 65: "v"}, too_long(64), named=f"{EXT} key "),
    past(EXT, {"k": "v" * 1025}, too_long(1024), named=f'{EXT}["k"]'),
    past(EXT, {"k": "群" * 1025}, too_long(1024), named=f'{EXT}["k"]'),
]


@pytest.mark.parametrize(("path", "value", "base", "named", "reason"), REFUSED_PAST_THE_LIMITS)
def test_a_value_past_its_limit_is_an_invalid_param_naming_the_field(
    path: str, value: Any, base: dict[str, Any], named: str, reason: str
) -> None:
    # Given a body whose field holds a value just past the contract's limit
    body = body_with(base, path, value)

    # When it is parsed, Then it is refused with a message naming the field
    assert_refused(body, INVALID, named, reason)


INTEGER_FIELDS = [
    ("AppId", GROUP_CHAT),
    ("OwnerUserId", GROUP_CHAT),
    ("OtherUserId", SINGLE_CHAT),
    ("OtherUserId", GROUP_CHAT),
    ("InboxType", GROUP_CHAT),
    ("ConversationCoreInfo.ConversationType", GROUP_CHAT),
]
NOT_INTEGERS = ['"10001"', '"1"', "1.0", "0.0", "1e0", "true", "false", "1e400", "-1e400"]
NOT_SCALARS = ["[1]", "[]", '{"value": 1}', "{}"]


@pytest.mark.parametrize(("path", "base"), INTEGER_FIELDS)
@pytest.mark.parametrize("token", NOT_INTEGERS + NOT_SCALARS)
def test_an_integer_field_accepts_only_a_json_integer(
    path: str, base: dict[str, Any], token: str
) -> None:
    # Given an integer field holding a string, float, boolean, array or object
    body = body_with_token(base, path, token)

    # When it is parsed, Then no coercion happens: the field must be an integer
    assert_refused(body, INVALID, path, "must be an integer")


@pytest.mark.parametrize(("path", "base"), INTEGER_FIELDS)
@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(path: str, base: dict[str, Any], token: str) -> None:
    # Given a body carrying Python's non-standard JSON constants
    body = body_with_token(base, path, token)

    # When it is parsed, Then it is refused as malformed JSON, naming the constant
    assert_refused(body, NOT_JSON, "Request body is not valid JSON", f"{token} is not a JSON value")


@pytest.mark.parametrize(("path", "base"), INTEGER_FIELDS)
@pytest.mark.parametrize(
    "token", ["9" * 4000, "-" + "9" * 4000], ids=["4000-digits", "minus-4000-digits"]
)
def test_a_huge_integer_is_out_of_range(path: str, base: dict[str, Any], token: str) -> None:
    # Given an integer far past 64 bits that Python can still read
    body = body_with_token(base, path, token)

    # When it is parsed, Then the field is out of range
    error = refusal(body)
    assert error.code is INVALID
    assert error.message.startswith(f"{path} must be ")


def test_an_integer_too_long_to_read_is_malformed_json() -> None:
    # Given an integer with more digits than Python converts from text
    body = body_with_token(GROUP_CHAT, "AppId", "9" * 5000)

    # When it is parsed
    error = refusal(body)

    # Then it is refused as malformed JSON, with a short message
    assert error.code is NOT_JSON
    assert error.message.startswith("Request body is not valid JSON: ")
    assert len(error.message) < 200


STRING_FIELDS = [
    "IdempotentId",
    "ConversationCoreInfo.Name",
    "ConversationCoreInfo.AvatarUrl",
    "ConversationCoreInfo.Description",
    "ConversationCoreInfo.Notice",
]


@pytest.mark.parametrize("path", STRING_FIELDS)
@pytest.mark.parametrize("token", ["1", "1.5", "true", '["a"]', '{"a": "b"}'])
def test_a_string_field_accepts_only_a_json_string(path: str, token: str) -> None:
    # Given a string field holding a number, boolean, array or object
    body = body_with_token(GROUP_CHAT, path, token)

    # When it is parsed, Then it is refused, naming the field
    assert_refused(body, INVALID, path, "must be a string")


@pytest.mark.parametrize("token", ['"x"', "1", "true", "[]", '["x"]'])
@pytest.mark.parametrize("path", ["ConversationCoreInfo", "ConversationCoreInfo.Ext"])
def test_an_object_field_accepts_only_a_json_object(path: str, token: str) -> None:
    # Given an object field holding a scalar or an array
    body = body_with_token(GROUP_CHAT, path, token)

    # When it is parsed, Then it is refused, naming the field
    assert_refused(body, INVALID, path, "must be an object")


@pytest.mark.parametrize("token", ["1", "true", "null", '["v"]', '{"v": "w"}'])
def test_an_ext_value_must_be_a_string(token: str) -> None:
    # Given an Ext entry whose value is not a string (null included: it is a value here)
    body = body_with_token(GROUP_CHAT, "ConversationCoreInfo.Ext", '{"k": ' + token + "}")

    # When it is parsed, Then the entry is named by its key
    assert_refused(body, INVALID, 'ConversationCoreInfo.Ext["k"]', "must be a string")


REQUIRED_FIELDS = [
    ("AppId", "AppId is required"),
    ("OwnerUserId", "OwnerUserId is required"),
    ("ConversationCoreInfo", "ConversationCoreInfo is required"),
    (
        "ConversationCoreInfo.ConversationType",
        "ConversationCoreInfo.ConversationType is required",
    ),
]


@pytest.mark.parametrize("value", [ABSENT, None], ids=["absent", "null"])
@pytest.mark.parametrize(("path", "message"), REQUIRED_FIELDS)
def test_a_required_field_absent_or_null_is_an_invalid_param(
    path: str, message: str, value: Any
) -> None:
    # Given a body without a required field, or with it set to null
    body = body_with(GROUP_CHAT, path, value)

    # When it is parsed
    error = refusal(body)

    # Then it is an InvalidParam naming the field
    assert error.code is MISSING
    assert error.message == message


OPTIONAL_DEFAULTS = [
    ("OtherUserId", 0),
    ("InboxType", 0),
    ("IdempotentId", ""),
    ("ConversationCoreInfo.Name", ""),
    ("ConversationCoreInfo.AvatarUrl", ""),
    ("ConversationCoreInfo.Description", ""),
    ("ConversationCoreInfo.Notice", ""),
    ("ConversationCoreInfo.Ext", {}),
]


@pytest.mark.parametrize("value", [ABSENT, None], ids=["absent", "null"])
@pytest.mark.parametrize(("path", "default"), OPTIONAL_DEFAULTS)
def test_an_optional_field_absent_or_null_takes_its_default(
    path: str, default: Any, value: Any
) -> None:
    # Given a group chat body without an optional field, or with it set to null
    body = body_with(GROUP_CHAT, path, value)

    # When it is parsed
    request = parse_create_request(body)

    # Then the field holds its default
    assert value_at(request, path) == default


def test_an_empty_idempotent_id_counts_as_absent() -> None:
    # Given a body with IdempotentId ""
    body = body_with(GROUP_CHAT, "IdempotentId", "")

    # When it is parsed, Then the request is the one without an IdempotentId
    assert parse_create_request(body) == parse_create_request(json.dumps(GROUP_CHAT).encode())


@pytest.mark.parametrize("value", [ABSENT, None, 0], ids=["absent", "null", "zero"])
def test_a_single_chat_without_other_user_is_an_invalid_param(value: Any) -> None:
    # Given a single chat whose OtherUserId is absent, null or 0 (all mean absent)
    body = body_with(SINGLE_CHAT, "OtherUserId", value)

    # When it is parsed
    error = refusal(body)

    # Then OtherUserId is reported missing
    assert error.code is MISSING
    assert error.message == "OtherUserId is required for a single chat"


def test_a_single_chat_with_oneself_is_an_invalid_param() -> None:
    # Given a single chat whose OtherUserId is the owner
    body = body_with(SINGLE_CHAT, "OtherUserId", SINGLE_CHAT["OwnerUserId"])

    # When it is parsed
    error = refusal(body)

    # Then the rule is named
    assert error.code is INVALID
    assert error.message == "OtherUserId must name a different user from OwnerUserId"


@pytest.mark.parametrize("conversation_type", [2, 100])
@pytest.mark.parametrize("other_user_id", [ABSENT, None, 0], ids=["absent", "null", "zero"])
def test_a_group_accepts_other_user_only_as_absent(
    conversation_type: int, other_user_id: Any
) -> None:
    # Given a group or live group whose OtherUserId is absent, null or 0
    group = body_with(GROUP_CHAT, "ConversationCoreInfo.ConversationType", conversation_type)
    body = body_with(json.loads(group), "OtherUserId", other_user_id)

    # When it is parsed
    request = parse_create_request(body)

    # Then it is accepted with no other user
    assert request.OtherUserId == 0
    assert request.ConversationCoreInfo.ConversationType == conversation_type


@pytest.mark.parametrize("conversation_type", [2, 100])
@pytest.mark.parametrize("other_user_id", [1, 10002, INT64_MAX])
def test_a_group_with_another_user_is_an_invalid_param(
    conversation_type: int, other_user_id: int
) -> None:
    # Given a group or live group that names an OtherUserId
    group = body_with(GROUP_CHAT, "ConversationCoreInfo.ConversationType", conversation_type)
    body = body_with(json.loads(group), "OtherUserId", other_user_id)

    # When it is parsed
    error = refusal(body)

    # Then the rule is named
    assert error.code is INVALID
    assert error.message == (
        "OtherUserId must be absent unless ConversationCoreInfo.ConversationType is 1"
    )


def test_a_complete_single_chat_parses_into_every_field() -> None:
    # Given a body that sets every field
    document = {
        "AppId": 10,
        "OwnerUserId": 10001,
        "OtherUserId": 10002,
        "InboxType": 3,
        "IdempotentId": "req-1",
        "ConversationCoreInfo": {
            "ConversationType": 1,
            "Name": "群聊",
            "AvatarUrl": "https://example.com/a.png",
            "Description": "d",
            "Notice": "n",
            "Ext": {"k": "v"},
        },
    }

    # When it is parsed
    request = parse_create_request(json.dumps(document, ensure_ascii=False).encode())

    # Then every field holds what was sent, and the unused string twins are empty
    assert request.model_dump() == {**document, "OwnerUserIdStr": "", "OtherUserIdStr": ""}


def test_unknown_fields_are_ignored() -> None:
    # Given a valid body with extra fields at both levels, of any JSON type
    document = copy.deepcopy(SINGLE_CHAT)
    document["Unknown"] = {"nested": [1, "two", None]}
    document["ConversationCoreInfo"]["Members"] = [10001, 10002]
    document["ConversationCoreInfo"]["Status"] = "not checked"

    # When it is parsed
    request = parse_create_request(json.dumps(document).encode())

    # Then it is the same request as without them
    assert request == parse_create_request(json.dumps(SINGLE_CHAT).encode())


@pytest.mark.parametrize(
    ("path", "renamed", "message"),
    [
        ("AppId", "appid", "AppId is required"),
        ("AppId", "appId", "AppId is required"),
        ("OwnerUserId", "ownerUserId", "OwnerUserId is required"),
        ("ConversationCoreInfo", "conversationCoreInfo", "ConversationCoreInfo is required"),
        (
            "ConversationCoreInfo.ConversationType",
            "ConversationCoreInfo.conversationtype",
            "ConversationCoreInfo.ConversationType is required",
        ),
    ],
)
def test_field_names_are_case_sensitive(path: str, renamed: str, message: str) -> None:
    # Given a body that spells a required field in another case
    value = value_at_document(GROUP_CHAT, path)
    document = document_with(document_with(GROUP_CHAT, path, ABSENT), renamed, value)

    # When it is parsed
    error = refusal(json.dumps(document).encode())

    # Then the misspelt name is an unknown field, and the real one is missing
    assert error.code is MISSING
    assert error.message == message


@pytest.mark.parametrize(
    ("path", "value", "named"),
    [
        ("IdempotentId", "\ud800", "IdempotentId"),
        ("IdempotentId", "ok\udfffok", "IdempotentId"),
        ("ConversationCoreInfo.Name", "\ud800", "ConversationCoreInfo.Name"),
        ("ConversationCoreInfo.Name", "\udc00\ud800", "ConversationCoreInfo.Name"),
        ("ConversationCoreInfo.AvatarUrl", "\ud800", "ConversationCoreInfo.AvatarUrl"),
        ("ConversationCoreInfo.Description", "\ud800", "ConversationCoreInfo.Description"),
        ("ConversationCoreInfo.Notice", "\ud800", "ConversationCoreInfo.Notice"),
        ("ConversationCoreInfo.Ext", {"\ud800": "v"}, "ConversationCoreInfo.Ext key "),
        ("ConversationCoreInfo.Ext", {"k": "\ud800"}, 'ConversationCoreInfo.Ext["k"]'),
    ],
)
def test_a_lone_surrogate_is_an_invalid_param(path: str, value: Any, named: str) -> None:
    # Given a string field carrying "\ud800" as a JSON escape (valid JSON, invalid Unicode)
    body = body_with(GROUP_CHAT, path, value)
    assert b"\\ud" in body

    # When it is parsed, Then it is refused before anything could try to store it
    assert_refused(body, INVALID, named, "must be valid Unicode (no lone surrogates)")


DUPLICATE_KEYS = [
    (
        b'{"AppId":10,"AppId":11,"OwnerUserId":1,"ConversationCoreInfo":{"ConversationType":2}}',
        "AppId",
    ),
    (
        b'{"AppId":10,"OwnerUserId":1,"ConversationCoreInfo":{"ConversationType":2,'
        b'"ConversationType":1}}',
        "ConversationType",
    ),
    (
        b'{"AppId":10,"OwnerUserId":1,"ConversationCoreInfo":{"ConversationType":2,'
        b'"Ext":{"k":"a","k":"b"}}}',
        "k",
    ),
    (
        b'{"AppId":10,"OwnerUserId":1,"ConversationCoreInfo":{"ConversationType":2},'
        b'"Unknown":{"x":1,"x":2}}',
        "x",
    ),
]


@pytest.mark.parametrize(
    ("body", "key"), DUPLICATE_KEYS, ids=["top-level", "core", "ext", "unknown-field"]
)
def test_a_duplicate_key_is_an_invalid_param(body: bytes, key: str) -> None:
    # Given a body that repeats a key at any depth (JSON parsers disagree on which one wins)
    # When it is parsed
    error = refusal(body)

    # Then it is refused, naming the key
    assert error.code is INVALID
    assert error.message == f'Request body has the key "{key}" more than once'


VALID_GROUP_TEXT = b'{"AppId":10,"OwnerUserId":1,"ConversationCoreInfo":{"ConversationType":2}}'

BROKEN_BODIES = [
    pytest.param(b"", "Request body is empty; expected a JSON object", id="empty"),
    pytest.param(b" \r\n\t", "Request body is empty; expected a JSON object", id="blank"),
    pytest.param(b"\xff\xfe", "Request body is not valid UTF-8", id="not-utf8"),
    pytest.param(
        b'{"AppId":10,"ConversationCoreInfo":{"Name":"\xe7\xbe"}}',
        "Request body is not valid UTF-8",
        id="truncated-utf8",
    ),
    pytest.param(
        b'{"ConversationCoreInfo":{"Name":"\xed\xa0\x80"}}',
        "Request body is not valid UTF-8",
        id="encoded-surrogate",
    ),
    pytest.param(b"[]", "Request body must be a JSON object", id="array"),
    pytest.param(b"[" + VALID_GROUP_TEXT + b"]", "Request body must be a JSON object", id="list"),
    pytest.param(b'"text"', "Request body must be a JSON object", id="string"),
    pytest.param(b"10", "Request body must be a JSON object", id="number"),
    pytest.param(b"true", "Request body must be a JSON object", id="boolean"),
    pytest.param(b"null", "Request body must be a JSON object", id="null"),
    pytest.param(b"{", "Request body is not valid JSON", id="unterminated"),
    pytest.param(b"{'AppId': 10}", "Request body is not valid JSON", id="single-quotes"),
    pytest.param(VALID_GROUP_TEXT[:-1] + b",}", "Request body is not valid JSON", id="comma"),
    pytest.param(VALID_GROUP_TEXT + b"{}", "Request body is not valid JSON", id="trailing-data"),
    pytest.param(b"\xef\xbb\xbf" + VALID_GROUP_TEXT, "Request body is not valid JSON", id="bom"),
    pytest.param(b"[" * 65536, "Request body is not valid JSON", id="deep-arrays"),
    pytest.param(b'{"a":' * 13107, "Request body is not valid JSON", id="deep-objects"),
    pytest.param(
        VENDOR_EXAMPLE.encode(), "Request body is not valid JSON", id="vendor-example-000000"
    ),
]


@pytest.mark.parametrize(("body", "message_start"), BROKEN_BODIES)
def test_a_body_that_is_not_a_json_object_is_a_json_parsing_error(
    body: bytes, message_start: str
) -> None:
    # Given a body that is empty, not UTF-8, not JSON, or JSON but not an object
    # When it is parsed
    error = refusal(body)

    # Then it is a JsonParsingError that says what is wrong with the body as a whole
    assert error.code is NOT_JSON
    assert error.message.startswith(message_start)
    assert len(error.message) < 200


def test_the_vendor_example_message_points_at_the_leading_zeros() -> None:
    # Given the vendor page's example as written (`"AppId":000000`)
    # When it is parsed
    error = refusal(VENDOR_EXAMPLE.encode())

    # Then the message says where the JSON broke: line 2, just after the first 0
    assert error.code is NOT_JSON
    assert error.message == (
        "Request body is not valid JSON: Expecting ',' delimiter at line 2 column 14"
        " (a JSON number cannot have leading zeros)"
    )


def test_the_vendor_example_with_a_valid_app_id_parses() -> None:
    # Given the vendor page's example with its AppId written as a JSON integer
    body = VENDOR_EXAMPLE.replace('"AppId":000000', '"AppId":10').encode()

    # When it is parsed
    request = parse_create_request(body)

    # Then it is the group chat the page describes
    assert request.model_dump() == {
        "AppId": 10,
        "OwnerUserId": 10001,
        "OwnerUserIdStr": "",
        "OtherUserId": 0,
        "OtherUserIdStr": "",
        "InboxType": 0,
        "IdempotentId": "",
        "ConversationCoreInfo": {
            "ConversationType": 2,
            "Name": "Conversation",
            "AvatarUrl": "http://xxx.xxx",
            "Description": "Your_Description",
            "Notice": "Your_Notice",
            "Ext": {"key": "value"},
        },
    }


def test_nesting_that_fits_in_an_unknown_field_is_ignored() -> None:
    # Given a valid body with a moderately nested unknown field
    body = json.dumps(GROUP_CHAT)[:-1] + ', "Unknown": ' + "[" * 200 + "]" * 200 + "}"

    # When it is parsed
    request = parse_create_request(body.encode())

    # Then the nesting is ignored like any unknown field
    assert request == parse_create_request(json.dumps(GROUP_CHAT).encode())


def test_whitespace_around_the_object_is_allowed() -> None:
    # Given a valid body surrounded by JSON whitespace
    body = b" \r\n\t" + VALID_GROUP_TEXT + b"\n"

    # When it is parsed, Then it is the same request
    assert parse_create_request(body) == parse_create_request(VALID_GROUP_TEXT)


STRING_USERS: dict[str, Any] = {
    "AppId": 10,
    "OwnerUserIdStr": "alice",
    "OtherUserIdStr": "bob#1",
    "ConversationCoreInfo": {"ConversationType": 1},
}


@pytest.mark.parametrize(
    ("owner", "other"),
    [
        ({"OwnerUserIdStr": "alice"}, {"OtherUserIdStr": "bob"}),
        ({"OwnerUserId": 0, "OwnerUserIdStr": "a" * 128}, {"OtherUserIdStr": "群" * 128}),
        ({"OwnerUserIdStr": "10001"}, {"OtherUserId": 10001}),  # a mixed pair: two users
        ({"OwnerUserId": 10001}, {"OtherUserIdStr": "#s"}),
    ],
    ids=["strings", "longest", "string-and-integer-10001", "integer-and-string"],
)
def test_a_string_user_is_named_by_its_str_twin(
    owner: dict[str, Any], other: dict[str, Any]
) -> None:
    # Given a single chat whose users are named by strings, or one by each kind
    document = {"AppId": 10, "ConversationCoreInfo": {"ConversationType": 1}, **owner, **other}

    # When it is parsed
    request = parse_create_request(json.dumps(document).encode())

    # Then each user is the one its pair names: the integer if non-zero, else the string
    def named(fields: dict[str, Any]) -> tuple[int, str]:
        (value, *_) = [v for v in fields.values() if v]
        return (value, "") if isinstance(value, int) else (0, value)

    owner_user, other_user = request.required_user("OwnerUserId"), request.user("OtherUserId")
    assert (owner_user.number, owner_user.text) == named(owner)
    assert other_user is not None
    assert (other_user.number, other_user.text) == named(other)


@pytest.mark.parametrize("field", ["OwnerUserId", "OtherUserId"])
def test_an_integer_and_a_string_for_one_user_is_an_invalid_param(field: str) -> None:
    # Given a body that names one user twice: by a non-zero integer and a non-empty string
    document = {**STRING_USERS, "OwnerUserId": 0, field: 10001, f"{field}Str": "alice"}
    if field == "OtherUserId":
        document["OwnerUserIdStr"] = "carol"

    # When it is parsed
    error = refusal(json.dumps(document).encode())

    # Then the rule is named
    assert error.code is INVALID
    assert error.message == f"{field} and {field}Str name one user: give only one"


def test_owner_named_by_neither_twin_is_required() -> None:
    # Given a group whose owner is 0 and ""
    document = {**GROUP_CHAT, "OwnerUserId": 0, "OwnerUserIdStr": ""}

    # When it is parsed, Then the owner is missing
    error = refusal(json.dumps(document).encode())
    assert error.code is INVALID
    assert error.message == "OwnerUserId is required"


def test_the_same_string_user_twice_is_not_a_single_chat() -> None:
    # Given a single chat of a string user with themselves
    document = {**STRING_USERS, "OtherUserIdStr": "alice"}

    # When it is parsed, Then it is refused like an integer user with themselves
    error = refusal(json.dumps(document).encode())
    assert error.code is INVALID
    assert error.message == "OtherUserId must name a different user from OwnerUserId"


@pytest.mark.parametrize("text", [r"a\u0000b", r"tab\there", r"\u007f", r"line\nbreak"])
def test_a_string_user_with_a_control_character_is_an_invalid_param(text: str) -> None:
    # Given a string user carrying a control character (as a JSON escape)
    body = body_with_token(STRING_USERS, "OwnerUserIdStr", f'"{text}"')

    # When it is parsed, Then the field is named
    error = refusal(body)
    assert error.code is INVALID
    assert error.message.startswith("OwnerUserIdStr ")


def test_a_field_inside_a_list_is_named_by_its_index_path() -> None:
    # Given a participant batch whose fourth entry has an out-of-range user
    infos: list[dict[str, Any]] = [{"ParticipantUserId": 10 + n} for n in range(3)]
    infos.append({"ParticipantUserId": 0})
    body = {"AppId": 10, "ConversationShortId": 1, "Operator": 1, "ParticipantInfos": infos}

    # When it is parsed
    with pytest.raises(ApiError) as caught:
        parse_request(add.Request, json.dumps(body).encode())

    # Then the message names the entry as Field[3].Sub
    assert caught.value.code is INVALID
    assert caught.value.message == (
        "ParticipantInfos[3].ParticipantUserId must be between 1 and 9223372036854775807"
    )
