"""Every sample event in events/ through the real handler, in the order a user would try them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from handler import api
from tests.support.backends import Service

EVENTS = Path(__file__).resolve().parent.parent / "events"

# (file, HTTP status, outcome), in the order they run; files that depend on an earlier one come
# after it. The outcome is Exist for a create, the error Code for a refusal, else the Result's keys.
# Events naming one conversation by id carry an id no table holds (the ids are random), so on an
# empty table they answer ConversationNotFound, as their names say.
EXPECTED: list[tuple[str, int, bool | str | set[str]]] = [
    ("group.json", 200, False),
    ("group-base64-body.json", 200, False),
    ("rest-api-group.json", 200, False),
    ("live-group.json", 200, False),
    ("single-chat.json", 200, False),
    ("single-chat-again-reversed.json", 200, True),
    ("rest-api-single-chat-base64.json", 200, True),
    ("idempotent-create.json", 200, False),
    ("idempotent-reuse.json", 200, True),
    ("create-conversation.json", 200, False),
    ("batch-get-conversations.json", 200, {"ConversationCoreInfos"}),
    ("get-user-conversations.json", 200, {"ConversationInfos", "HasMore", "NextCursor"}),
    ("modify-conversation-not-found.json", 404, "ConversationNotFound"),
    ("destroy-conversation-not-found.json", 404, "ConversationNotFound"),
    ("batch-add-conversation-participant-not-found.json", 404, "ConversationNotFound"),
    ("batch-delete-conversation-participant-not-found.json", 404, "ConversationNotFound"),
    ("batch-get-conversation-participant-not-found.json", 404, "ConversationNotFound"),
    ("batch-modify-conversation-participant-not-found.json", 404, "ConversationNotFound"),
    ("scan-conversation-participant-list-not-found.json", 404, "ConversationNotFound"),
    ("get-conversation-user-count-not-found.json", 404, "ConversationNotFound"),
    ("is-user-in-conversation-not-found.json", 404, "ConversationNotFound"),
    ("bad-malformed-json-vendor-example.json", 400, "JsonParsingError"),
    ("bad-missing-owner.json", 400, "InvalidParam"),
    ("bad-wrong-type-appid-string.json", 400, "InvalidParam"),
    ("bad-conversation-type.json", 400, "InvalidParam"),
    ("bad-single-chat-without-other-user.json", 400, "InvalidParam"),
    ("bad-method-get.json", 405, "MethodNotAllowed"),
    ("bad-action.json", 404, "InvalidActionOrVersion"),
    ("bad-missing-version.json", 400, "MissingParameter"),
    ("bad-body-too-large.json", 413, "RequestEntityTooLarge"),
]


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def test_every_event_file_has_an_expectation() -> None:
    assert sorted(path.name for path in EVENTS.glob("*.json")) == sorted(n for n, *_ in EXPECTED)


def test_every_action_has_an_event() -> None:
    actions = {load(name)["queryStringParameters"].get("Action") for name, *_ in EXPECTED}
    assert set(api.action_names()) <= actions


def test_events_in_sequence(service: Service) -> None:
    results: dict[str, dict[str, Any]] = {}
    for name, status, outcome in EXPECTED:
        # When the event is invoked / Then its status and outcome are as listed
        event = load(name)
        response = service.invoke(event)
        assert response.status == status, (name, response.payload)
        action = (event.get("queryStringParameters") or {}).get("Action")
        assert response.payload["ResponseMetadata"]["Action"] == action, name
        if status != 200:
            assert response.error["Code"] == outcome, name
            continue
        results[name] = response.result
        if action == "CreateConversation":
            assert response.result["Exist"] is outcome, name
        else:
            assert set(response.result) == outcome, name
    created = {
        name: result["ConversationShortId"]
        for name, result in results.items()
        if "ConversationShortId" in result
    }
    # And repeats answered with the conversation that their first event created
    assert created["single-chat-again-reversed.json"] == created["single-chat.json"]
    assert created["rest-api-single-chat-base64.json"] == created["single-chat.json"]
    assert created["idempotent-reuse.json"] == created["idempotent-create.json"]
    # And the batch read of ids no create issued finds nothing
    assert results["batch-get-conversations.json"]["ConversationCoreInfos"] == []
    # And user 10001, a member of every conversation the creates made, lists them newest first
    listing = results["get-user-conversations.json"]
    assert [info["ConversationShortId"] for info in listing["ConversationInfos"]] == sorted(
        set(created.values()), reverse=True
    )
    assert (listing["HasMore"], listing["NextCursor"]) == (False, -1)
