"""Tenancy for every action (README section 6), on moto and on Amazon DynamoDB Local.

A request for AppId 10 that names a conversation of AppId 11 answers exactly as one naming an id
that never existed: the same status, Code and message (the id aside), the same DynamoDB work,
and nothing of the other AppId's conversation read, changed or revealed.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.actions import (
    APP_ID,
    MEMBER,
    OTHER_APP_ID,
    OWNER,
    add_members,
    calls_made,
    create_group,
    id_bodies,
    ok,
)
from tests.support.backends import Response, Service

MISSING_ID = 2**53 - 1
ID_ACTIONS = sorted(id_bodies(1))


def foreign_group(service: Service) -> dict[str, Any]:
    """A group of AppId 11 owned by OWNER (the same user id as in AppId 10), with MEMBER."""
    group = create_group(service, app_id=OTHER_APP_ID, Name="theirs", Notice="secret")
    add_members(service, group["ConversationShortId"], [MEMBER], app_id=OTHER_APP_ID)
    return state(service, group["ConversationShortId"])


def state(service: Service, short_id: int) -> dict[str, Any]:
    """AppId 11's view of the conversation and its two members."""
    conversation = ok(
        service,
        "BatchGetConversations",
        {"AppId": OTHER_APP_ID, "ConversationShortId": [short_id]},
    )
    members = ok(
        service,
        "BatchGetConversationParticipant",
        {
            "AppId": OTHER_APP_ID,
            "ConversationShortId": short_id,
            "ParticipantUserIds": [OWNER, MEMBER],
        },
    )
    return {**conversation, **members}


def answer(response: Response, short_id: int) -> tuple[int, Any]:
    """What a caller learns: status and payload, the request id and the named id aside."""
    metadata = {**response.payload["ResponseMetadata"], "RequestId": "<request id>"}
    payload = {**response.payload, "ResponseMetadata": metadata}
    return response.status, _without_id(payload, short_id)


def _without_id(value: Any, short_id: int) -> Any:
    if isinstance(value, dict):
        return {key: _without_id(item, short_id) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_id(item, short_id) for item in value]
    if isinstance(value, str):
        return value.replace(str(short_id), "<id>")
    return "<id>" if value == short_id and not isinstance(value, bool) else value


@pytest.mark.parametrize("action", ID_ACTIONS)
def test_a_foreign_id_answers_as_a_missing_one(service: Service, action: str) -> None:
    # Given a group of AppId 11
    before = foreign_group(service)
    foreign_id = before["ConversationCoreInfos"][0]["ConversationShortId"]
    # When AppId 10 names it, and then an id that never existed
    foreign, foreign_work = calls_made(service, action, id_bodies(foreign_id)[action])
    missing, missing_work = calls_made(service, action, id_bodies(MISSING_ID)[action])
    # Then both answer ConversationNotFound alike, after the same DynamoDB work
    assert foreign.status == 404, foreign.payload
    assert foreign.error["Code"] == "ConversationNotFound"
    assert answer(foreign, foreign_id) == answer(missing, MISSING_ID)
    assert foreign_work == missing_work
    # And AppId 11's conversation and members are as they were
    assert state(service, foreign_id) == before


def test_batch_get_leaves_a_foreign_id_out_as_a_missing_one(service: Service) -> None:
    # Given a group of AppId 11 and one of AppId 10
    foreign_id = foreign_group(service)["ConversationCoreInfos"][0]["ConversationShortId"]
    own = create_group(service)
    # When AppId 10 asks for its own with the foreign one, and with a missing one
    body = {"AppId": APP_ID, "ConversationShortId": [foreign_id, own["ConversationShortId"]]}
    foreign, foreign_work = calls_made(service, "BatchGetConversations", body)
    body["ConversationShortId"] = [MISSING_ID, own["ConversationShortId"]]
    missing, missing_work = calls_made(service, "BatchGetConversations", body)
    # Then both answers hold only its own, after the same DynamoDB work
    assert foreign.result == missing.result == {"ConversationCoreInfos": [own]}
    assert foreign_work == missing_work


def test_get_user_conversations_lists_only_this_app(service: Service) -> None:
    # Given OWNER and MEMBER in a group of AppId 11 only
    foreign_group(service)
    # When they list their conversations in AppId 10 / Then nothing, as for a stranger
    for user in (OWNER, MEMBER, 30003):
        for data_type in (0, 1, 2):
            body = {
                "AppId": APP_ID,
                "ParticipantUserId": user,
                "Limit": 20,
                "DataType": data_type,
            }
            result = ok(service, "GetUserConversations", body)
            assert result == {"ConversationInfos": [], "HasMore": False, "NextCursor": -1}


def test_create_reuses_nothing_of_another_app(service: Service) -> None:
    # Given a group (with an IdempotentId) and a single chat in AppId 11
    group_body = {
        "AppId": OTHER_APP_ID,
        "OwnerUserId": OWNER,
        "IdempotentId": "shared-key",
        "ConversationCoreInfo": {"ConversationType": 2, "Name": "theirs"},
    }
    single_body = {
        "AppId": OTHER_APP_ID,
        "OwnerUserId": OWNER,
        "OtherUserId": MEMBER,
        "ConversationCoreInfo": {"ConversationType": 1},
    }
    theirs = [ok(service, "CreateConversation", body) for body in (group_body, single_body)]
    # When the same creates come for AppId 10
    ours = [
        ok(service, "CreateConversation", {**body, "AppId": APP_ID})
        for body in (group_body, single_body)
    ]
    # Then each creates a new conversation of AppId 10
    for mine, other in zip(ours, theirs, strict=True):
        assert mine["Exist"] is False
        assert mine["ConversationShortId"] != other["ConversationShortId"]
        assert mine["ConversationInfo"]["AppId"] == APP_ID
