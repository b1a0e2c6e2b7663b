"""Contract tests for ScanConversationParticipantList, on moto and DynamoDB Local."""

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
    INT32_MAX,
    SCANNED_FIELDS,
    add,
    delete,
    infos,
    modify,
    scan,
    scan_pages,
    scanned_users,
)

ACTION = "ScanConversationParticipantList"
MEMBERS = [20001, 20002, 20003, 20004, 20005, 20006]


def scan_body(short_id: int, **options: Any) -> dict[str, Any]:
    return {"AppId": APP_ID, "ConversationShortId": short_id, "Limit": 20, **options}


def group_joined_in_order(service: Service, users: list[int] = MEMBERS) -> int:
    """A group of OWNER, then `users` added one call each, in that order."""
    short_id = create_group(service)["ConversationShortId"]
    for user in users:
        assert add(service, short_id, infos(user)).status == 200
    return int(short_id)


def test_members_are_listed_in_joining_order_with_the_member_object(service: Service) -> None:
    # Given a group whose members joined one after another, out of id order
    users = [20005, 20001, 20003]
    short_id = group_joined_in_order(service, users)
    # When it is scanned
    response, operations = calls_made(service, ACTION, scan_body(short_id))
    # Then the owner first, then the members as they joined, each a full member object
    assert response.status == 200, response.payload
    assert response.payload["ResponseMetadata"]["Action"] == ACTION
    result = response.result
    assert [p["ParticipantUserId"] for p in result["Participants"]] == [OWNER, *users]
    assert (result["HasMore"], result["NextCursor"]) == (False, -1)
    assert all(set(p) == SCANNED_FIELDS for p in result["Participants"])
    assert all(p["Marks"] == [] and p["Status"] == 0 for p in result["Participants"])
    assert [p["Role"] for p in result["Participants"]] == [1, 0, 0, 0]
    assert len(operations) <= 2


def test_reverse_lists_the_newest_first(service: Service) -> None:
    short_id = group_joined_in_order(service)
    assert scanned_users(service, short_id, Reverse=True) == [*reversed(MEMBERS), OWNER]


def test_one_call_adds_in_the_order_listed(service: Service) -> None:
    # Given members added in one call, listed out of id order
    short_id = create_group(service)["ConversationShortId"]
    assert add(service, short_id, infos(20003, 20001, 20002)).status == 200
    # When scanned / Then they come in the order the call listed them
    assert scanned_users(service, short_id) == [OWNER, 20003, 20001, 20002]


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("limit", [1, 2, 3, 7, 8])
def test_paging_skips_and_repeats_nothing(service: Service, limit: int, reverse: bool) -> None:
    # Given a group of 7
    short_id = group_joined_in_order(service)
    everyone = [OWNER, *MEMBERS]
    expected = list(reversed(everyone)) if reverse else everyone
    # When it is scanned page by page with `limit`
    pages = scan_pages(service, short_id, Limit=limit, Reverse=reverse)
    # Then the pages together list everyone once, in order; every page but the last is full
    listed = [p["ParticipantUserId"] for page in pages for p in page["Participants"]]
    assert listed == expected
    assert all(len(page["Participants"]) == limit for page in pages[:-1])
    assert all(page["HasMore"] for page in pages[:-1])
    # And the last says so, with NextCursor -1; every cursor fits in an int32
    assert (pages[-1]["HasMore"], pages[-1]["NextCursor"]) == (False, -1)
    assert all(-(2**31) <= page["NextCursor"] <= INT32_MAX for page in pages)


def test_each_page_takes_at_most_two_requests(service: Service) -> None:
    short_id = group_joined_in_order(service)
    cursor = 0
    while True:
        response, operations = calls_made(
            service, ACTION, scan_body(short_id, Limit=3, Cursor=cursor)
        )
        assert response.status == 200, response.payload
        assert len(operations) <= 2, operations
        if not response.result["HasMore"]:
            break
        cursor = response.result["NextCursor"]


