"""Contract tests for BatchAddConversationParticipant (actions.md), on moto and DynamoDB Local."""

from __future__ import annotations

from typing import Any

import pytest

from handler import app
from tests.support.actions import (
    APP_ID,
    OTHER_APP_ID,
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
    PARTICIPANT_FIELDS,
    add,
    conversation,
    count,
    ext_of_size,
    infos,
    limit_members,
    member,
    participants,
    stored_members,
    table_snapshot,
    use_clock,
)

ACTION = "BatchAddConversationParticipant"


def add_body(short_id: int, participant_infos: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "AppId": APP_ID,
        "ConversationShortId": short_id,
        "Operator": OWNER,
        "ParticipantInfos": participant_infos,
    }


def test_one_member_is_added_with_the_member_object_fields(service: Service) -> None:
    # Given a group of its owner alone
    group = create_group(service)
    short_id = group["ConversationShortId"]
    # When one user is added with every field
    response = add(
        service,
        short_id,
        [{"ParticipantUserId": 20001, "NickName": "ann", "Level": 3, "Ext": {"k": "v"}}],
        operator=30003,
    )
    # Then the answer is FailedUserIds [], and the member reads back as added
    assert response.status == 200, response.payload
    assert response.payload["ResponseMetadata"]["Action"] == ACTION
    assert response.result == {"FailedUserIds": []}
    added = member(service, short_id, 20001)
    assert added is not None
    assert set(added) == PARTICIPANT_FIELDS
    assert added == {
        "ConversationShortId": short_id,
        "ParticipantUserId": 20001,
        "Role": 0,
        "NickName": "ann",
        "Level": 3,
        "Ext": {"k": "v"},
        "AvatarUrl": "",
        "Operator": 30003,  # stored as given, not checked for membership
        "CreateTime": added["CreateTime"],
        "BlockTime": 0,
        "Status": 0,
    }
    assert added["CreateTime"] >= group["CreateTime"]
    assert count(service, short_id) == 2


def test_fifty_members_in_one_call_take_exactly_two_requests(service: Service) -> None:
    # Given a group of its owner alone
    short_id = create_group(service)["ConversationShortId"]
    users = list(range(20001, 20051))
    # When 50 users are added in one call
    response, operations = calls_made(service, ACTION, add_body(short_id, infos(*users)))
    # Then all are members, counted once each, in one consistent read and one atomic write
    assert response.status == 200, response.payload
    assert response.result == {"FailedUserIds": []}
    assert operations == ["BatchGetItem", "TransactWriteItems"]
    assert count(service, short_id) == 51
    assert [p["ParticipantUserId"] for p in participants(service, short_id, users)] == users


@pytest.mark.parametrize("size", [0, 51])
def test_zero_or_more_than_fifty_infos_are_invalid(service: Service, size: int) -> None:
    # Given a group
    short_id = create_group(service)["ConversationShortId"]
    # When 0 or 51 users are sent
    body = add_body(short_id, infos(*range(20001, 20001 + size)))
    response, operations = calls_made(service, ACTION, body)
    # Then InvalidParam, refused before storage
    assert_error(response, "InvalidParam")
    assert "ParticipantInfos" in response.error["Message"]
    assert operations == []


def test_a_user_given_twice_is_invalid(service: Service) -> None:
    # Given a group
    short_id = create_group(service)["ConversationShortId"]
    # When one call names 20002 twice
    body = add_body(short_id, infos(20001, 20002, 20003, 20002))
    response, operations = calls_made(service, ACTION, body)
    # Then InvalidParam naming the repeat, nothing read or added
    assert_error(response, "InvalidParam")
    assert "ParticipantInfos[3]" in response.error["Message"]
    assert operations == []
    assert count(service, short_id) == 1


def test_role_one_for_a_non_owner_adds_nobody(service: Service) -> None:
    # Given a group
    short_id = create_group(service)["ConversationShortId"]
    before = table_snapshot(service)
    # When a call adds a plain member and a second "owner"
    response = add(
        service, short_id, [{"ParticipantUserId": 20001}, {"ParticipantUserId": 20002, "Role": 1}]
    )
    # Then OwnerShouldBeEqual, and nothing at all was written
    assert_error(response, "OwnerShouldBeEqual")
    assert table_snapshot(service) == before
    assert participants(service, short_id, [20001, 20002]) == []


@pytest.mark.parametrize("given, stored", [(0, 0), (2, 2), (7, 0), (-1, 0), (2**63 - 1, 0)])
def test_roles_outside_0_1_2_are_stored_as_members(
    service: Service, given: int, stored: int
) -> None:
    # Given a group
    short_id = create_group(service)["ConversationShortId"]
    # When a user is added with Role `given`
    response = add(service, short_id, [{"ParticipantUserId": 20001, "Role": given}])
    # Then the Role stored is 0, 2 for a manager, as the vendor does
    assert response.status == 200, response.payload
    added = member(service, short_id, 20001)
    assert added is not None and added["Role"] == stored


