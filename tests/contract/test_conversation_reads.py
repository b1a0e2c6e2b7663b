"""Contract tests for the conversation reads: BatchGetConversations and GetUserConversations.

Each test runs on moto and on Amazon DynamoDB Local (the `service` fixture).
"""

from __future__ import annotations

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
    remove_members,
)
from tests.support.backends import Service

MISSING_ID = 2**53 - 1
ID_MAX = 2**53 - 1
MEMBER = 20001

# --- BatchGetConversations ----------------------------------------------------------------------


def batch_get(service: Service, ids: Any, **fields: Any) -> Any:
    return call(
        service, "BatchGetConversations", {"AppId": APP_ID, "ConversationShortId": ids, **fields}
    )


def short_ids(infos: list[dict[str, Any]]) -> list[int]:
    return [info["ConversationShortId"] for info in infos]


def by_id(info: dict[str, Any]) -> int:
    return int(info["ConversationShortId"])


def newest_first(ids: list[int]) -> list[int]:
    """The contract's order of DataType 0: by ConversationShortId, largest first. (Ids grow with
    creation time, but two creates in one millisecond may draw them in either order.)"""
    return sorted(ids, reverse=True)


def test_batch_get_answers_in_request_order_once_each_leaving_out_the_unreadable(
    service: Service,
) -> None:
    # Given two groups and a single chat of this AppId, a group of another AppId, and a
    # dissolved group
    first, second = create_group(service, Name="first"), create_group(service, Name="second")
    single = create_single(service)
    foreign = create_group(service, app_id=OTHER_APP_ID)
    dissolved = create_group(service)
    assert destroy(service, dissolved["ConversationShortId"]).status == 200
    wanted = [
        single["ConversationShortId"],
        foreign["ConversationShortId"],
        second["ConversationShortId"],
        MISSING_ID,
        first["ConversationShortId"],
        dissolved["ConversationShortId"],
        second["ConversationShortId"],
    ]
    # When all of them are asked for, one repeated
    response, operations = calls_made(
        service, "BatchGetConversations", {"AppId": APP_ID, "ConversationShortId": wanted}
    )
    # Then the readable ones come back in the order first requested, each once, as created,
    # from exactly one BatchGetItem
    assert response.status == 200, response.payload
    infos = response.result["ConversationCoreInfos"]
    assert infos == [single, second, first]
    assert operations == ["BatchGetItem"]


@pytest.mark.parametrize("count", [1, 100])
def test_batch_get_takes_one_to_a_hundred_ids(service: Service, count: int) -> None:
    # Given one group / When it is asked for among `count` ids (the rest never existed)
    group = create_group(service)
    ids = [group["ConversationShortId"], *range(1, count)]
    response = batch_get(service, ids)
    # Then the answer holds the group
    assert response.status == 200, response.payload
    assert response.result["ConversationCoreInfos"] == [group]


@pytest.mark.parametrize("count", [0, 101])
def test_batch_get_refuses_an_empty_or_too_long_batch(service: Service, count: int) -> None:
    # Given / When a batch of 0 or 101 ids / Then InvalidParam, before any storage request
    before = len(service.calls)
    assert_error(batch_get(service, list(range(1, count + 1))), "InvalidParam")
    assert service.calls[before:] == []


@pytest.mark.parametrize("bad", [0, -1, 2**53, "1", 1.5, True, [1], {"id": 1}])
def test_batch_get_names_a_bad_element(service: Service, bad: Any) -> None:
    # Given a group / When the batch holds it and one element that is no id
    group = create_group(service)
    response = batch_get(service, [group["ConversationShortId"], bad])
    # Then ConversationShortIdsHasInvalidElem, naming the element by its path
    assert_error(response, "ConversationShortIdsHasInvalidElem")
    assert "ConversationShortId[1]" in response.error["Message"]


def test_batch_get_takes_the_largest_id(service: Service) -> None:
    # Given / When the batch holds 2^53-1, the largest id / Then it is an id, just not found
    response = batch_get(service, [ID_MAX])
    assert response.status == 200
    assert response.result == {"ConversationCoreInfos": []}


@pytest.mark.parametrize("skip", [True, False])
def test_batch_get_accepts_skip_member_count_and_still_counts(service: Service, skip: bool) -> None:
    # Given a group with two members / When read with SkipMemberCount
    group = create_group(service)
    add_members(service, group["ConversationShortId"], [MEMBER])
    response = batch_get(service, [group["ConversationShortId"]], SkipMemberCount=skip)
    # Then MemberCount is there and exact
    assert response.status == 200
    assert response.result["ConversationCoreInfos"][0]["MemberCount"] == 2


def test_batch_get_refuses_a_non_boolean_skip_member_count(service: Service) -> None:
    assert_error(batch_get(service, [1], SkipMemberCount=1), "InvalidParam")


# --- GetUserConversations -----------------------------------------------------------------------


def user_conversations(service: Service, user: int | str = OWNER, **fields: Any) -> Any:
    body: dict[str, Any] = {"AppId": APP_ID, "Limit": 20, **fields}
    body["ParticipantUserIdStr" if isinstance(user, str) else "ParticipantUserId"] = user
    return call(service, "GetUserConversations", body)