@pytest.mark.parametrize("reverse", [False, True])
def test_cursor_0_and_1_both_start_at_the_first_page(service: Service, reverse: bool) -> None:
    short_id = group_joined_in_order(service)
    first = scan(service, short_id, Cursor=0, Limit=2, Reverse=reverse)
    one = scan(service, short_id, Cursor=1, Limit=2, Reverse=reverse)
    absent = scan(service, short_id, Limit=2, Reverse=reverse)
    assert first.status == one.status == absent.status == 200
    assert first.result == one.result == absent.result
    assert first.result["HasMore"] is True


def test_members_removed_and_added_between_pages_move_the_listing_on(service: Service) -> None:
    # Given the first page of a group's scan
    short_id = group_joined_in_order(service)
    page = scan(service, short_id, Limit=3).result
    assert [p["ParticipantUserId"] for p in page["Participants"]] == [OWNER, 20001, 20002]
    # When one not yet listed leaves and a new user joins
    assert delete(service, short_id, [20004]).status == 200
    assert add(service, short_id, infos(30001)).status == 200
    # Then the rest of the scan lists the others once, and the newcomer last
    rest = scan_pages(service, short_id, Limit=3, Cursor=page["NextCursor"])
    listed = [p["ParticipantUserId"] for page in rest for p in page["Participants"]]
    assert listed == [20003, 20005, 20006, 30001]


@pytest.mark.parametrize(
    "options, accepted",
    [
        ({"Limit": 1}, True),
        ({"Limit": 20}, True),
        ({"Limit": 0}, False),
        ({"Limit": 21}, False),
        ({"Limit": 21, "OnlyUserIds": True}, True),
        ({"Limit": 50, "OnlyUserIds": True}, True),
        ({"Limit": 51, "OnlyUserIds": True}, False),
        ({"Limit": 0, "OnlyUserIds": True}, False),
        ({"Limit": None}, False),
        ({"Limit": "5"}, False),
        ({"Cursor": "0"}, False),
        ({"Cursor": 2**63}, False),
        ({"Reverse": 1}, False),
        ({"OnlyUserIds": "true"}, False),
    ],
)
def test_limits_and_types(service: Service, options: dict[str, Any], accepted: bool) -> None:
    # Given a group / When scanned with these options
    short_id = group_joined_in_order(service, [20001])
    response, operations = calls_made(service, ACTION, scan_body(short_id, **options))
    # Then Limit is 1..20, or 1..50 with OnlyUserIds; wrong types are InvalidParam, unread
    if accepted:
        assert response.status == 200, response.payload
    else:
        assert_error(response, "InvalidParam")
        assert operations == []


def test_fifty_ids_on_one_page_with_only_user_ids(service: Service) -> None:
    # Given a group of 51
    short_id = create_group(service)["ConversationShortId"]
    assert add(service, short_id, infos(*range(20001, 20051))).status == 200
    # When scanned with OnlyUserIds and Limit 50
    first = scan(service, short_id, Limit=50, OnlyUserIds=True).result
    rest = scan(service, short_id, Limit=50, OnlyUserIds=True, Cursor=first["NextCursor"]).result
    # Then 50 come on the first page, the last on the second
    assert [p["ParticipantUserId"] for p in first["Participants"]] == [
        OWNER,
        *range(20001, 20050),
    ]
    assert first["HasMore"] is True
    assert rest == {
        "Participants": [{"ConversationShortId": short_id, "ParticipantUserId": 20050}],
        "HasMore": False,
        "NextCursor": -1,
    }


def test_only_user_ids_items_carry_the_ids_alone(service: Service) -> None:
    # Given a group / When scanned with OnlyUserIds
    short_id = group_joined_in_order(service, [20001])
    result = scan(service, short_id, OnlyUserIds=True).result
    # Then each item is the conversation and the user, nothing else
    assert result["Participants"] == [
        {"ConversationShortId": short_id, "ParticipantUserId": OWNER},
        {"ConversationShortId": short_id, "ParticipantUserId": 20001},
    ]