def test_an_existing_member_is_overwritten_not_counted_twice_and_keeps_create_time(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a member added with every field, and time passing
    clock = use_clock(monkeypatch)
    short_id = create_group(service)["ConversationShortId"]
    first = {"ParticipantUserId": 20001, "Role": 2, "NickName": "a", "Level": 1, "Ext": {"x": "1"}}
    assert add(service, short_id, [first]).status == 200
    joined = member(service, short_id, 20001)
    assert joined is not None
    clock.advance(10)
    # When the same user is added again with new fields, together with a new user
    again = {"ParticipantUserId": 20001, "Role": 0, "NickName": "b", "Level": 9, "Ext": {"y": "2"}}
    response = add(service, short_id, [again, {"ParticipantUserId": 20002}])
    # Then the fields are overwritten, the CreateTime kept, and only the new user counted
    assert response.status == 200, response.payload
    assert member(service, short_id, 20001) == {
        **joined,
        "Role": 0,
        "NickName": "b",
        "Level": 9,
        "Ext": {"y": "2"},
    }
    assert count(service, short_id) == 3
    info = conversation(service, short_id)
    assert info["MemberCount"] == 3


def test_an_existing_member_without_role_keeps_it(service: Service) -> None:
    # Given a manager
    short_id = create_group(service)["ConversationShortId"]
    assert add(service, short_id, [{"ParticipantUserId": 20001, "Role": 2}]).status == 200
    # When the manager is added again without a Role
    response = add(service, short_id, [{"ParticipantUserId": 20001, "NickName": "m"}])
    # Then they stay a manager
    assert response.status == 200, response.payload
    again = member(service, short_id, 20001)
    assert again is not None and (again["Role"], again["NickName"]) == (2, "m")


@pytest.mark.parametrize("role", [0, 2, 1, None])
def test_the_owner_added_again_keeps_role_one(service: Service, role: int | None) -> None:
    # Given a group owned by OWNER
    short_id = create_group(service)["ConversationShortId"]
    # When the owner is "added" with some Role and a new NickName
    entry: dict[str, Any] = {"ParticipantUserId": OWNER, "NickName": "boss"}
    if role is not None:
        entry["Role"] = role
    response = add(service, short_id, [entry])
    # Then the owner is still the one owner, with the new NickName, counted once
    assert response.status == 200, response.payload
    owner = member(service, short_id, OWNER)
    assert owner is not None and (owner["Role"], owner["NickName"]) == (1, "boss")
    assert count(service, short_id) == 1
    assert conversation(service, short_id)["OwnerUserId"] == OWNER


@pytest.mark.parametrize(
    "ext",
    [
        {f"k{index}": "v" for index in range(100)},
        {"k" * 64: "v"},
        {"k": "v" * 1024},
        {"k": ""},
        ext_of_size(4096),
    ],
    ids=["100-entries", "key-64", "value-1024", "empty-value", "4096-bytes"],
)
def test_member_ext_at_its_limits_is_stored(service: Service, ext: dict[str, str]) -> None:
    # Given a group
    short_id = create_group(service)["ConversationShortId"]
    # When a member is added with an Ext at one of its limits
    response = add(service, short_id, [{"ParticipantUserId": 20001, "Ext": ext}])
    # Then it is stored as given
    assert response.status == 200, response.payload
    added = member(service, short_id, 20001)
    assert added is not None and added["Ext"] == ext


@pytest.mark.parametrize(
    "ext",
    [
        {f"k{index}": "v" for index in range(101)},
        {"k" * 65: "v"},
        {"": "v"},
        {"k": "v" * 1025},
        {"k": 1},
        ["k", "v"],
        ext_of_size(4097),
    ],
    ids=["101-entries", "key-65", "empty-key", "value-1025", "value-int", "list", "4097-bytes"],
)
def test_member_ext_past_its_limits_is_invalid(service: Service, ext: Any) -> None:
    # Given a group
    short_id = create_group(service)["ConversationShortId"]
    # When a member is added with an Ext past a limit
    body = add_body(
        short_id, [{"ParticipantUserId": 20001}, {"ParticipantUserId": 20002, "Ext": ext}]
    )
    response, operations = calls_made(service, ACTION, body)
    # Then InvalidParam naming the entry, before any storage
    assert_error(response, "InvalidParam")
    assert "ParticipantInfos[1].Ext" in response.error["Message"]
    assert operations == []


def test_member_ext_of_4096_bytes_counts_utf8_bytes_not_characters(service: Service) -> None:
    # Given a group, and an Ext of 4 values of 1000 two-byte characters (≈ 8 KiB, 4000 chars)
    short_id = create_group(service)["ConversationShortId"]
    ext = {f"k{index}": "é" * 1000 for index in range(4)}
    # When it is sent / Then it is past 4 KiB as UTF-8, so refused
    assert_error(add(service, short_id, [{"ParticipantUserId": 20001, "Ext": ext}]), "InvalidParam")


@pytest.mark.parametrize("length, accepted", [(100, True), (101, False)])
def test_nick_name_holds_100_code_points(service: Service, length: int, accepted: bool) -> None:
    # Given a group / When a member's NickName is `length` code points (3 UTF-8 bytes each)
    short_id = create_group(service)["ConversationShortId"]
    nick = "群" * length
    response = add(service, short_id, [{"ParticipantUserId": 20001, "NickName": nick}])
    # Then 100 is stored as given, 101 is InvalidParam
    if accepted:
        assert response.status == 200, response.payload
        added = member(service, short_id, 20001)
        assert added is not None and added["NickName"] == nick
    else:
        assert_error(response, "InvalidParam")
        assert "ParticipantInfos[0].NickName" in response.error["Message"]


@pytest.mark.parametrize("level", [0, 1, INT32_MAX])
def test_level_from_zero_to_int32_max_is_stored(service: Service, level: int) -> None:
    short_id = create_group(service)["ConversationShortId"]
    response = add(service, short_id, [{"ParticipantUserId": 20001, "Level": level}])
    assert response.status == 200, response.payload
    added = member(service, short_id, 20001)
    assert added is not None and added["Level"] == level


@pytest.mark.parametrize(
    "field, value",
    [
        ("Level", -1),
        ("Level", INT32_MAX + 1),
        ("Level", "1"),
        ("Level", 1.0),
        ("ReadIndex", -1),
        ("ReadIndex", 2**63),
        ("Role", 2**63),
        ("Role", "0"),
        ("ParticipantUserId", 0),
        ("ParticipantUserId", 2**63),
        ("NickName", 1),
    ],
)
def test_member_fields_out_of_range_or_of_another_type_are_invalid(
    service: Service, field: str, value: Any
) -> None:
    # Given a group
    short_id = create_group(service)["ConversationShortId"]
    # When the first entry's `field` is out of range or not its type
    body = add_body(short_id, [{"ParticipantUserId": 20001, field: value}])
    response, operations = calls_made(service, ACTION, body)
    # Then InvalidParam naming it, before any storage
    assert_error(response, "InvalidParam")
    assert f"ParticipantInfos[0].{field}" in response.error["Message"]
    assert operations == []


@pytest.mark.parametrize(
    "changes",
    [
        {"Operator": 0},
        {"Operator": None},
        {"ConversationShortId": 0},
        {"ConversationShortId": 2**53},
        {"AppId": 0},
        {"Barrier": 1},
        {"ParticipantInfos": None},
    ],
)
def test_request_fields_out_of_range_or_missing_are_invalid(
    service: Service, changes: dict[str, Any]
) -> None:
    short_id = create_group(service)["ConversationShortId"]
    body = {**add_body(short_id, infos(20001)), **changes}
    response, operations = calls_made(service, ACTION, body)
    assert_error(response, "InvalidParam")
    assert operations == []


@pytest.mark.parametrize("read_index", [0, 7, 2**63 - 1])
def test_read_index_is_stored(service: Service, read_index: int) -> None:
    # Given a group / When a member is added with a ReadIndex
    short_id = create_group(service)["ConversationShortId"]
    response = add(service, short_id, [{"ParticipantUserId": 20001, "ReadIndex": read_index}])
    # Then it is accepted and kept on the member's item (no answer shows it)
    assert response.status == 200, response.payload
    (item,) = [item for key, item in stored_members(service).items() if key.endswith("M#i20001")]
    assert item["ReadIndex"] == {"N": str(read_index)}


def test_barrier_is_accepted(service: Service) -> None:
    short_id = create_group(service)["ConversationShortId"]
    body = {**add_body(short_id, infos(20001)), "Barrier": True}
    response, _ = calls_made(service, ACTION, body)
    assert response.status == 200, response.payload


def test_member_count_and_modify_time_move(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a group, and 10 s passing
    clock = use_clock(monkeypatch)
    group = create_group(service)
    short_id = group["ConversationShortId"]
    clock.advance(10)
    # When three users are added
    assert add(service, short_id, infos(20001, 20002, 20003)).status == 200
    # Then MemberCount grew by 3 and ModifyTime is the time of the add
    info = conversation(service, short_id)
    assert info["MemberCount"] == 4
    assert info["ModifyTime"] >= group["ModifyTime"] + 10
    assert info["CreateTime"] == group["CreateTime"]
    added = member(service, short_id, 20001)
    assert added is not None and added["CreateTime"] == info["ModifyTime"]


# --- the member limit ------------------------------------------------------------------------


def test_a_group_fills_to_its_limit_and_refuses_past_it(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a group limit of 5 and a group of 3
    limit_members(monkeypatch, group=5, live_group=50)
    short_id = create_group(service)["ConversationShortId"]
    assert add(service, short_id, infos(20001, 20002)).status == 200
    # When a call would take it to 6 / Then it is refused and nothing is written
    before = table_snapshot(service)
    response = add(service, short_id, infos(20003, 20004, 20005))
    assert_error(response, "ConversationParticipantsMoreThanLimit")
    assert table_snapshot(service) == before
    # When a call takes it to exactly 5 / Then it is accepted
    assert add(service, short_id, infos(20003, 20004)).status == 200
    assert count(service, short_id) == 5
    # When one more is added / Then it is refused and nothing is written
    before = table_snapshot(service)
    assert_error(add(service, short_id, infos(20005)), "ConversationParticipantsMoreThanLimit")
    assert table_snapshot(service) == before
    # When a full group's members are added again / Then they are not new: accepted
    response = add(service, short_id, [{"ParticipantUserId": 20001, "NickName": "again"}])
    assert response.status == 200, response.payload
    assert count(service, short_id) == 5


def test_the_default_group_limit_is_200(service: Service) -> None:
    # Given the default settings, and a group of 199
    assert app.member_limits.group == 200
    short_id = create_group(service)["ConversationShortId"]
    users = list(range(20001, 20199))
    for start in range(0, len(users), 50):
        assert add(service, short_id, infos(*users[start : start + 50])).status == 200
    assert count(service, short_id) == 199
    # When two are added / Then refused: 201 is past the limit
    assert_error(
        add(service, short_id, infos(30001, 30002)), "ConversationParticipantsMoreThanLimit"
    )
    # When one is added / Then accepted: 200 is the limit; one more is refused
    assert add(service, short_id, infos(30001)).status == 200
    assert count(service, short_id) == 200
    assert_error(add(service, short_id, infos(30002)), "ConversationParticipantsMoreThanLimit")
    assert count(service, short_id) == 200


def test_a_live_group_has_its_own_limit(service: Service, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a group limit of 2 and a live group limit of 4
    limit_members(monkeypatch, group=2, live_group=4)
    live = create_group(service, conversation_type=100)["ConversationShortId"]
    # When the live group is filled to 4 / Then accepted, past the group limit
    assert add(service, live, infos(20001, 20002, 20003)).status == 200
    assert count(service, live) == 4
    # When one more is added / Then refused, nothing written
    before = table_snapshot(service)
    assert_error(add(service, live, infos(20004)), "ConversationParticipantsMoreThanLimit")
    assert table_snapshot(service) == before


def test_the_default_live_group_limit_is_10000() -> None:
    # Given the default settings / Then a live group holds 10000 members (tested above, scaled)
    assert app.member_limits.live_group == 10_000


# --- which conversations ---------------------------------------------------------------------


def test_a_single_chat_refuses_members(service: Service) -> None:
    # Given a single chat
    short_id = create_single(service)["ConversationShortId"]
    before = table_snapshot(service)
    # When a member is added / Then SingleConversationNotSupport, nothing written
    assert_error(add(service, short_id, infos(20001)), "SingleConversationNotSupport")
    assert table_snapshot(service) == before


def test_a_dissolved_group_is_not_found(service: Service) -> None:
    # Given a dissolved group
    short_id = create_group(service)["ConversationShortId"]
    assert destroy(service, short_id).status == 200
    before = table_snapshot(service)
    # When a member is added / Then ConversationNotFound, nothing written
    response = add(service, short_id, infos(20001))
    assert_error(response, "ConversationNotFound")
    assert table_snapshot(service) == before


def test_a_missing_or_foreign_conversation_is_not_found(service: Service) -> None:
    # Given a group of AppId 10
    short_id = create_group(service)["ConversationShortId"]
    before = table_snapshot(service)
    # When AppId 11 adds to it, or AppId 10 adds to an id that does not exist
    foreign = add(service, short_id, infos(20001), app_id=OTHER_APP_ID)
    missing = add(service, short_id + 1, infos(20001))
    # Then both are ConversationNotFound in the same words, and nothing is written
    assert_error(foreign, "ConversationNotFound")
    assert_error(missing, "ConversationNotFound")
    assert foreign.error["Message"].replace(str(short_id), "#") == missing.error["Message"].replace(
        str(short_id + 1), "#"
    )
    assert table_snapshot(service) == before