def listed(service: Service, user: int | str = OWNER, **fields: Any) -> list[int]:
    response = user_conversations(service, user, **fields)
    assert response.status == 200, response.payload
    assert response.result["HasMore"] is False
    return short_ids(response.result["ConversationInfos"])


def every_page(service: Service, user: int | str, limit: int, data_type: int) -> list[list[int]]:
    """Follow NextCursor from Cursor 0 to the end; the ids of each page."""
    pages, cursor = [], 0
    while True:
        response = user_conversations(service, user, Limit=limit, Cursor=cursor, DataType=data_type)
        assert response.status == 200, response.payload
        result = response.result
        pages.append(short_ids(result["ConversationInfos"]))
        if not result["HasMore"]:
            assert result["NextCursor"] == -1
            return pages
        assert result["NextCursor"] != -1
        cursor = result["NextCursor"]
        assert len(pages) <= 30, "paging does not end"


def test_every_member_of_a_group_and_of_a_single_chat_sees_it(service: Service) -> None:
    # Given a group of OWNER with MEMBER added, and a single chat of OWNER with 10002
    group = create_group(service)
    add_members(service, group["ConversationShortId"], [MEMBER])
    single = create_single(service, OWNER, 10002)
    # When each user lists their conversations
    # Then each sees what they are a member of, as BatchGetConversations answers it
    group_now = batch_get(service, [group["ConversationShortId"]]).result
    response = user_conversations(service, OWNER)
    both = [single, *group_now["ConversationCoreInfos"]]
    assert response.result["ConversationInfos"] == sorted(both, key=by_id, reverse=True)
    assert listed(service, MEMBER) == [group["ConversationShortId"]]
    assert listed(service, 10002) == [single["ConversationShortId"]]
    assert listed(service, 30003) == []


def test_data_types_order_and_filter(service: Service) -> None:
    # Given, in creation order: a group, a live group OWNER owns, a single chat, a live group of
    # someone else that OWNER joined, and a second live group OWNER owns
    group = create_group(service)["ConversationShortId"]
    live_owned = create_group(service, conversation_type=100)["ConversationShortId"]
    single = create_single(service)["ConversationShortId"]
    live_joined = create_group(service, 30003, conversation_type=100)["ConversationShortId"]
    add_members(service, live_joined, [OWNER])
    live_owned_too = create_group(service, conversation_type=100)["ConversationShortId"]
    created = [group, live_owned, single, live_joined, live_owned_too]
    # When OWNER lists with each DataType
    # Then 0 is newest first, 1 oldest first, 2 only the live groups OWNER owns, newest first
    assert listed(service, DataType=0) == newest_first(created)
    assert listed(service) == newest_first(created)
    assert listed(service, DataType=1) == sorted(created)
    assert listed(service, DataType=2) == newest_first([live_owned_too, live_owned])


def test_data_type_2_follows_an_owner_transfer(service: Service) -> None:
    # Given a live group of OWNER whose ownership moved to MEMBER
    live = create_group(service, conversation_type=100)["ConversationShortId"]
    add_members(service, live, [MEMBER])
    ok(
        service,
        "ModifyConversation",
        {
            "AppId": APP_ID,
            "ConversationCoreInfo": {"ConversationShortId": live, "OwnerUserId": MEMBER},
        },
    )
    # When both list their owned live groups / Then only the new owner has it
    assert listed(service, OWNER, DataType=2) == []
    assert listed(service, MEMBER, DataType=2) == [live]


@pytest.mark.parametrize("data_type", [0, 1])
def test_paging_with_every_limit_skips_and_repeats_nothing(
    service: Service, data_type: int
) -> None:
    # Given OWNER in 7 conversations
    created = [create_group(service)["ConversationShortId"] for _ in range(5)]
    created += [create_single(service, OWNER, other)["ConversationShortId"] for other in (5, 6)]
    expected = sorted(created, reverse=data_type == 0)
    for limit in range(1, 21):
        # When OWNER pages through them with this Limit
        pages = every_page(service, OWNER, limit, data_type)
        # Then the pages, joined, are every conversation once in order, each page full but the
        # last
        assert [short_id for page in pages for short_id in page] == expected, limit
        assert all(len(page) == limit for page in pages[:-1]), (limit, pages)
        assert 1 <= len(pages[-1]) <= limit


@pytest.mark.parametrize("cursor", [0, 1])
def test_cursor_0_and_1_both_start_at_the_first_page(service: Service, cursor: int) -> None:
    # Given three conversations / When the first page of two is asked for with Cursor 0 or 1
    created = [create_group(service)["ConversationShortId"] for _ in range(3)]
    response = user_conversations(service, Limit=2, Cursor=cursor)
    # Then it holds the two newest, and more follow
    assert short_ids(response.result["ConversationInfos"]) == newest_first(created)[:2]
    assert response.result["HasMore"] is True


