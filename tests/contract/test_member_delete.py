"""Contract tests for BatchDeleteConversationParticipant, on moto and DynamoDB Local."""

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
    add,
    conversation,
    count,
    delete,
    infos,
    is_in,
    participants,
    scanned_users,
    stored_members,
    table_snapshot,
    use_clock,
    user_conversation_ids,
)

ACTION = "BatchDeleteConversationParticipant"


def delete_body(short_id: int, users: list[int]) -> dict[str, Any]:
    return {
        "AppId": APP_ID,
        "ConversationShortId": short_id,
        "Operator": OWNER,
        "ParticipantUserIds": users,
    }


def group_of(service: Service, *users: int) -> int:
    """A group of OWNER and `users`; its id."""
    short_id = create_group(service)["ConversationShortId"]
    assert add(service, short_id, infos(*users)).status == 200
    return int(short_id)


def test_members_are_removed_and_the_count_drops(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a group of the owner and four members, and 10 s passing
    clock = use_clock(monkeypatch)
    short_id = group_of(service, 20001, 20002, 20003, 20004)
    before = conversation(service, short_id)
    clock.advance(10)
    # When two are removed
    response, operations = calls_made(service, ACTION, delete_body(short_id, [20002, 20004]))
    # Then nobody failed, they are gone, MemberCount dropped by 2, ModifyTime moved
    assert response.status == 200, response.payload
    assert response.payload["ResponseMetadata"]["Action"] == ACTION
    assert response.result == {"FailedUserIds": []}
    assert len(operations) <= 2
    assert operations == ["BatchGetItem", "TransactWriteItems"]
    remaining = participants(service, short_id, [OWNER, 20001, 20002, 20003, 20004])
    assert [p["ParticipantUserId"] for p in remaining] == [OWNER, 20001, 20003]
    after = conversation(service, short_id)
    assert after["MemberCount"] == 3 == count(service, short_id)
    assert after["ModifyTime"] >= before["ModifyTime"] + 10
    # And their member items are gone from the table, not just hidden
    assert not [key for key in stored_members(service) if key.endswith(("#i20002", "#i20004"))]


def test_the_owner_is_not_removed_and_is_listed_as_failed(service: Service) -> None:
    # Given a group of the owner and two members
    short_id = group_of(service, 20001, 20002)
    # When the owner and a member are removed
    response = delete(service, short_id, [OWNER, 20001])
    # Then the owner fails and stays owner; the member is removed
    assert response.status == 200, response.payload
    assert response.result == {"FailedUserIds": [OWNER]}
    (owner,) = participants(service, short_id, [OWNER, 20001])
    assert (owner["ParticipantUserId"], owner["Role"]) == (OWNER, 1)
    assert count(service, short_id) == 2
    assert conversation(service, short_id)["OwnerUserId"] == OWNER


def test_only_the_owner_changes_nothing(service: Service) -> None:
    # Given a group / When only its owner is removed
    short_id = group_of(service, 20001)
    before = table_snapshot(service)
    response = delete(service, short_id, [OWNER])
    # Then the owner is failed and nothing is written
    assert response.status == 200, response.payload
    assert response.result == {"FailedUserIds": [OWNER]}
    assert table_snapshot(service) == before


def test_non_members_are_listed_as_failed(service: Service) -> None:
    # Given a group of the owner and 20001
    short_id = group_of(service, 20001)
    # When a non-member, the member and another non-member are removed
    response = delete(service, short_id, [30001, 20001, 30002])
    # Then the non-members fail, in the order given; the member is removed
    assert response.status == 200, response.payload
    assert response.result == {"FailedUserIds": [30001, 30002]}
    assert count(service, short_id) == 1


def test_a_retry_lists_the_users_already_removed(service: Service) -> None:
    # Given two members removed
    short_id = group_of(service, 20001, 20002, 20003)
    assert delete(service, short_id, [20001, 20002]).result == {"FailedUserIds": []}
    before = table_snapshot(service)
    # When the same call comes again (a retry after a lost answer)
    response = delete(service, short_id, [20001, 20002])
    # Then it succeeds, listing them as failed, and changes nothing
    assert response.status == 200, response.payload
    assert response.result == {"FailedUserIds": [20001, 20002]}
    assert table_snapshot(service) == before
    assert count(service, short_id) == 2


def test_a_removed_member_is_gone_at_once_from_every_read(service: Service) -> None:
    # Given 20002 in a group and in the user listing
    short_id = group_of(service, 20001, 20002, 20003)
    assert short_id in user_conversation_ids(service, 20002)
    assert 20002 in scanned_users(service, short_id)
    # When 20002 is removed
    assert delete(service, short_id, [20002]).result == {"FailedUserIds": []}
    # Then no read shows it, the listings (index-backed) included, with no waiting
    assert scanned_users(service, short_id) == [OWNER, 20001, 20003]
    assert participants(service, short_id, [20002]) == []
    assert is_in(service, short_id, 20002) is False
    assert count(service, short_id) == 3
    assert conversation(service, short_id)["MemberCount"] == 3
    assert short_id not in user_conversation_ids(service, 20002)
    assert short_id in user_conversation_ids(service, 20001)


def test_a_removed_member_can_join_again_as_the_newest(service: Service) -> None:
    # Given 20001 removed from a group of three
    short_id = group_of(service, 20001, 20002)
    assert delete(service, short_id, [20001]).result == {"FailedUserIds": []}
    # When 20001 is added again / Then they join after everyone, counted once
    assert add(service, short_id, infos(20001)).status == 200
    assert scanned_users(service, short_id) == [OWNER, 20002, 20001]
    assert count(service, short_id) == 3


@pytest.mark.parametrize(
    "users",
    [[], list(range(20001, 20052)), [20001, 20002, 20001], [0], [2**63], ["20001"], [1.0]],
    ids=["none", "51", "repeat", "zero", "too-big", "string", "float"],
)
def test_bad_user_lists_are_invalid(service: Service, users: list[Any]) -> None:
    # Given a group / When ParticipantUserIds is empty, too long, repeats a user or holds a bad id
    short_id = group_of(service, 20001)
    response, operations = calls_made(service, ACTION, delete_body(short_id, users))
    # Then InvalidParam naming ParticipantUserIds, before any storage
    assert_error(response, "InvalidParam")
    assert "ParticipantUserIds" in response.error["Message"]
    assert operations == []


def test_fifty_users_are_accepted(service: Service) -> None:
    short_id = group_of(service, *range(20001, 20050))
    response = delete(service, short_id, list(range(20001, 20051)))
    assert response.status == 200, response.payload
    assert response.result == {"FailedUserIds": [20050]}
    assert count(service, short_id) == 1


@pytest.mark.parametrize("changes", [{"Operator": None}, {"Operator": 0}, {"AppId": None}])
def test_operator_and_app_id_are_required(service: Service, changes: dict[str, Any]) -> None:
    short_id = group_of(service, 20001)
    response, operations = calls_made(
        service, ACTION, {**delete_body(short_id, [20001]), **changes}
    )
    assert_error(response, "InvalidParam")
    assert operations == []


def test_a_single_chat_refuses(service: Service) -> None:
    # Given a single chat / When one of its users is removed
    short_id = create_single(service)["ConversationShortId"]
    before = table_snapshot(service)
    # Then SingleConversationNotSupport, nothing written
    assert_error(delete(service, short_id, [10002]), "SingleConversationNotSupport")
    assert table_snapshot(service) == before


def test_a_dissolved_group_is_not_found(service: Service) -> None:
    short_id = group_of(service, 20001)
    assert destroy(service, short_id).status == 200
    assert_error(delete(service, short_id, [20001]), "ConversationNotFound")
