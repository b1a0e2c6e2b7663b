"""Contract tests for BatchGetConversationParticipant, GetConversationUserCount and
IsUserInConversation, on moto and DynamoDB Local."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.actions import (
    APP_ID,
    OWNER,
    assert_error,
    calls_made,
    create_group,
    create_single,
    destroy,
)
from tests.support.backends import Service
from tests.support.members import (
    PARTICIPANT_FIELDS,
    add,
    count,
    delete,
    infos,
    is_in,
    participants,
)

GET = "BatchGetConversationParticipant"
COUNT = "GetConversationUserCount"
IS_IN = "IsUserInConversation"


def group_of(service: Service, *users: int) -> int:
    short_id = create_group(service)["ConversationShortId"]
    if users:
        assert add(service, short_id, infos(*users)).status == 200
    return int(short_id)


def get_body(short_id: int, users: list[Any]) -> dict[str, Any]:
    return {"AppId": APP_ID, "ConversationShortId": short_id, "ParticipantUserIds": users}


# --- BatchGetConversationParticipant -----------------------------------------------------------


def test_members_come_in_the_order_first_requested_and_others_are_left_out(
    service: Service,
) -> None:
    # Given a group of the owner and three members
    short_id = group_of(service, 20001, 20002, 20003)
    # When members, non-members and a repeat are asked, out of joining order
    asked = [20003, 30001, 20001, OWNER, 20003, 30002]
    response, operations = calls_made(service, GET, get_body(short_id, asked))
    # Then the members come once each, in the order first asked, in at most 2 requests
    assert response.status == 200, response.payload
    assert response.payload["ResponseMetadata"]["Action"] == GET
    found = response.result["Participants"]
    assert [p["ParticipantUserId"] for p in found] == [20003, 20001, OWNER]
    assert all(set(p) == PARTICIPANT_FIELDS for p in found)
    assert operations == ["BatchGetItem"]
    # And exactly one of them is the owner
    assert [p["ParticipantUserId"] for p in found if p["Role"] == 1] == [OWNER]


def test_only_non_members_give_an_empty_list(service: Service) -> None:
    short_id = group_of(service, 20001)
    response = calls_made(service, GET, get_body(short_id, [30001, 30002]))[0]
    assert response.status == 200, response.payload
    assert response.result == {"Participants": []}


def test_the_owners_object_and_a_members_object(service: Service) -> None:
    # Given a group created by OWNER, and 20001 added by operator 30003
    group = create_group(service)
    short_id = group["ConversationShortId"]
    response = add(service, short_id, [{"ParticipantUserId": 20001, "Level": 2}], operator=30003)
    assert response.status == 200
    # When both are read
    owner, added = participants(service, short_id, [OWNER, 20001])
    # Then the owner was added by the create (Operator the owner, CreateTime the group's)
    assert owner == {
        "ConversationShortId": short_id, "ParticipantUserId": OWNER, "Role": 1, "NickName": "",
        "Level": 0, "Ext": {}, "AvatarUrl": "", "Operator": OWNER,
        "CreateTime": group["CreateTime"], "BlockTime": 0, "Status": 0,
    }  # fmt: skip
    assert (added["Role"], added["Level"], added["Operator"]) == (0, 2, 30003)


def test_a_hundred_users_are_read_in_at_most_two_requests(service: Service) -> None:
    # Given a group of 101 (the owner and 100 members)
    short_id = group_of(service, *range(20001, 20051))
    assert add(service, short_id, infos(*range(20051, 20101))).status == 200
    asked = list(range(20100, 20000, -1))
    # When all 100 members are asked
    response, operations = calls_made(service, GET, get_body(short_id, asked))
    # Then all come back in the order asked, in at most 2 requests
    assert response.status == 200, response.payload
    assert [p["ParticipantUserId"] for p in response.result["Participants"]] == asked
    assert len(operations) <= 2


@pytest.mark.parametrize(
    "users",
    [[], list(range(20001, 20102)), [0], [2**63], ["20001"], [True], None],
    ids=["none", "101", "zero", "too-big", "string", "bool", "missing"],
)
def test_bad_user_lists_are_invalid(service: Service, users: Any) -> None:
    short_id = group_of(service)
    response, operations = calls_made(service, GET, get_body(short_id, users))
    assert_error(response, "InvalidParam")
    assert "ParticipantUserIds" in response.error["Message"]
    assert operations == []


def test_a_single_chats_users_can_be_read(service: Service) -> None:
    # Given a single chat of two integer users / When both are read
    short_id = create_single(service, 10001, 10002)["ConversationShortId"]
    found = participants(service, short_id, [10002, 10001])
    # Then both are members (Role 0: a single chat has no owner role)
    assert [(p["ParticipantUserId"], p["Role"]) for p in found] == [(10002, 0), (10001, 0)]


# --- GetConversationUserCount ------------------------------------------------------------------


def test_the_count_is_exact_in_one_request(service: Service) -> None:
    # Given a group that gained 5 and lost 2 (one of them twice)
    short_id = group_of(service, 20001, 20002, 20003, 20004, 20005)
    assert delete(service, short_id, [20002, 20004]).status == 200
    assert delete(service, short_id, [20002, OWNER]).status == 200
    # When it is counted
    body = {"AppId": APP_ID, "ConversationShortId": short_id}
    response, operations = calls_made(service, COUNT, body)
    # Then the count is the members there are, in one request
    assert response.status == 200, response.payload
    assert response.result == {"Count": 4}
    assert len(operations) == 1
    assert len(participants(service, short_id, [OWNER, *range(20001, 20006)])) == 4


def test_a_single_chat_counts_two(service: Service) -> None:
    short_id = create_single(service)["ConversationShortId"]
    assert count(service, short_id) == 2


@pytest.mark.parametrize("action", [COUNT, IS_IN, GET])
def test_a_dissolved_or_missing_conversation_is_not_found(service: Service, action: str) -> None:
    # Given a dissolved group
    short_id = group_of(service, 20001)
    assert destroy(service, short_id).status == 200
    body: dict[str, Any] = {"AppId": APP_ID, "ConversationShortId": short_id}
    body |= {IS_IN: {"ParticipantUserId": 20001}, GET: {"ParticipantUserIds": [20001]}}.get(
        action, {}
    )
    # When it is read, or an id that never existed / Then ConversationNotFound
    response, operations = calls_made(service, action, body)
    assert_error(response, "ConversationNotFound")
    assert len(operations) <= (1 if action != GET else 2)
    missing = calls_made(service, action, {**body, "ConversationShortId": short_id + 1})[0]
    assert_error(missing, "ConversationNotFound")


# --- IsUserInConversation ----------------------------------------------------------------------


def test_members_are_in_and_others_are_not_in_one_request_each(service: Service) -> None:
    # Given a group of the owner and 20001, and 20002 who was removed
    short_id = group_of(service, 20001, 20002)
    assert delete(service, short_id, [20002]).status == 200
    for user, expected in [(OWNER, True), (20001, True), (20002, False), (30001, False)]:
        # When each is asked about
        body = {"AppId": APP_ID, "ConversationShortId": short_id, "ParticipantUserId": user}
        response, operations = calls_made(service, IS_IN, body)
        # Then true for members, false for others, in one request
        assert response.status == 200, response.payload
        assert response.payload["ResponseMetadata"]["Action"] == IS_IN
        assert response.result == {"IsUserInConversation": expected}
        assert len(operations) == 1


def test_a_single_chats_users_are_in(service: Service) -> None:
    short_id = create_single(service, 10001, 10002)["ConversationShortId"]
    assert is_in(service, short_id, 10001) and is_in(service, short_id, 10002)
    assert not is_in(service, short_id, 10003)


@pytest.mark.parametrize("user", [0, 2**63, "20001", None])
def test_a_bad_user_is_invalid(service: Service, user: Any) -> None:
    short_id = group_of(service)
    body = {"AppId": APP_ID, "ConversationShortId": short_id, "ParticipantUserId": user}
    response, operations = calls_made(service, IS_IN, body)
    assert_error(response, "InvalidParam")
    assert operations == []
