"""Owner transfer by ModifyConversation (ConversationCoreInfo.OwnerUserId), and what it does to
the member actions, on moto and DynamoDB Local."""

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
)
from tests.support.backends import Service
from tests.support.members import (
    add,
    conversation,
    delete,
    infos,
    modify,
    participants,
    scanned_users,
    stored_members,
    table_snapshot,
    user_conversation_ids,
)

ACTION = "ModifyConversation"
NEW_OWNER = 20001


def transfer_body(short_id: int, owner: int, **core: Any) -> dict[str, Any]:
    return {
        "AppId": APP_ID,
        "ConversationCoreInfo": {"ConversationShortId": short_id, "OwnerUserId": owner, **core},
    }


def group_of(service: Service, *users: int, conversation_type: int = 2) -> int:
    short_id = create_group(service, conversation_type=conversation_type)["ConversationShortId"]
    assert add(service, short_id, infos(*users)).status == 200
    return int(short_id)


def roles(service: Service, short_id: int, users: list[int]) -> dict[int, int]:
    return {p["ParticipantUserId"]: p["Role"] for p in participants(service, short_id, users)}


def stored_roles(service: Service) -> dict[str, str]:
    return {
        key.rsplit("#", 1)[-1]: item["Role"]["N"] for key, item in stored_members(service).items()
    }


def test_a_transfer_swaps_both_roles_in_one_write(service: Service) -> None:
    # Given a group of OWNER and two members
    short_id = group_of(service, NEW_OWNER, 20002)
    # When the ownership moves to 20001, with a rename in the same call
    response, operations = calls_made(
        service, ACTION, transfer_body(short_id, NEW_OWNER, Name="renamed")
    )
    # Then one read and one atomic write made 20001 owner and OWNER a member
    assert response.status == 200, response.payload
    assert response.result == {}
    assert operations == ["BatchGetItem", "TransactWriteItems"]
    info = conversation(service, short_id)
    assert (info["OwnerUserId"], info["CreatorUserId"], info["Name"]) == (
        NEW_OWNER,
        OWNER,
        "renamed",
    )
    assert roles(service, short_id, [OWNER, NEW_OWNER, 20002]) == {
        OWNER: 0,
        NEW_OWNER: 1,
        20002: 0,
    }
    # And the stored items agree, not only the derived answer
    assert stored_roles(service) == {f"i{OWNER}": "0", f"i{NEW_OWNER}": "1", "i20002": "0"}
    assert info["MemberCount"] == 3


def test_a_manager_can_become_owner_and_the_old_owner_can_then_be_removed(
    service: Service,
) -> None:
    # Given a group with a manager
    short_id = create_group(service)["ConversationShortId"]
    assert add(service, short_id, [{"ParticipantUserId": NEW_OWNER, "Role": 2}]).status == 200
    # When the manager becomes owner
    assert calls_made(service, ACTION, transfer_body(short_id, NEW_OWNER))[0].status == 200
    # Then the old owner can be removed and the new one cannot
    response = delete(service, short_id, [OWNER, NEW_OWNER])
    assert response.result == {"FailedUserIds": [NEW_OWNER]}
    assert roles(service, short_id, [OWNER, NEW_OWNER]) == {NEW_OWNER: 1}
    # And Role 1 for the old owner is now refused, for the new one accepted
    assert_error(
        modify(service, short_id, [{"ParticipantUserId": OWNER, "Role": 1}]), "OwnerShouldBeEqual"
    )
    response = modify(service, short_id, [{"ParticipantUserId": NEW_OWNER, "Role": 0}])
    assert response.result == {"FailedUserIds": [NEW_OWNER]}


def test_the_new_owner_must_be_a_member(service: Service) -> None:
    # Given a group, and 20002 who left it
    short_id = group_of(service, 20002)
    assert delete(service, short_id, [20002]).status == 200
    before = table_snapshot(service)
    for stranger in (30001, 20002):
        # When a non-member is named owner / Then ParticipantNotInConversation, nothing written
        response = calls_made(service, ACTION, transfer_body(short_id, stranger, Name="x"))[0]
        assert_error(response, "ParticipantNotInConversation")
        assert table_snapshot(service) == before


def test_naming_the_current_owner_is_no_transfer(service: Service) -> None:
    short_id = group_of(service, NEW_OWNER)
    response = calls_made(service, ACTION, transfer_body(short_id, OWNER, Notice="n"))[0]
    assert response.status == 200, response.payload
    assert roles(service, short_id, [OWNER, NEW_OWNER]) == {OWNER: 1, NEW_OWNER: 0}
    assert conversation(service, short_id)["Notice"] == "n"


def test_a_single_chat_refuses_a_transfer(service: Service) -> None:
    short_id = create_single(service, OWNER, 10002)["ConversationShortId"]
    before = table_snapshot(service)
    response = calls_made(service, ACTION, transfer_body(short_id, 10002))[0]
    assert_error(response, "SingleConversationNotSupport")
    assert table_snapshot(service) == before


def test_a_live_groups_owned_listing_follows_the_owner(service: Service) -> None:
    # Given a live group owned by OWNER, with 20001 a member
    short_id = group_of(service, NEW_OWNER, conversation_type=100)
    assert user_conversation_ids(service, OWNER, data_type=2) == [short_id]
    assert user_conversation_ids(service, NEW_OWNER, data_type=2) == []
    # When 20001 becomes its owner
    assert calls_made(service, ACTION, transfer_body(short_id, NEW_OWNER))[0].status == 200
    # Then DataType 2 lists it for 20001, not for OWNER; both are still members
    assert user_conversation_ids(service, NEW_OWNER, data_type=2) == [short_id]
    assert user_conversation_ids(service, OWNER, data_type=2) == []
    assert short_id in user_conversation_ids(service, OWNER)
    assert short_id in user_conversation_ids(service, NEW_OWNER)
    # And the live group's staff scan shows the new owner, the old one no more
    assert scanned_users(service, short_id) == [NEW_OWNER]


@pytest.mark.parametrize("conversation_type", [2, 100])
def test_every_answer_shows_exactly_one_owner_after_transfers(
    service: Service, conversation_type: int
) -> None:
    # Given a group passed on twice
    short_id = group_of(service, NEW_OWNER, 20002, conversation_type=conversation_type)
    for owner in (NEW_OWNER, 20002):
        assert calls_made(service, ACTION, transfer_body(short_id, owner))[0].status == 200
    # When its members are read and scanned / Then exactly one Role 1, the current owner
    everyone = [OWNER, NEW_OWNER, 20002]
    assert [u for u, role in roles(service, short_id, everyone).items() if role == 1] == [20002]
    assert conversation(service, short_id)["OwnerUserId"] == 20002
    page = calls_made(
        service,
        "ScanConversationParticipantList",
        {"AppId": APP_ID, "ConversationShortId": short_id, "Limit": 20},
    )[0]
    owners = [p["ParticipantUserId"] for p in page.result["Participants"] if p["Role"] == 1]
    assert owners == [20002]
