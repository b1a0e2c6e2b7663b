"""Contract tests: the real handler against moto and against Amazon DynamoDB Local.

Each test runs once per backend, so any divergence between moto and the real engine fails.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from tests.support.backends import Service
from tests.support.contract import INFO_FIELDS
from tests.support.faults import error_response, inject

GROUP = {
    "AppId": 10,
    "OwnerUserId": 10001,
    "ConversationCoreInfo": {"ConversationType": 2, "Name": "team", "Ext": {"k": "v"}},
}
SINGLE = {
    "AppId": 10,
    "OwnerUserId": 10001,
    "OtherUserId": 10002,
    "ConversationCoreInfo": {"ConversationType": 1, "Name": "first"},
}


def with_changes(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    core_changes = changes.pop("core", {})
    changed.update(changes)
    changed["ConversationCoreInfo"].update(core_changes)
    return changed


def test_group_create_answers_the_vendor_shape(service: Service) -> None:
    # Given an empty table / When a group is created
    response = service.create(GROUP)
    # Then the answer is the vendor's BaseResponse with every ConversationInfo field
    assert response.status == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    metadata = response.payload["ResponseMetadata"]
    assert metadata["Action"] == "CreateConversation"
    assert metadata["Version"] == "2020-12-01"
    assert metadata["Service"] == "rtc"
    assert metadata["Region"] == "cn-north-1"
    assert metadata["RequestId"]
    assert "Error" not in metadata
    result = response.result
    info = result["ConversationInfo"]
    assert result["Exist"] is False
    assert set(info) == INFO_FIELDS
    assert result["ConversationShortId"] == info["ConversationShortId"]
    assert 0 < info["ConversationShortId"] <= 2**53 - 1
    assert info["ConversationType"] == 2
    assert info["Name"] == "team"
    assert info["Ext"] == {"k": "v"}
    assert info["OwnerUserId"] == info["CreatorUserId"] == 10001
    assert info["MemberCount"] == 1
    assert info["OnlineCount"] == 0
    assert info["Status"] == 0
    assert info["CreateTime"] == info["ModifyTime"] > 1_700_000_000
    assert all(isinstance(info[name], int) for name in ("AppId", "InboxType", "CreateTime"))


def test_every_create_gets_its_own_request_id(service: Service) -> None:
    first, second = service.create(GROUP), service.create(GROUP)
    assert (
        first.payload["ResponseMetadata"]["RequestId"]
        != (second.payload["ResponseMetadata"]["RequestId"])
    )
    assert first.result["ConversationShortId"] != second.result["ConversationShortId"]


@pytest.mark.parametrize("owner, other", [(10001, 10002), (10002, 10001)])
def test_single_chat_is_created_once_in_either_member_order(
    service: Service, owner: int, other: int
) -> None:
    # Given a single chat between 10001 and 10002
    created = service.create(SINGLE)
    # When it is created again, members in either order, with other fields changed
    again = service.create(
        with_changes(SINGLE, OwnerUserId=owner, OtherUserId=other, core={"Name": "second"})
    )
    # Then the stored conversation comes back, Exist: true, same id
    assert created.result["Exist"] is False
    assert created.result["ConversationInfo"]["MemberCount"] == 2
    assert created.result["ConversationInfo"]["OtherUserId"] == 10002
    assert again.status == 200
    assert again.result["Exist"] is True
    assert again.result == {**created.result, "Exist": True}
    assert again.result["ConversationInfo"]["Name"] == "first"


def test_single_chat_again_with_a_new_idempotent_id_is_not_duplicated(service: Service) -> None:
    created = service.create(with_changes(SINGLE, IdempotentId="first-try"))
    again = service.create(with_changes(SINGLE, IdempotentId="second-try"))
    assert again.result["Exist"] is True
    assert again.result["ConversationShortId"] == created.result["ConversationShortId"]
    assert len(conversation_items(service)) == 1


@pytest.mark.parametrize("scope_change", [{"InboxType": 1}, {"AppId": 11}])
def test_single_chat_identity_is_scoped_to_app_and_inbox(
    service: Service, scope_change: dict[str, int]
) -> None:
    first = service.create(SINGLE)
    other_scope = service.create(with_changes(SINGLE, **scope_change))
    assert other_scope.result["Exist"] is False
    assert other_scope.result["ConversationShortId"] != first.result["ConversationShortId"]


def test_idempotent_id_returns_the_stored_conversation_whatever_the_other_fields(
    service: Service,
) -> None:
    # Given a group created with an IdempotentId
    created = service.create(with_changes(GROUP, IdempotentId="order-1"))
    # When the IdempotentId is reused with a different owner, type and name
    again = service.create(
        with_changes(
            GROUP,
            IdempotentId="order-1",
            OwnerUserId=777,
            core={"ConversationType": 100, "Name": "x"},
        )
    )
    # Then nothing new is created and the stored group comes back
    assert again.result["Exist"] is True
    assert again.result["ConversationInfo"] == created.result["ConversationInfo"]
    assert len(conversation_items(service)) == 1


@pytest.mark.parametrize("scope_change", [{"InboxType": 3}, {"AppId": 12}])
def test_idempotent_id_is_scoped_to_app_and_inbox(
    service: Service, scope_change: dict[str, int]
) -> None:
    service.create(with_changes(GROUP, IdempotentId="order-1"))
    other_scope = service.create(with_changes(GROUP, IdempotentId="order-1", **scope_change))
    assert other_scope.result["Exist"] is False


def test_idempotent_id_match_takes_precedence_over_single_chat_match(service: Service) -> None:
    # Given a single chat, and a group created with IdempotentId "k"
    service.create(SINGLE)
    group = service.create(with_changes(GROUP, IdempotentId="k"))
    # When the single chat's pair is requested again with IdempotentId "k"
    response = service.create(with_changes(SINGLE, IdempotentId="k"))
    # Then the IdempotentId's conversation (the group) is returned
    assert response.result["Exist"] is True
    assert response.result["ConversationShortId"] == group.result["ConversationShortId"]


def test_single_chat_match_with_an_unused_idempotent_id_records_nothing(service: Service) -> None:
    # Given a single chat
    single = service.create(SINGLE)
    # When it is requested again with an IdempotentId never used
    again = service.create(with_changes(SINGLE, IdempotentId="fresh"))
    # Then the single chat is returned, and the IdempotentId stays unused: only a conversation
    # created with an IdempotentId is bound to it
    assert again.result["ConversationShortId"] == single.result["ConversationShortId"]
    group = service.create(with_changes(GROUP, IdempotentId="fresh"))
    assert group.result["Exist"] is False


def test_live_group_has_one_member_and_no_other_user(service: Service) -> None:
    response = service.create(with_changes(GROUP, core={"ConversationType": 100}))
    info = response.result["ConversationInfo"]
    assert info["ConversationType"] == 100
    assert info["MemberCount"] == 1
    assert "OtherUserId" not in info


def test_vendor_request_example_with_valid_app_id_creates_a_group(service: Service) -> None:
    body = (
        '{"AppId":1,"InboxType":0,"ConversationCoreInfo":{"Name":"Conversation",'
        '"AvatarUrl":"http://xxx.xxx","Description":"Your_Description","Notice":"Your_Notice",'
        '"Ext":{"key":"value"},"ConversationType":2},"OwnerUserId":10001}'
    )
    response = service.create(body)
    assert response.status == 200
    info = response.result["ConversationInfo"]
    assert (info["Name"], info["AvatarUrl"], info["Description"], info["Notice"]) == (
        "Conversation", "http://xxx.xxx", "Your_Description", "Your_Notice",
    )  # fmt: skip
    assert info["Ext"] == {"key": "value"}


def test_unknown_fields_are_ignored(service: Service) -> None:
    body = with_changes(GROUP, Unknown={"deep": [1, 2]}, core={"Color": "red"})
    response = service.create(body)
    assert response.status == 200
    assert "Color" not in response.result["ConversationInfo"]


BAD_REQUESTS = [
    ('{"AppId":000000,"OwnerUserId":1,"ConversationCoreInfo":{"ConversationType":2}}',
     400, "InvalidParameter", None, "not valid JSON"),
    ({"AppId": 10, "ConversationCoreInfo": {"ConversationType": 2}},
     400, "MissingParameter", 100002, "OwnerUserId is required"),
    ({"AppId": "10", "OwnerUserId": 1, "ConversationCoreInfo": {"ConversationType": 2}},
     400, "InvalidParameter", None, "AppId must be an integer"),
    ({"AppId": 10, "OwnerUserId": 1, "ConversationCoreInfo": {"ConversationType": 5}},
     400, "InvalidParameter", None,
     "ConversationCoreInfo.ConversationType must be one of 1, 2, 100"),
    (with_changes(SINGLE, OtherUserId=10001),
     400, "InvalidParameter", None, "OtherUserId must differ from OwnerUserId"),
    ({**GROUP, "Padding": "x" * (64 * 1024)},
     413, "RequestEntityTooLarge", None, "larger than 65536 bytes"),
]  # fmt: skip


@pytest.mark.parametrize("body, status, code, code_n, message", BAD_REQUESTS)
def test_bad_input_gets_the_vendor_error_and_writes_nothing(
    service: Service, body: Any, status: int, code: str, code_n: int | None, message: str
) -> None:
    response = service.create(body)
    assert response.status == status
    assert response.error["Code"] == code
    assert response.error.get("CodeN") == code_n
    assert message in response.error["Message"]
    assert "Result" not in response.payload
    assert service.calls == []
    assert service.items() == []


@pytest.mark.parametrize(
    "event_options, status, code, code_n",
    [
        ({"method": "GET"}, 405, "MethodNotAllowed", None),
        ({"method": "PUT"}, 405, "MethodNotAllowed", None),
        ({"query": None}, 400, "MissingParameter", 100002),
        ({"query": {"Action": "CreateConversation"}}, 400, "MissingParameter", 100002),
        ({"query": {"Action": "X", "Version": "2020-12-01"}},
         404, "InvalidActionOrVersion", 100008),
        ({"query": {"Action": "CreateConversation", "Version": "2021-01-01"}},
         404, "InvalidActionOrVersion", 100008),
    ],
)  # fmt: skip
def test_route_errors(
    service: Service, event_options: dict[str, Any], status: int, code: str, code_n: int | None
) -> None:
    response = service.create(GROUP, **event_options)
    assert (response.status, response.error["Code"], response.error.get("CodeN")) == (
        status, code, code_n,
    )  # fmt: skip
    assert service.items() == []


def test_a_create_is_one_write_request_and_no_read(service: Service) -> None:
    # When a group, a guarded group and a single chat are created, and then found again
    service.create(GROUP)
    service.create(with_changes(GROUP, IdempotentId="x"))
    service.create(SINGLE)
    service.create(with_changes(GROUP, IdempotentId="x"))
    service.create(SINGLE)
    # Then each request made exactly one DynamoDB call, and none of them a read
    assert service.calls == [
        "PutItem", "TransactWriteItems", "TransactWriteItems",
        "TransactWriteItems", "TransactWriteItems",
    ]  # fmt: skip


def test_storage_is_exactly_the_conversations_and_their_records(service: Service) -> None:
    group = service.create(with_changes(GROUP, IdempotentId="g"))
    single = service.create(SINGLE)
    plain = service.create(GROUP)
    keys = sorted(item["PK"]["S"] for item in service.items())
    ids = [r.result["ConversationShortId"] for r in (group, single, plain)]
    assert keys == sorted([f"CONV#{i}" for i in ids] + ["IDEM#10#0#g", "SINGLE#10#0#10001#10002"])


def test_throttling_past_retries_is_service_unavailable(service: Service) -> None:
    fired = inject(service.client, "PutItem", lambda: error_response(400, "ThrottlingException"))
    response = service.create(GROUP)
    assert (response.status, response.error["Code"]) == (503, "ServiceUnavailableTemp")
    assert "CodeN" not in response.error
    assert fired[0] == 3  # botocore's standard retries all ran into the fault
    assert service.items() == []


def test_timeout_past_retries_is_internal_service_timeout(service: Service) -> None:
    inject(
        service.client,
        "TransactWriteItems",
        lambda: ReadTimeoutError(endpoint_url="http://127.0.0.1:1/"),
    )
    response = service.create(SINGLE)
    assert (response.status, response.error["Code"], response.error["CodeN"]) == (
        504, "InternalServiceTimeout", 100016,
    )  # fmt: skip
    assert service.items() == []


def test_an_unexpected_storage_error_is_internal_error_without_details(service: Service) -> None:
    inject(
        service.client,
        "PutItem",
        lambda: error_response(400, "ValidationException", "secret-ish engine text"),
    )
    response = service.create(GROUP)
    assert (response.status, response.error["Code"], response.error["CodeN"]) == (
        500, "InternalError", 100014,
    )  # fmt: skip
    assert "secret-ish" not in response.error["Message"]


def conversation_items(service: Service) -> list[dict[str, Any]]:
    return [item for item in service.items() if item["PK"]["S"].startswith("CONV#")]


def test_an_engine_without_the_all_old_image_costs_one_consistent_read(service: Service) -> None:
    # Given a single chat, and an engine that refuses writes without returning the old image
    created = service.create(SINGLE)

    def drop_images(parsed: dict[str, Any], **_: Any) -> None:
        for reason in parsed.get("CancellationReasons", []):
            reason.pop("Item", None)

    service.client.meta.events.register("after-call.dynamodb.TransactWriteItems", drop_images)
    service.calls.clear()
    # When the chat is asked for again
    again = service.create(SINGLE)
    # Then the stored chat is read once, consistently, and returned
    assert service.calls == ["TransactWriteItems", "GetItem"]
    assert again.result == {**created.result, "Exist": True}
