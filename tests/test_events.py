"""Every sample event in events/ through the real handler, in the order a user would try them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.backends import Service

EVENTS = Path(__file__).resolve().parent.parent / "events"

# (file, HTTP status, Exist or error Code); files that depend on an earlier one come after it.
EXPECTED = [
    ("group.json", 200, False),
    ("group-base64-body.json", 200, False),
    ("rest-api-group.json", 200, False),
    ("live-group.json", 200, False),
    ("single-chat.json", 200, False),
    ("single-chat-again-reversed.json", 200, True),
    ("rest-api-single-chat-base64.json", 200, True),
    ("idempotent-create.json", 200, False),
    ("idempotent-reuse.json", 200, True),
    ("bad-malformed-json-vendor-example.json", 400, "InvalidParameter"),
    ("bad-missing-owner.json", 400, "MissingParameter"),
    ("bad-wrong-type-appid-string.json", 400, "InvalidParameter"),
    ("bad-conversation-type.json", 400, "InvalidParameter"),
    ("bad-single-chat-without-other-user.json", 400, "MissingParameter"),
    ("bad-method-get.json", 405, "MethodNotAllowed"),
    ("bad-action.json", 404, "InvalidActionOrVersion"),
    ("bad-missing-version.json", 400, "MissingParameter"),
    ("bad-body-too-large.json", 413, "RequestEntityTooLarge"),
]


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def test_every_event_file_has_an_expectation() -> None:
    assert sorted(path.name for path in EVENTS.glob("*.json")) == sorted(n for n, *_ in EXPECTED)


def test_events_in_sequence(service: Service) -> None:
    short_ids: dict[str, int] = {}
    for name, status, outcome in EXPECTED:
        # When the event is invoked / Then its status and outcome are as listed
        response = service.invoke(load(name))
        assert response.status == status, name
        if status == 200:
            assert response.result["Exist"] is outcome, name
            short_ids[name] = response.result["ConversationShortId"]
        else:
            assert response.error["Code"] == outcome, name
    # And repeats answered with the conversation that their first event created
    assert short_ids["single-chat-again-reversed.json"] == short_ids["single-chat.json"]
    assert short_ids["rest-api-single-chat-base64.json"] == short_ids["single-chat.json"]
    assert short_ids["idempotent-reuse.json"] == short_ids["idempotent-create.json"]
