"""The five create paths the benchmark measures, and the requests that drive them."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from typing import Any

APP_ID = 7
SINGLE_CHAT = 1
GROUP_CHAT = 2
# The pair and the IdempotentId that the existing-conversation paths ask for again and again.
EXISTING_PAIR = (1001, 1002)
EXISTING_IDEMPOTENT_ID = "bench-existing"
# New conversations draw their users from here up, two per request, so no two collide.
FIRST_NEW_USER_ID = 10_000_000


@dataclass(frozen=True)
class CreatePath:
    name: str
    label: str
    creates_new: bool


NEW_SINGLE_CHAT = CreatePath("new_single_chat", "new single chat", creates_new=True)
NEW_GROUP = CreatePath("new_group", "new group", creates_new=True)
NEW_GROUP_IDEMPOTENT = CreatePath(
    "new_group_idempotent", "new group + IdempotentId", creates_new=True
)
EXISTING_SINGLE_CHAT = CreatePath("existing_single_chat", "existing single chat", creates_new=False)
EXISTING_IDEMPOTENT = CreatePath("existing_idempotent", "existing IdempotentId", creates_new=False)
# The creates that make the existing-conversation paths find something; not measured.
SEED = CreatePath("seed", "seed", creates_new=True)
PATHS = (
    NEW_SINGLE_CHAT,
    NEW_GROUP,
    NEW_GROUP_IDEMPOTENT,
    EXISTING_SINGLE_CHAT,
    EXISTING_IDEMPOTENT,
)


class Bodies:
    """CreateConversation bodies; every call for a new conversation gets ids no other call used."""

    def __init__(self) -> None:
        self._serials: Iterator[int] = count()

    def for_path(self, path: CreatePath) -> dict[str, Any]:
        serial = next(self._serials)
        owner = FIRST_NEW_USER_ID + 2 * serial
        if path is NEW_SINGLE_CHAT:
            return _single_chat(owner, owner + 1)
        if path is NEW_GROUP:
            return _group(owner)
        if path is NEW_GROUP_IDEMPOTENT:
            return {**_group(owner), "IdempotentId": f"bench-{serial}"}
        if path is EXISTING_SINGLE_CHAT:
            # The pair in the other order: the member-order folding is part of what is measured.
            return _single_chat(EXISTING_PAIR[1], EXISTING_PAIR[0])
        # A client retrying its create: the same body again.
        return _existing_idempotent_group()

    @staticmethod
    def seeds() -> list[dict[str, Any]]:
        """The creates that make the existing-conversation paths find a conversation."""
        return [_single_chat(*EXISTING_PAIR), _existing_idempotent_group()]


def _existing_idempotent_group() -> dict[str, Any]:
    return {**_group(FIRST_NEW_USER_ID - 1), "IdempotentId": EXISTING_IDEMPOTENT_ID}


def _core(conversation_type: int, name: str) -> dict[str, Any]:
    # A typical create, shaped like the vendor's example: every text field set, a small Ext.
    return {
        "ConversationType": conversation_type,
        "Name": name,
        "AvatarUrl": "https://cdn.example.com/avatars/7f3a.png",
        "Description": "Weekly planning for the mobile team",
        "Notice": "Standup moves to 10:30 on Fridays",
        "Ext": {"source": "benchmark", "locale": "zh-CN"},
    }


def _single_chat(owner: int, other: int) -> dict[str, Any]:
    return {
        "AppId": APP_ID,
        "OwnerUserId": owner,
        "OtherUserId": other,
        "InboxType": 0,
        "ConversationCoreInfo": _core(SINGLE_CHAT, ""),
    }


def _group(owner: int) -> dict[str, Any]:
    return {
        "AppId": APP_ID,
        "OwnerUserId": owner,
        "InboxType": 0,
        "ConversationCoreInfo": _core(GROUP_CHAT, "Mobile team"),
    }


@dataclass(frozen=True)
class LambdaContext:
    """What the handlers read of Lambda's context: the request id and the time left."""

    aws_request_id: str = "bench"
    remaining_millis: int = 15_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


def api_gateway_event(body: dict[str, Any]) -> dict[str, Any]:
    """An HTTP API (payload 2.0) event, as API Gateway hands it to the function."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/",
        "rawQueryString": "Action=CreateConversation&Version=2020-12-01",
        "headers": {"content-type": "application/json", "host": "im.example.com"},
        "queryStringParameters": {"Action": "CreateConversation", "Version": "2020-12-01"},
        "requestContext": {
            "http": {"method": "POST", "path": "/"},
            "requestId": str(uuid.uuid4()),
        },
        "body": json.dumps(body, ensure_ascii=False),
        "isBase64Encoded": False,
    }