def test_the_end_has_next_cursor_minus_one(service: Service) -> None:
    # Given two conversations / When a page of exactly two is asked for
    for _ in range(2):
        create_group(service)
    result = user_conversations(service, Limit=2).result
    # Then it is the last: HasMore false, NextCursor -1
    assert len(result["ConversationInfos"]) == 2
    assert (result["HasMore"], result["NextCursor"]) == (False, -1)
    # And a user with nothing gets an empty last page
    empty = user_conversations(service, 30003).result
    assert empty == {"ConversationInfos": [], "HasMore": False, "NextCursor": -1}


@pytest.mark.parametrize(
    "fields", [{"Limit": 0}, {"Limit": 21}, {"Limit": "5"}, {"DataType": 3}, {"DataType": -1}]
)
def test_bad_limit_or_data_type_is_invalid_param(service: Service, fields: dict[str, Any]) -> None:
    # Given / When / Then InvalidParam naming the field
    response = user_conversations(service, **fields)
    assert_error(response, "InvalidParam")
    assert next(iter(fields)) in response.error["Message"]


def test_limit_is_required(service: Service) -> None:
    response = call(service, "GetUserConversations", {"AppId": APP_ID, "ParticipantUserId": OWNER})
    assert_error(response, "InvalidParam")
    assert "Limit" in response.error["Message"]


@pytest.mark.parametrize(
    "user_fields",
    [
        {},
        {"ParticipantUserId": 0, "ParticipantUserIdStr": ""},
        {"ParticipantUserId": 1, "ParticipantUserIdStr": "a"},
    ],
)
def test_the_user_is_named_exactly_once(service: Service, user_fields: dict[str, Any]) -> None:
    response = call(service, "GetUserConversations", {"AppId": APP_ID, "Limit": 5, **user_fields})
    assert_error(response, "InvalidParam")


def test_string_users_list_by_participant_user_id_str(service: Service) -> None:
    # Given a group owned by string user "alice" and a single chat of "alice" with "10001"
    group = create_group(service, "alice")
    single = create_single(service, "alice", "10001")
    mixed = create_single(service, OWNER, "alice")
    # When "alice", "10001" and integer 10001 list their conversations
    # Then "alice" sees all three; "10001" only its single chat; integer 10001 only its own
    assert listed(service, "alice") == newest_first(short_ids([mixed, single, group]))
    assert listed(service, "10001") == [single["ConversationShortId"]]
    assert listed(service, OWNER) == [mixed["ConversationShortId"]]
    alice_infos = user_conversations(service, "alice").result["ConversationInfos"]
    (alice_group,) = [info for info in alice_infos if info == group]
    assert (alice_group["OwnerUserId"], alice_group["OwnerUserIdStr"]) == (0, "alice")


def test_dissolved_conversations_and_removed_memberships_are_never_listed(
    service: Service,
) -> None:
    # Given OWNER's three groups with MEMBER in each; one dissolved, and MEMBER removed from
    # another
    kept, dissolved, left = (create_group(service)["ConversationShortId"] for _ in range(3))
    for short_id in (kept, dissolved, left):
        add_members(service, short_id, [MEMBER])
    assert destroy(service, dissolved).status == 200
    assert remove_members(service, left, [MEMBER])["FailedUserIds"] == []
    # When both list, page by page with Limit 1 too
    # Then neither sees the dissolved group; MEMBER does not see the one it left
    assert listed(service, OWNER) == newest_first([left, kept])
    assert listed(service, MEMBER) == [kept]
    for data_type in (0, 1):
        pages = every_page(service, MEMBER, 1, data_type)
        assert [short_id for page in pages for short_id in page] == [kept]
        pages = every_page(service, OWNER, 1, data_type)
        assert sorted(short_id for page in pages for short_id in page) == [kept, left]


def test_listing_is_scoped_to_inbox_type_and_app(service: Service) -> None:
    # Given OWNER's conversations in inbox 0, inbox 1 and another AppId
    inbox0 = create_group(service)["ConversationShortId"]
    inbox1 = create_group(service, inbox_type=1)["ConversationShortId"]
    single1 = create_single(service, inbox_type=1)["ConversationShortId"]
    create_group(service, app_id=OTHER_APP_ID)
    # When OWNER lists each inbox of this AppId
    # Then each answer holds only that inbox's conversations
    assert listed(service) == [inbox0]
    assert listed(service, InboxType=1) == newest_first([single1, inbox1])
    assert listed(service, InboxType=2) == []


def test_a_page_takes_at_most_two_requests(service: Service) -> None:
    # Given OWNER in five conversations, one dissolved
    created = [create_group(service)["ConversationShortId"] for _ in range(5)]
    assert destroy(service, created[2]).status == 200
    for limit, data_type in [(1, 0), (2, 1), (20, 0), (2, 2)]:
        cursor = 0
        while True:
            # When a page is read
            body = {
                "AppId": APP_ID,
                "ParticipantUserId": OWNER,
                "Limit": limit,
                "Cursor": cursor,
                "DataType": data_type,
            }
            response, operations = calls_made(service, "GetUserConversations", body)
            # Then it took at most two DynamoDB requests
            assert response.status == 200
            assert len(operations) <= 2, operations
            if not response.result["HasMore"]:
                break
            cursor = response.result["NextCursor"]
