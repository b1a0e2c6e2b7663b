"""Contract tests for DestroyConversation, on moto and on Amazon DynamoDB Local."""

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
    id_bodies,
    ok,
)
from tests.support.backends import Service

MEMBER = 20001


def test_the_owner_dissolves_a_group(service: Service) -> None:
    # Given a group of OWNER / When OWNER dissolves it
    short_id = create_group(service)["ConversationShortId"]
    response = destroy(service, short_id)
    # Then the answer is {}
    assert response.status == 200, response.payload
    assert response.payload["ResponseMetadata"]["Action"] == "DestroyConversation"
    assert response.result == {}


def test_a_string_owner_dissolves_a_group(service: Service) -> None:
    short_id = create_group(service, "alice")["ConversationShortId"]
    assert_error(destroy(service, short_id, "bob"), "OnlyOwnerCanOperator")
    assert destroy(service, short_id, "alice").status == 200
    assert destroy(service, short_id, "alice").status == 200


@pytest.mark.parametrize("conversation_type", [2, 100])
def test_only_the_owner_can_dissolve(service: Service, conversation_type: int) -> None:
    # Given a group of OWNER with MEMBER
    created = create_group(service, conversation_type=conversation_type)
    short_id = created["ConversationShortId"]
    add_members(service, short_id, [MEMBER])
    # When MEMBER, a stranger, or string "10001" tries / Then OnlyOwnerCanOperator, still there
    for user in (MEMBER, 30003, "10001"):
        assert_error(destroy(service, short_id, user), "OnlyOwnerCanOperator")
    body = {"AppId": APP_ID, "ConversationShortId": [short_id]}
    assert len(ok(service, "BatchGetConversations", body)["ConversationCoreInfos"]) == 1


def test_the_owner_after_a_transfer_dissolves_and_the_old_one_cannot(service: Service) -> None:
    short_id = create_group(service)["ConversationShortId"]
    add_members(service, short_id, [MEMBER])
    body = {
        "AppId": APP_ID,
        "ConversationCoreInfo": {"ConversationShortId": short_id, "OwnerUserId": MEMBER},
    }
    ok(service, "ModifyConversation", body)
    assert_error(destroy(service, short_id, OWNER), "OnlyOwnerCanOperator")
    assert destroy(service, short_id, MEMBER).status == 200


def test_a_single_chat_cannot_be_dissolved(service: Service) -> None:
    # Given a single chat / When either member dissolves it / Then SingleConversationNotSupport
    created = create_single(service, OWNER, 10002)
    short_id = created["ConversationShortId"]
    for user in (OWNER, 10002):
        assert_error(destroy(service, short_id, user), "SingleConversationNotSupport")
    body = {"AppId": APP_ID, "ConversationShortId": [short_id]}
    assert ok(service, "BatchGetConversations", body)["ConversationCoreInfos"] == [created]


def test_a_retry_by_the_owner_succeeds_and_anyone_else_is_not_found(service: Service) -> None:
    # Given a group that OWNER dissolved
    short_id = create_group(service)["ConversationShortId"]
    add_members(service, short_id, [MEMBER])
    assert destroy(service, short_id).status == 200
    # When OWNER dissolves it again / Then it succeeds again, {}
    again = destroy(service, short_id)
    assert (again.status, again.result) == (200, {})
    # When MEMBER (a former member) or a stranger tries / Then ConversationNotFound, with the
    # words of an id that never existed
    missing = destroy(service, 2**53 - 1)
    assert_error(missing, "ConversationNotFound")
    for user in (MEMBER, 30003):
        response = destroy(service, short_id, user)
        assert_error(response, "ConversationNotFound")
        assert response.error["Message"].replace(str(short_id), "<id>") == missing.error[
            "Message"
        ].replace(str(2**53 - 1), "<id>")


def test_a_dissolved_conversation_is_invisible_to_every_action(service: Service) -> None:
    # Given a group of OWNER with MEMBER, dissolved
    short_id = create_group(service)["ConversationShortId"]
    add_members(service, short_id, [MEMBER])
    assert destroy(service, short_id).status == 200
    # When every read and write names it
    # Then the batch read and the listings leave it out...
    body = {"AppId": APP_ID, "ConversationShortId": [short_id]}
    assert ok(service, "BatchGetConversations", body)["ConversationCoreInfos"] == []
    for user in (OWNER, MEMBER):
        for data_type in (0, 1):
            listing = ok(
                service,
                "GetUserConversations",
                {"AppId": APP_ID, "ParticipantUserId": user, "Limit": 20, "DataType": data_type},
            )
            assert listing == {"ConversationInfos": [], "HasMore": False, "NextCursor": -1}
    # ...and every action that names it alone is ConversationNotFound (the owner's destroy
    # retry aside, which succeeds)
    for action, request in id_bodies(short_id).items():
        response = call(service, action, request)
        if action == "DestroyConversation":
            assert response.status == 200
            continue
        assert_error(response, "ConversationNotFound")
        assert str(short_id) in response.error["Message"], action


