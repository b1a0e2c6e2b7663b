"""Contract tests for BatchModifyConversationParticipant, on moto and DynamoDB Local."""

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
    add,
    conversation,
    ext_of_size,
    infos,
    member,
    modify,
    participants,
    scanned_users,
    table_snapshot,
    use_clock,
)

ACTION = "BatchModifyConversationParticipant"
FULL = {"ParticipantUserId": 20001, "Role": 2, "NickName": "ann", "Level": 5, "Ext": {"a": "1"}}


def modify_body(short_id: int, participant_infos: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "AppId": APP_ID,
        "ConversationShortId": short_id,
        "Operator": OWNER,
        "ParticipantInfos": participant_infos,
    }


def group_with(service: Service, *entries: dict[str, Any], conversation_type: int = 2) -> int:
    short_id = create_group(service, conversation_type=conversation_type)["ConversationShortId"]
    assert add(service, short_id, list(entries)).status == 200
    return int(short_id)


@pytest.mark.parametrize(
    "change",
    [
        {"Role": 0},
        {"NickName": "bob"},
        {"NickName": ""},
        {"Level": 0},
        {"Ext": {}},
        {"Ext": {"b": "2"}},
        {"BlockTime": 1_900_000_000},
    ],
)
def test_given_fields_change_and_absent_fields_stay(
    service: Service, change: dict[str, Any]
) -> None:
    # Given a manager with every field set
    short_id = group_with(service, FULL)
    before = member(service, short_id, 20001)
    assert before is not None
    # When one field is modified
    response = modify(service, short_id, [{"ParticipantUserId": 20001, **change}])
    # Then that field changed, every other one is as it was
    assert response.status == 200, response.payload
    assert response.payload["ResponseMetadata"]["Action"] == ACTION
    assert response.result == {"FailedUserIds": []}
    assert member(service, short_id, 20001) == {**before, **change}


def test_nulls_mean_absent(service: Service) -> None:
    # Given a manager / When every optional field is sent as null
    short_id = group_with(service, FULL)
    before = member(service, short_id, 20001)
    nulls = dict.fromkeys(("Role", "NickName", "Level", "Ext", "BlockTime"))
    response = modify(service, short_id, [{"ParticipantUserId": 20001, **nulls}])
    # Then nothing changed
    assert response.status == 200, response.payload
    assert member(service, short_id, 20001) == before


def test_block_time_mutes_and_zero_unmutes(service: Service) -> None:
    # Given a member
    short_id = group_with(service, {"ParticipantUserId": 20001})
    # When muted until an epoch second / Then BlockTime reads back
    assert (
        modify(service, short_id, [{"ParticipantUserId": 20001, "BlockTime": 2**40}]).status == 200
    )
    muted = member(service, short_id, 20001)
    assert muted is not None and muted["BlockTime"] == 2**40
    # When BlockTime 0 / Then unmuted
    assert modify(service, short_id, [{"ParticipantUserId": 20001, "BlockTime": 0}]).status == 200
    unmuted = member(service, short_id, 20001)
    assert unmuted is not None and unmuted["BlockTime"] == 0


def test_role_one_for_a_non_owner_changes_nothing(service: Service) -> None:
    # Given two members
    short_id = group_with(service, {"ParticipantUserId": 20001}, {"ParticipantUserId": 20002})
    before = table_snapshot(service)
    # When a call renames one and makes the other "owner"
    response = modify(
        service,
        short_id,
        [{"ParticipantUserId": 20001, "NickName": "x"}, {"ParticipantUserId": 20002, "Role": 1}],
    )
    # Then OwnerShouldBeEqual for the whole call: nothing written
    assert_error(response, "OwnerShouldBeEqual")
    assert table_snapshot(service) == before


@pytest.mark.parametrize("role", [0, 2, 7])
def test_the_owner_asked_to_change_role_fails_unchanged(service: Service, role: int) -> None:
    # Given a group and a member
    short_id = group_with(service, {"ParticipantUserId": 20001})
    owner_before = member(service, short_id, OWNER)
    # When the owner is given Role 0/2 (7 means 0) with a NickName, and the member renamed
    response = modify(
        service,
        short_id,
        [
            {"ParticipantUserId": OWNER, "Role": role, "NickName": "demoted"},
            {"ParticipantUserId": 20001, "NickName": "renamed"},
        ],
    )
    # Then the owner is in FailedUserIds and unchanged; the rest of the call applies
    assert response.status == 200, response.payload
    assert response.result == {"FailedUserIds": [OWNER]}
    assert member(service, short_id, OWNER) == owner_before
    renamed = member(service, short_id, 20001)
    assert renamed is not None and renamed["NickName"] == "renamed"
    assert conversation(service, short_id)["OwnerUserId"] == OWNER


@pytest.mark.parametrize("role", [None, 1])
def test_the_owners_other_fields_can_change(service: Service, role: int | None) -> None:
    # Given a group / When the owner's NickName, Level, Ext, BlockTime change (no Role, or Role 1)
    short_id = group_with(service, {"ParticipantUserId": 20001})
    change = {"NickName": "boss", "Level": 9, "Ext": {"k": "v"}, "BlockTime": 5}
    entry: dict[str, Any] = {"ParticipantUserId": OWNER, **change}
    if role is not None:
        entry["Role"] = role
    response = modify(service, short_id, [entry])
    # Then they change, and the owner is still Role 1
    assert response.status == 200, response.payload
    assert response.result == {"FailedUserIds": []}
    owner = member(service, short_id, OWNER)
    assert owner is not None
    assert {name: owner[name] for name in change} == change
    assert owner["Role"] == 1


