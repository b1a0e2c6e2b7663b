"""Contract tests for ModifyConversation, on moto and on Amazon DynamoDB Local."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.support.actions import (
    APP_ID,
    OTHER_APP_ID,
    OWNER,
    add_members,
    assert_error,
    call,
    calls_made,
    create_group,
    create_single,
    destroy,
    ok,
)
from tests.support.backends import Response, Service

MEMBER = 20001


def modify(service: Service, short_id: int, app_id: int = APP_ID, **core: Any) -> Response:
    body = {"AppId": app_id, "ConversationCoreInfo": {"ConversationShortId": short_id, **core}}
    return call(service, "ModifyConversation", body)


def read(service: Service, short_id: int) -> dict[str, Any]:
    body = {"AppId": APP_ID, "ConversationShortId": [short_id]}
    infos = ok(service, "BatchGetConversations", body)["ConversationCoreInfos"]
    assert len(infos) == 1
    return dict(infos[0])


def roles(service: Service, short_id: int, users: list[int]) -> dict[int, int]:
    body = {"AppId": APP_ID, "ConversationShortId": short_id, "ParticipantUserIds": users}
    participants = ok(service, "BatchGetConversationParticipant", body)["Participants"]
    return {item["ParticipantUserId"]: item["Role"] for item in participants}


FULL = {
    "Name": "team",
    "AvatarUrl": "https://example.com/a.png",
    "Description": "about",
    "Notice": "read me",
    "Ext": {"a": "1", "b": "2"},
}


def test_absent_fields_stay_and_given_ones_change(service: Service) -> None:
    # Given a group with every field set
    created = create_group(service, **FULL)
    short_id = created["ConversationShortId"]
    # When only Name is given (and Notice as null, which means absent)
    response = modify(service, short_id, Name="renamed", Notice=None)
    # Then the answer is {} and only Name changed
    assert response.status == 200, response.payload
    assert response.result == {}
    after = read(service, short_id)
    unchanged = {key: value for key, value in after.items() if key not in {"Name", "ModifyTime"}}
    assert unchanged == {k: v for k, v in created.items() if k not in {"Name", "ModifyTime"}}
    assert after["Name"] == "renamed"


def test_empty_strings_clear_and_ext_is_replaced_whole(service: Service) -> None:
    # Given a group with every field set
    short_id = create_group(service, **FULL)["ConversationShortId"]
    # When the strings are "" and Ext is a new map / Then they are cleared and Ext replaced
    response = modify(service, short_id, Name="", AvatarUrl="", Description="", Notice="")
    assert response.status == 200
    assert modify(service, short_id, Ext={"c": "3"}).status == 200
    after = read(service, short_id)
    assert [after[key] for key in ("Name", "AvatarUrl", "Description", "Notice")] == [""] * 4
    assert after["Ext"] == {"c": "3"}
    # And {} clears Ext
    assert modify(service, short_id, Ext={}).status == 200
    assert read(service, short_id)["Ext"] == {}


def text(length: int) -> str:
    return "é" * length  # code points, not bytes, are counted


@pytest.mark.parametrize(
    "field, limit",
    [("Name", 100), ("AvatarUrl", 1024), ("Description", 1000), ("Notice", 1000)],
)
def test_string_limits_at_and_past_the_boundary(service: Service, field: str, limit: int) -> None:
    # Given a group
    short_id = create_group(service)["ConversationShortId"]
    # When the field is at its limit / Then it is stored
    assert modify(service, short_id, **{field: text(limit)}).status == 200
    assert read(service, short_id)[field] == text(limit)
    # When one past it / Then InvalidParam naming the field, and nothing changed
    response = modify(service, short_id, **{field: text(limit + 1)})
    assert_error(response, "InvalidParam")
    assert f"ConversationCoreInfo.{field}" in response.error["Message"]
    assert read(service, short_id)[field] == text(limit)


def ext_cases() -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(name, at the limit, past it)."""
    return [
        ("entries", {f"k{i}": "v" for i in range(100)}, {f"k{i}": "v" for i in range(101)}),
        ("key", {"k" * 64: "v"}, {"k" * 65: "v"}),
        ("empty key", {"k": "v"}, {"": "v"}),
        ("value", {"k": "v" * 1024}, {"k": "v" * 1025}),
        # 16 KiB as compact UTF-8 JSON: 16 entries of 1000-byte values, then 2 bytes more
        ("total", _ext_of_bytes(16 * 1024), _ext_of_bytes(16 * 1024 + 1)),
    ]