@pytest.mark.parametrize("conversation_type", [2, 100])
def test_its_idempotent_id_creates_a_new_group(service: Service, conversation_type: int) -> None:
    # Given a group created with an IdempotentId, then dissolved
    body = {
        "AppId": APP_ID,
        "OwnerUserId": OWNER,
        "IdempotentId": "order-9",
        "ConversationCoreInfo": {"ConversationType": conversation_type, "Name": "first"},
    }
    first = ok(service, "CreateConversation", body)
    assert first["Exist"] is False
    assert ok(service, "CreateConversation", body)["Exist"] is True
    assert destroy(service, first["ConversationShortId"]).status == 200
    # When the same create comes again / Then a new conversation is created, and then found
    body["ConversationCoreInfo"]["Name"] = "second"
    second = ok(service, "CreateConversation", body)
    assert second["Exist"] is False
    assert second["ConversationShortId"] != first["ConversationShortId"]
    assert second["ConversationInfo"]["Name"] == "second"
    third = ok(service, "CreateConversation", body)
    assert (third["Exist"], third["ConversationShortId"]) == (True, second["ConversationShortId"])
    # And the old owner's destroy retry still succeeds, leaving the new one alone
    assert destroy(service, first["ConversationShortId"]).status == 200
    assert (
        ok(service, "CreateConversation", body)["ConversationShortId"]
        == (second["ConversationShortId"])
    )


def test_a_foreign_conversation_is_not_found_and_not_dissolved(service: Service) -> None:
    # Given a group of another AppId, owned by OWNER
    foreign = create_group(service, app_id=OTHER_APP_ID)
    # When OWNER dissolves it through AppId 10 / Then ConversationNotFound, and it stays
    assert_error(destroy(service, foreign["ConversationShortId"]), "ConversationNotFound")
    body = {"AppId": OTHER_APP_ID, "ConversationShortId": [foreign["ConversationShortId"]]}
    assert ok(service, "BatchGetConversations", body)["ConversationCoreInfos"] == [foreign]


@pytest.mark.parametrize(
    "body",
    [
        {"AppId": APP_ID, "OwnerUserId": OWNER},
        {"AppId": APP_ID, "ConversationShortId": 1},
        {"AppId": APP_ID, "ConversationShortId": 0, "OwnerUserId": OWNER},
        {"AppId": APP_ID, "ConversationShortId": 2**53, "OwnerUserId": OWNER},
        {"AppId": APP_ID, "ConversationShortId": "1", "OwnerUserId": OWNER},
        {"AppId": APP_ID, "ConversationShortId": 1, "OwnerUserId": 1, "OwnerUserIdStr": "a"},
    ],
    ids=["no-id", "no-owner", "id-0", "id-2^53", "id-string", "owner-twice"],
)
def test_bad_requests_are_invalid_param(service: Service, body: dict[str, Any]) -> None:
    assert_error(call(service, "DestroyConversation", body), "InvalidParam")


@pytest.mark.parametrize("with_idempotent_id", [False, True])
def test_a_destroy_takes_at_most_two_requests(service: Service, with_idempotent_id: bool) -> None:
    # Given a group with a member (created with or without an IdempotentId)
    body: dict[str, Any] = {
        "AppId": APP_ID,
        "OwnerUserId": OWNER,
        "ConversationCoreInfo": {"ConversationType": 2},
    }
    if with_idempotent_id:
        body["IdempotentId"] = "order-3"
    short_id = ok(service, "CreateConversation", body)["ConversationShortId"]
    add_members(service, short_id, [MEMBER])
    request = {"AppId": APP_ID, "ConversationShortId": short_id, "OwnerUserId": OWNER}
    # When it is dissolved, and the dissolve retried / Then each takes at most two requests
    for _ in range(2):
        response, operations = calls_made(service, "DestroyConversation", request)
        assert response.status == 200, response.payload
        assert 1 <= len(operations) <= 2, operations