def test_a_live_group_lists_its_owner_and_managers_only(service: Service) -> None:
    # Given a live group of the owner, two managers and three members
    short_id = create_group(service, conversation_type=100)["ConversationShortId"]
    entries = [
        {"ParticipantUserId": 20001},
        {"ParticipantUserId": 20002, "Role": 2},
        {"ParticipantUserId": 20003},
        {"ParticipantUserId": 20004, "Role": 2},
        {"ParticipantUserId": 20005},
    ]
    assert add(service, short_id, entries).status == 200
    # When it is scanned without ScanOnlineParticipant, forward, reverse and one per page
    # Then only the owner and the managers come, in joining order
    assert scanned_users(service, short_id) == [OWNER, 20002, 20004]
    assert scanned_users(service, short_id, Reverse=True) == [20004, 20002, OWNER]
    assert scanned_users(service, short_id, Limit=1) == [OWNER, 20002, 20004]
    assert scanned_users(service, short_id, Limit=1, OnlyUserIds=True) == [OWNER, 20002, 20004]
    # And a member made manager later is listed in joining order
    assert modify(service, short_id, [{"ParticipantUserId": 20001, "Role": 2}]).status == 200
    assert scanned_users(service, short_id) == [OWNER, 20001, 20002, 20004]


@pytest.mark.parametrize("conversation_type", [2, 100])
def test_scan_online_participant_returns_nobody(service: Service, conversation_type: int) -> None:
    # Given a group or live group with members and managers
    short_id = create_group(service, conversation_type=conversation_type)["ConversationShortId"]
    assert add(service, short_id, [{"ParticipantUserId": 20001, "Role": 2}]).status == 200
    # When scanned for online members / Then none: no presence is kept
    response = scan(service, short_id, ScanOnlineParticipant=True)
    assert response.status == 200, response.payload
    assert response.result == {"Participants": [], "HasMore": False, "NextCursor": -1}


def test_string_named_single_chat_users_show_their_str_ids(service: Service) -> None:
    # Given a single chat of a string-named user and an integer user
    short_id = create_single(service, "alice#1", 10002)["ConversationShortId"]
    # When it is scanned
    result = scan(service, short_id).result
    alice, other = result["Participants"]
    # Then the string user has ParticipantUserId 0 and its Str twin; Operator is the creator
    assert (alice["ParticipantUserId"], alice["ParticipantUserIdStr"]) == (0, "alice#1")
    assert (alice["Operator"], alice["OperatorStr"]) == (0, "alice#1")
    assert other["ParticipantUserId"] == 10002 and "ParticipantUserIdStr" not in other
    assert (other["Operator"], other["OperatorStr"]) == (0, "alice#1")
    assert alice["Marks"] == other["Marks"] == []
    # And both are plain members: a single chat's creator is no owner Role (actions.md)
    assert alice["Role"] == other["Role"] == 0
    # And OnlyUserIds carries the Str twin too
    ids = scan(service, short_id, OnlyUserIds=True).result["Participants"]
    assert ids == [
        {
            "ConversationShortId": short_id,
            "ParticipantUserId": 0,
            "ParticipantUserIdStr": "alice#1",
        },
        {"ConversationShortId": short_id, "ParticipantUserId": 10002},
    ]


def test_a_string_named_owners_group_shows_the_owner_by_str(service: Service) -> None:
    short_id = create_group(service, "owner-s")["ConversationShortId"]
    assert add(service, short_id, infos(20001), operator=30003).status == 200
    owner, added = scan(service, short_id).result["Participants"]
    assert (owner["ParticipantUserId"], owner["ParticipantUserIdStr"], owner["Role"]) == (
        0,
        "owner-s",
        1,
    )
    assert added["Operator"] == 30003 and "OperatorStr" not in added


def test_integer_users_have_no_str_fields(service: Service) -> None:
    short_id = group_joined_in_order(service, [20001])
    for item in scan(service, short_id).result["Participants"]:
        assert "ParticipantUserIdStr" not in item and "OperatorStr" not in item


def test_negative_cursors_end_the_scan(service: Service) -> None:
    short_id = group_joined_in_order(service, [20001])
    response = scan(service, short_id, Cursor=-1)
    assert response.status == 200, response.payload
    assert response.result == {"Participants": [], "HasMore": False, "NextCursor": -1}


def test_a_dissolved_or_missing_group_is_not_found(service: Service) -> None:
    short_id = group_joined_in_order(service, [20001])
    assert destroy(service, short_id).status == 200
    assert_error(scan(service, short_id), "ConversationNotFound")
    assert_error(scan(service, short_id + 1), "ConversationNotFound")