def test_non_members_fail_and_members_change(service: Service) -> None:
    # Given one member
    short_id = group_with(service, {"ParticipantUserId": 20001})
    # When a non-member, the member and another non-member are modified
    response = modify(
        service,
        short_id,
        [
            {"ParticipantUserId": 30001, "NickName": "x"},
            {"ParticipantUserId": 20001, "NickName": "y"},
            {"ParticipantUserId": 30002, "Level": 1},
        ],
    )
    # Then the non-members fail, in the order given, and are not added
    assert response.status == 200, response.payload
    assert response.result == {"FailedUserIds": [30001, 30002]}
    assert [p["ParticipantUserId"] for p in participants(service, short_id, [30001, 30002])] == []
    changed = member(service, short_id, 20001)
    assert changed is not None and changed["NickName"] == "y"
    assert conversation(service, short_id)["MemberCount"] == 2


def test_only_non_members_write_nothing(service: Service) -> None:
    short_id = group_with(service, {"ParticipantUserId": 20001})
    before = table_snapshot(service)
    response = modify(service, short_id, infos(30001, 30002, NickName="x"))
    assert response.status == 200, response.payload
    assert response.result == {"FailedUserIds": [30001, 30002]}
    assert table_snapshot(service) == before


def test_a_manager_made_and_unmade_shows_in_the_live_groups_staff_scan(service: Service) -> None:
    # Given a live group of the owner and two members (a live group's scan shows staff only)
    short_id = group_with(
        service, {"ParticipantUserId": 20001}, {"ParticipantUserId": 20002}, conversation_type=100
    )
    assert scanned_users(service, short_id) == [OWNER]
    # When 20002 becomes a manager / Then the scan shows it
    assert modify(service, short_id, [{"ParticipantUserId": 20002, "Role": 2}]).status == 200
    assert scanned_users(service, short_id) == [OWNER, 20002]
    # When it is a member again / Then the scan drops it
    assert modify(service, short_id, [{"ParticipantUserId": 20002, "Role": 0}]).status == 200
    assert scanned_users(service, short_id) == [OWNER]


def test_a_modify_moves_modify_time_not_member_count_and_takes_two_requests(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a group of three, and 10 s passing
    clock = use_clock(monkeypatch)
    short_id = group_with(service, {"ParticipantUserId": 20001}, {"ParticipantUserId": 20002})
    before = conversation(service, short_id)
    clock.advance(10)
    # When two members are modified
    body = modify_body(short_id, infos(20001, 20002, Level=3))
    response, operations = calls_made(service, ACTION, body)
    # Then one read and one atomic write; ModifyTime moved, MemberCount did not
    assert response.status == 200, response.payload
    assert operations == ["BatchGetItem", "TransactWriteItems"]
    after = conversation(service, short_id)
    assert after["ModifyTime"] >= before["ModifyTime"] + 10
    assert after["MemberCount"] == before["MemberCount"] == 3


@pytest.mark.parametrize(
    "entries",
    [
        [],
        infos(*range(20001, 20052)),
        infos(20001, 20001),
        [{"ParticipantUserId": 20001, "BlockTime": -1}],
        [{"ParticipantUserId": 20001, "BlockTime": 2**63}],
        [{"ParticipantUserId": 20001, "Level": -1}],
        [{"ParticipantUserId": 20001, "Level": INT32_MAX + 1}],
        [{"ParticipantUserId": 20001, "NickName": "n" * 101}],
        [{"ParticipantUserId": 20001, "Ext": ext_of_size(4097)}],
        [{"ParticipantUserId": 20001, "Role": "2"}],
        [{"NickName": "nobody"}],
    ],
    ids=[
        "none", "51", "repeat", "block-negative", "block-too-big", "level-negative",
        "level-too-big", "nick-101", "ext-4097", "role-string", "no-user",
    ],
)  # fmt: skip
def test_bad_entries_are_invalid(service: Service, entries: list[dict[str, Any]]) -> None:
    # Given a member / When a modify's ParticipantInfos breaks a rule
    short_id = group_with(service, {"ParticipantUserId": 20001})
    response, operations = calls_made(service, ACTION, modify_body(short_id, entries))
    # Then InvalidParam naming ParticipantInfos, before any storage
    assert_error(response, "InvalidParam")
    assert "ParticipantInfos" in response.error["Message"]
    assert operations == []


def test_fifty_entries_are_accepted(service: Service) -> None:
    short_id = group_with(service, *infos(*range(20001, 20050)))
    response = modify(service, short_id, infos(*range(20001, 20051), NickName="n"))
    assert response.status == 200, response.payload
    assert response.result == {"FailedUserIds": [20050]}


def test_a_single_chat_refuses(service: Service) -> None:
    short_id = create_single(service)["ConversationShortId"]
    before = table_snapshot(service)
    response = modify(service, short_id, [{"ParticipantUserId": 10002, "NickName": "x"}])
    assert_error(response, "SingleConversationNotSupport")
    assert table_snapshot(service) == before


def test_a_dissolved_group_is_not_found(service: Service) -> None:
    short_id = group_with(service, {"ParticipantUserId": 20001})
    assert destroy(service, short_id).status == 200
    response = modify(service, short_id, [{"ParticipantUserId": 20001, "NickName": "x"}])
    assert_error(response, "ConversationNotFound")
