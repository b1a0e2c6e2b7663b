"""CreateConversation's contract: the real handler against moto and Amazon DynamoDB Local.

Each test runs once per backend, so any divergence between moto and the real engine fails. A
create writes the conversation, its members (a single chat's two users, a group's owner) and its
uniqueness records in one TransactWriteItems; a match answers the conversation as it is now.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from handler import app
from handler.domain.ids import ID_RANDOM_BITS, Entropy
from tests.support.actions import destroy, ok
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
    # And ConversationId is the id's decimal string, in the Result and in the info
    assert result["ConversationId"] == info["ConversationId"] == str(info["ConversationShortId"])
    assert info["ConversationType"] == 2
    assert info["Name"] == "team"
    assert info["Ext"] == {"k": "v"}
    assert info["OwnerUserId"] == info["CreatorUserId"] == 10001
    assert "OwnerUserIdStr" not in info
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


def test_a_dissolved_groups_idempotent_id_creates_a_new_group(service: Service) -> None:
    # Given a group created with an IdempotentId, then dissolved by its owner
    created = service.create(with_changes(GROUP, IdempotentId="order-1"))
    gone = created.result["ConversationShortId"]
    assert destroy(service, gone).status == 200
    # When the IdempotentId is used again
    again = service.create(with_changes(GROUP, IdempotentId="order-1", core={"Name": "v2"}))
    # Then a new group is created under it, and a third request finds that new one
    assert again.result["Exist"] is False
    assert again.result["ConversationShortId"] != gone
    third = service.create(with_changes(GROUP, IdempotentId="order-1"))
    assert third.result["Exist"] is True
    assert third.result["ConversationShortId"] == again.result["ConversationShortId"]
    assert third.result["ConversationInfo"]["Name"] == "v2"


def test_exist_answers_the_conversation_as_it_is_after_a_modify(service: Service) -> None:
    # Given a group created with an IdempotentId, then renamed and given a new Ext
    created = service.create(with_changes(GROUP, IdempotentId="order-1"))
    short_id = created.result["ConversationShortId"]
    ok(
        service,
        "ModifyConversation",
        {
            "AppId": 10,
            "ConversationCoreInfo": {
                "ConversationShortId": short_id,
                "Name": "renamed",
                "Ext": {"new": "1"},
            },
        },
    )
    # When the IdempotentId is used again
    again = service.create(with_changes(GROUP, IdempotentId="order-1"))
    # Then the answer is the conversation as it is now, not as it was created
    info = again.result["ConversationInfo"]
    assert again.result["Exist"] is True
    assert (info["ConversationShortId"], info["Name"], info["Ext"]) == (
        short_id, "renamed", {"new": "1"},
    )  # fmt: skip
    assert info["ModifyTime"] >= created.result["ConversationInfo"]["ModifyTime"]


def test_exist_answers_the_current_member_count(service: Service) -> None:
    # Given a group created with an IdempotentId, and two members added since
    created = service.create(with_changes(GROUP, IdempotentId="order-1"))
    short_id = created.result["ConversationShortId"]
    ok(
        service,
        "BatchAddConversationParticipant",
        {
            "AppId": 10,
            "ConversationShortId": short_id,
            "Operator": 10001,
            "ParticipantInfos": [{"ParticipantUserId": 20001}, {"ParticipantUserId": 20002}],
        },
    )
    # When the IdempotentId is used again, Then the count is the current one
    again = service.create(with_changes(GROUP, IdempotentId="order-1"))
    assert again.result["ConversationInfo"]["MemberCount"] == 3


@pytest.mark.parametrize(
    "body, members",
    [
        (SINGLE, [(10001, 0), (10002, 0)]),
        (GROUP, [(10001, 1)]),
        (with_changes(GROUP, core={"ConversationType": 100}), [(10001, 1)]),
    ],
    ids=["single-chat", "group", "live-group"],
)
def test_the_create_adds_its_members(
    service: Service, body: dict[str, Any], members: list[tuple[int, int]]
) -> None:
    # Given a new conversation
    created = service.create(body)
    short_id = created.result["ConversationShortId"]
    # When its members are asked for by the member actions
    users = [user for user, _ in members]
    found = ok(
        service,
        "BatchGetConversationParticipant",
        {"AppId": 10, "ConversationShortId": short_id, "ParticipantUserIds": [*users, 30003]},
    )["Participants"]
    counted = ok(
        service, "GetConversationUserCount", {"AppId": 10, "ConversationShortId": short_id}
    )
    # Then the create made them members: a single chat's two users (Role 0), a group's owner
    # (Role 1), nobody else, and the count agrees
    assert sorted((p["ParticipantUserId"], p["Role"]) for p in found) == members
    assert counted["Count"] == created.result["ConversationInfo"]["MemberCount"] == len(members)
    # And the table holds exactly those member items under the conversation
    member_keys = sorted(
        item["SK"]["S"]
        for item in service.items()
        if item["PK"]["S"] == f"C#10#{short_id}" and item["SK"]["S"].startswith("M#")
    )
    assert member_keys == sorted(f"M#i{user}" for user in users)


STRING_SINGLE = {
    "AppId": 10,
    "OwnerUserIdStr": "alice",
    "OtherUserIdStr": "bob",
    "ConversationCoreInfo": {"ConversationType": 1},
}


def test_a_single_chat_of_string_users_answers_their_str_twins(service: Service) -> None:
    # Given two string users / When their single chat is created
    response = service.create(STRING_SINGLE)
    # Then the answer names them by the Str twins, with the integer fields 0
    info = response.result["ConversationInfo"]
    assert response.status == 200, response.payload
    assert (info["OwnerUserId"], info["OwnerUserIdStr"]) == (0, "alice")
    assert (info["CreatorUserId"], info["CreatorUserIdStr"]) == (0, "alice")
    assert (info["OtherUserId"], info["OtherUserIdStr"]) == (0, "bob")
    assert info["MemberCount"] == 2
    # And both are stored as members under their string keys
    short_id = info["ConversationShortId"]
    member_keys = {
        item["SK"]["S"] for item in service.items() if item["PK"]["S"] == f"C#10#{short_id}"
    }
    assert member_keys == {"C", "M#salice", "M#sbob"}


@pytest.mark.parametrize(
    "again",
    [
        {"OwnerUserIdStr": "alice", "OtherUserIdStr": "bob"},
        {"OwnerUserIdStr": "bob", "OtherUserIdStr": "alice"},
        {"OwnerUserId": 0, "OwnerUserIdStr": "bob", "OtherUserId": 0, "OtherUserIdStr": "alice"},
    ],
    ids=["same-order", "reversed", "with-integer-zeros"],
)
def test_a_string_single_chat_is_created_once_in_either_order(
    service: Service, again: dict[str, Any]
) -> None:
    # Given a single chat between string users alice and bob
    created = service.create(STRING_SINGLE)
    # When it is created again, users in either order
    body = {"AppId": 10, "ConversationCoreInfo": {"ConversationType": 1}, **again}
    second = service.create(body)
    # Then the same conversation comes back
    assert second.result["Exist"] is True
    assert second.result["ConversationShortId"] == created.result["ConversationShortId"]


@pytest.mark.parametrize("order", ["integer-owner", "string-owner"])
def test_a_mixed_pair_is_one_single_chat_in_either_order(service: Service, order: str) -> None:
    # Given a single chat between integer user 10001 and string user "carol"
    created = service.create(
        {"AppId": 10, "OwnerUserId": 10001, "OtherUserIdStr": "carol",
         "ConversationCoreInfo": {"ConversationType": 1}}
    )  # fmt: skip
    info = created.result["ConversationInfo"]
    assert (info["OwnerUserId"], info["OtherUserId"], info["OtherUserIdStr"]) == (
        10001, 0, "carol",
    )  # fmt: skip
    # When the pair is created again, either one as the owner
    users = (
        {"OwnerUserId": 10001, "OtherUserIdStr": "carol"}
        if order == "integer-owner"
        else {"OwnerUserIdStr": "carol", "OtherUserId": 10001}
    )
    again = service.create({"AppId": 10, "ConversationCoreInfo": {"ConversationType": 1}, **users})
    # Then it is the same conversation
    assert again.result["Exist"] is True
    assert again.result["ConversationShortId"] == info["ConversationShortId"]


def test_an_integer_user_and_its_digits_as_a_string_are_different_users(
    service: Service,
) -> None:
    # Given a single chat of integer users 10001 and 10002
    integers = service.create(SINGLE)
    # When the same digits are used as string users, or one of them is
    strings = service.create(
        {"AppId": 10, "OwnerUserIdStr": "10001", "OtherUserIdStr": "10002",
         "ConversationCoreInfo": {"ConversationType": 1}}
    )  # fmt: skip
    mixed = service.create(
        {"AppId": 10, "OwnerUserId": 10001, "OtherUserIdStr": "10002",
         "ConversationCoreInfo": {"ConversationType": 1}}
    )  # fmt: skip
    # Then each is a new conversation of its own
    ids = {r.result["ConversationShortId"] for r in (integers, strings, mixed)}
    assert [r.result["Exist"] for r in (integers, strings, mixed)] == [False, False, False]
    assert len(ids) == 3


@pytest.mark.parametrize(
    "first, second",
    [
        (("a#b", "c"), ("a", "b#c")),
        (("a", "b#c"), ("a#b", "c")),
        (("x", "y"), ("x#", "y")),
        (("s#1", "s#2"), ("s", "1s#2")),
        (("i1", "i2"), ("i", "1i2")),
    ],
    ids=["split-moves-left", "split-moves-right", "trailing-hash", "prefix-lookalike",
         "key-lookalike"],
)  # fmt: skip
def test_a_hash_inside_string_users_never_makes_two_pairs_one(
    service: Service, first: tuple[str, str], second: tuple[str, str]
) -> None:
    # Given two single chats whose string users would concatenate to the same text
    def body(users: tuple[str, str]) -> dict[str, Any]:
        return {"AppId": 10, "OwnerUserIdStr": users[0], "OtherUserIdStr": users[1],
                "ConversationCoreInfo": {"ConversationType": 1}}  # fmt: skip

    # When both are created
    one, two = service.create(body(first)), service.create(body(second))
    # Then they are two conversations, each with its own users
    assert (one.status, two.status) == (200, 200), (one.payload, two.payload)
    assert two.result["Exist"] is False
    assert one.result["ConversationShortId"] != two.result["ConversationShortId"]
    info = two.result["ConversationInfo"]
    assert (info["OwnerUserIdStr"], info["OtherUserIdStr"]) == second


def test_a_hash_inside_an_idempotent_id_never_collides_across_inboxes(service: Service) -> None:
    # Given IdempotentIds that, joined to their InboxType with "#", would read alike
    first = service.create(with_changes(GROUP, InboxType=1, IdempotentId="2#x"))
    second = service.create(with_changes(GROUP, InboxType=12, IdempotentId="#x"))
    # Then they guard two different conversations
    assert second.result["Exist"] is False
    assert first.result["ConversationShortId"] != second.result["ConversationShortId"]


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
     400, "JsonParsingError", None, "not valid JSON"),
    ("[]", 400, "JsonParsingError", None, "must be a JSON object"),
    ("", 400, "JsonParsingError", None, "empty"),
    ({"AppId": 10, "ConversationCoreInfo": {"ConversationType": 2}},
     400, "InvalidParam", None, "OwnerUserId is required"),
    ({"AppId": "10", "OwnerUserId": 1, "ConversationCoreInfo": {"ConversationType": 2}},
     400, "InvalidParam", None, "AppId must be an integer"),
    ({"AppId": 10, "OwnerUserId": 1, "ConversationCoreInfo": {"ConversationType": 5}},
     400, "InvalidParam", None,
     "ConversationCoreInfo.ConversationType must be one of 1, 2, 100"),
    (with_changes(SINGLE, OtherUserId=10001),
     400, "InvalidParam", None, "OtherUserId must name a different user from OwnerUserId"),
    ({**STRING_SINGLE, "OtherUserIdStr": "alice"},
     400, "InvalidParam", None, "OtherUserId must name a different user from OwnerUserId"),
    ({**GROUP, "OwnerUserIdStr": "alice"},
     400, "InvalidParam", None, "OwnerUserId and OwnerUserIdStr name one user"),
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


@pytest.mark.parametrize(
    "body",
    [GROUP, with_changes(GROUP, IdempotentId="x"), SINGLE, STRING_SINGLE],
    ids=["group", "guarded-group", "single-chat", "string-single-chat"],
)
def test_a_new_conversation_is_one_request_and_an_existing_one_two(
    service: Service, body: dict[str, Any]
) -> None:
    # When a conversation is created, and (when it has a uniqueness key) found again
    service.create(body)
    created_calls = list(service.calls)
    service.calls.clear()
    again = service.create(body)
    # Then the create was one TransactWriteItems (the conversation, its members and its
    # records together) and no read
    assert created_calls == ["TransactWriteItems"]
    # And finding it again is that refused write plus one consistent read of the conversation
    # as it is now; a group without a key is simply another group
    if again.result["Exist"]:
        assert service.calls == ["TransactWriteItems", "GetItem"]
    else:
        assert body is GROUP
        assert service.calls == ["TransactWriteItems"]


def test_storage_is_exactly_the_conversations_their_members_and_records(
    service: Service,
) -> None:
    # Given a guarded group, a single chat and a plain group
    group = service.create(with_changes(GROUP, IdempotentId="g"))
    single = service.create(SINGLE)
    plain = service.create(GROUP)
    # When the table is scanned
    keys = sorted((item["PK"]["S"], item["SK"]["S"]) for item in service.items())
    # Then it holds each conversation and its members under one partition, the claim of each id,
    # and one record per uniqueness key, in the new key layout
    g, s, p = (r.result["ConversationShortId"] for r in (group, single, plain))
    assert keys == sorted([
        (f"C#10#{g}", "C"), (f"C#10#{g}", "M#i10001"), (f"ID#{g}", "ID"),
        (f"C#10#{s}", "C"), (f"C#10#{s}", "M#i10001"), (f"C#10#{s}", "M#i10002"), (f"ID#{s}", "ID"),
        (f"C#10#{p}", "C"), (f"C#10#{p}", "M#i10001"), (f"ID#{p}", "ID"),
        ("I#10#0#g", "I"),
        ("S#10#0#6:i10001i10002", "S"),
    ])  # fmt: skip
    # And each record holds a reference to its conversation, not a copy
    records = {item["PK"]["S"]: item for item in service.items() if item["SK"]["S"] in {"I", "S"}}
    assert records["I#10#0#g"]["ConversationShortId"] == {"N": str(g)}
    assert records["S#10#0#6:i10001i10002"]["ConversationShortId"] == {"N": str(s)}
    assert all("Name" not in record for record in records.values())


def test_throttling_past_retries_is_service_unavailable(service: Service) -> None:
    fired = inject(
        service.client, "TransactWriteItems", lambda: error_response(400, "ThrottlingException")
    )
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
        "TransactWriteItems",
        lambda: error_response(400, "ValidationException", "secret-ish engine text"),
    )
    response = service.create(GROUP)
    assert (response.status, response.error["Code"], response.error["CodeN"]) == (
        500, "InternalError", 100014,
    )  # fmt: skip
    assert "secret-ish" not in response.error["Message"]


def conversation_items(service: Service) -> list[dict[str, Any]]:
    return [item for item in service.items() if item["SK"]["S"] == "C"]


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
    # Then the record naming the chat is read once, consistently, then the chat itself
    assert service.calls == ["TransactWriteItems", "GetItem", "GetItem"]
    assert again.result == {**created.result, "Exist": True}


def test_a_conversation_short_id_is_unique_across_app_ids(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a clock that stands still and random bits that repeat once: 0, 0, then 1
    id_bits = iter([0, 0, 1])
    tokens = iter(range(1, 100))
    monkeypatch.setattr(
        app,
        "entropy",
        Entropy(
            now_ms=lambda: 1_796_000_000_000,
            random_bits=lambda bits: next(id_bits) if bits == ID_RANDOM_BITS else next(tokens),
        ),
    )
    # And a group of AppId 10 holding the first id drawn
    first = service.create(GROUP).result["ConversationShortId"]
    # When a group of AppId 11 draws the same id first
    second = service.create({**GROUP, "AppId": 11}).result["ConversationShortId"]
    # Then it is drawn again: no two conversations share an id, whatever their AppIds
    assert second != first
    assert second == first + 1


def test_a_conflict_whose_reasons_stop_at_the_conflicting_item_is_retried(
    service: Service,
) -> None:
    # Given an engine that, as DynamoDB Local does, lists reasons only up to the item that met a
    # transaction in flight ([None, TransactionConflict] for a group's three items), once
    truncated = error_response(
        400,
        "TransactionCanceledException",
        "Transaction cancelled [None, TransactionConflict]",
        CancellationReasons=[{"Code": "None"}, {"Code": "TransactionConflict"}],
    )
    fired = inject(service.client, "TransactWriteItems", lambda: truncated, times=1)
    # When a group is created
    response = service.create(GROUP)
    # Then the conflict is retried like any other, and the group is created once
    assert fired[0] == 1
    assert response.status == 200, response.payload
    assert response.result["Exist"] is False
    assert service.calls.count("TransactWriteItems") == 2