def _ext_of_bytes(size: int) -> dict[str, str]:
    """A map of string -> string that is exactly `size` bytes as compact JSON."""
    ext = {f"k{i:02d}": "v" * 1000 for i in range(16)}
    ext["pad"] = "v" * (size - len(_compact(ext)) - len(',"pad":""'))
    assert len(_compact(ext)) == size
    return ext


def _compact(ext: dict[str, str]) -> bytes:
    return json.dumps(ext, ensure_ascii=False, separators=(",", ":")).encode()


@pytest.mark.parametrize("case", ext_cases(), ids=lambda case: case[0])
def test_ext_limits_at_and_past_the_boundary(
    service: Service, case: tuple[str, dict[str, str], dict[str, str]]
) -> None:
    _, at_limit, past_limit = case
    # Given a group
    short_id = create_group(service)["ConversationShortId"]
    # When Ext is at the limit / Then it is stored as given
    assert modify(service, short_id, Ext=at_limit).status == 200
    assert read(service, short_id)["Ext"] == at_limit
    # When past it / Then InvalidParam naming Ext, and the stored map stays
    response = modify(service, short_id, Ext=past_limit)
    assert_error(response, "InvalidParam")
    assert "Ext" in response.error["Message"]
    assert read(service, short_id)["Ext"] == at_limit


@pytest.mark.parametrize(
    "core", [{"Name": 5}, {"Ext": {"k": 1}}, {"Ext": []}, {"OwnerUserId": "20001"}]
)
def test_wrong_types_are_invalid_param(service: Service, core: dict[str, Any]) -> None:
    short_id = create_group(service)["ConversationShortId"]
    assert_error(modify(service, short_id, **core), "InvalidParam")


def test_the_conversation_short_id_is_required(service: Service) -> None:
    response = call(service, "ModifyConversation", {"AppId": APP_ID, "ConversationCoreInfo": {}})
    assert_error(response, "InvalidParam")
    assert "ConversationCoreInfo.ConversationShortId" in response.error["Message"]


def test_modify_time_moves_and_nothing_else_when_nothing_changes(service: Service) -> None:
    # Given a group created at least a second ago
    created = create_group(service, Name="same")
    short_id = created["ConversationShortId"]
    time.sleep(1.1)
    # When a modify changes nothing (no field, or the same Name)
    # Then it succeeds, and ModifyTime moves to now
    assert modify(service, short_id).status == 200
    assert modify(service, short_id, Name="same").status == 200
    after = read(service, short_id)
    assert after["ModifyTime"] > created["ModifyTime"]
    assert after["ModifyTime"] <= int(time.time())
    assert {**after, "ModifyTime": created["ModifyTime"]} == created
    assert after["CreateTime"] == created["CreateTime"]


def test_naming_the_current_owner_is_no_transfer(service: Service) -> None:
    # Given a group of OWNER with MEMBER
    short_id = create_group(service)["ConversationShortId"]
    add_members(service, short_id, [MEMBER])
    # When OWNER is named as owner / Then it succeeds and the roles stay
    assert modify(service, short_id, OwnerUserId=OWNER).status == 200
    assert read(service, short_id)["OwnerUserId"] == OWNER
    assert roles(service, short_id, [OWNER, MEMBER]) == {OWNER: 1, MEMBER: 0}


@pytest.mark.parametrize("conversation_type", [2, 100])
def test_owner_transfer_to_a_member_swaps_the_roles(
    service: Service, conversation_type: int
) -> None:
    # Given a group of OWNER with MEMBER
    short_id = create_group(service, conversation_type=conversation_type)["ConversationShortId"]
    add_members(service, short_id, [MEMBER])
    # When ownership moves to MEMBER, with a rename in the same call
    assert modify(service, short_id, OwnerUserId=MEMBER, Name="theirs").status == 200
    # Then MEMBER is the owner with Role 1, OWNER is Role 0, the creator stays, count stays
    after = read(service, short_id)
    assert (after["OwnerUserId"], after["CreatorUserId"], after["Name"]) == (
        MEMBER,
        OWNER,
        "theirs",
    )
    assert after["MemberCount"] == 2
    assert roles(service, short_id, [OWNER, MEMBER]) == {OWNER: 0, MEMBER: 1}
    # And it can move back
    assert modify(service, short_id, OwnerUserId=OWNER).status == 200
    assert roles(service, short_id, [OWNER, MEMBER]) == {OWNER: 1, MEMBER: 0}


def test_owner_transfer_to_a_non_member_is_refused(service: Service) -> None:
    # Given a group of OWNER
    created = create_group(service, Name="kept")
    short_id = created["ConversationShortId"]
    # When ownership is given to a user who is not a member (with a rename)
    response = modify(service, short_id, OwnerUserId=30003, Name="lost")
    # Then ParticipantNotInConversation, and nothing changed
    assert_error(response, "ParticipantNotInConversation")
    assert read(service, short_id) == created
    # And the string user "30003" is not integer 30003's membership either
    response = modify(service, short_id, OwnerUserIdStr="10001")
    assert_error(response, "ParticipantNotInConversation")


def test_a_single_chat_cannot_change_owner(service: Service) -> None:
    # Given a single chat of OWNER and 10002
    created = create_single(service, OWNER, 10002)
    short_id = created["ConversationShortId"]
    # When 10002 (a member) or a stranger is named owner / Then SingleConversationNotSupport
    assert_error(modify(service, short_id, OwnerUserId=10002), "SingleConversationNotSupport")
    assert_error(modify(service, short_id, OwnerUserId=30003), "SingleConversationNotSupport")
    assert read(service, short_id) == created
    # And its other fields can be modified, owner named or not
    assert modify(service, short_id, Name="ours", OwnerUserId=OWNER).status == 200
    assert read(service, short_id)["Name"] == "ours"


def test_a_missing_dissolved_or_foreign_conversation_is_not_found(service: Service) -> None:
    # Given a dissolved group, and a group of another AppId
    dissolved = create_group(service)["ConversationShortId"]
    assert destroy(service, dissolved).status == 200
    foreign = create_group(service, app_id=OTHER_APP_ID, Name="theirs")
    missing = 2**53 - 1
    # When each is modified through AppId 10 / Then ConversationNotFound, the same words
    messages = []
    for short_id in (missing, dissolved, foreign["ConversationShortId"]):
        response = modify(service, short_id, Name="mine")
        assert_error(response, "ConversationNotFound")
        messages.append(response.error["Message"].replace(str(short_id), "<id>"))
    assert len(set(messages)) == 1
    # And the foreign conversation is unchanged
    body = {"AppId": OTHER_APP_ID, "ConversationShortId": [foreign["ConversationShortId"]]}
    assert ok(service, "BatchGetConversations", body)["ConversationCoreInfos"] == [foreign]


def test_exist_true_returns_the_modified_conversation(service: Service) -> None:
    # Given a group created with an IdempotentId, then modified
    body = {
        "AppId": APP_ID,
        "OwnerUserId": OWNER,
        "IdempotentId": "order-7",
        "ConversationCoreInfo": {"ConversationType": 2, "Name": "before"},
    }
    created = ok(service, "CreateConversation", body)
    short_id = created["ConversationShortId"]
    assert modify(service, short_id, Name="after", Ext={"x": "y"}).status == 200
    # When the create is repeated / Then Exist: true with the conversation as it is now
    again = ok(service, "CreateConversation", body)
    assert again["Exist"] is True
    assert again["ConversationInfo"] == read(service, short_id)
    assert (again["ConversationInfo"]["Name"], again["ConversationInfo"]["Ext"]) == (
        "after",
        {"x": "y"},
    )


def test_exist_true_of_a_single_chat_returns_it_modified(service: Service) -> None:
    short_id = create_single(service)["ConversationShortId"]
    assert modify(service, short_id, Notice="pinned").status == 200
    body = {
        "AppId": APP_ID,
        "OwnerUserId": 10002,
        "OtherUserId": OWNER,
        "ConversationCoreInfo": {"ConversationType": 1},
    }
    again = ok(service, "CreateConversation", body)
    assert again["Exist"] is True
    assert again["ConversationInfo"]["Notice"] == "pinned"


@pytest.mark.parametrize(
    "core",
    [{"Name": "x"}, {"Ext": {"a": "b"}}, {}, {"OwnerUserId": OWNER}, {"OwnerUserId": MEMBER}],
    ids=["name", "ext", "nothing", "same-owner", "transfer"],
)
def test_a_modify_takes_at_most_two_requests(service: Service, core: dict[str, Any]) -> None:
    # Given a group with a member / When it is modified
    short_id = create_group(service)["ConversationShortId"]
    add_members(service, short_id, [MEMBER])
    body = {"AppId": APP_ID, "ConversationCoreInfo": {"ConversationShortId": short_id, **core}}
    response, operations = calls_made(service, "ModifyConversation", body)
    # Then at most two DynamoDB requests
    assert response.status == 200, response.payload
    assert 1 <= len(operations) <= 2, operations
