"""The member actions called the way the member contract tests need them.

Built on tests/support/actions.py (`call`, `ok`): one function per member action, the reads
that check a change (a conversation, a member, a whole scan), a settable clock for ModifyTime
and CreateTime, and Ext maps of an exact compact-JSON size.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import pytest

from handler import app
from handler.domain.ids import Entropy
from handler.domain.members import MemberLimits
from tests.support.actions import APP_ID, OWNER, call, ok
from tests.support.backends import Response, Service
from tests.support.contract import CONTRACT_ERRORS

# The member object's fields (actions.md), as BatchGetConversationParticipant answers it.
PARTICIPANT_FIELDS = {
    "ConversationShortId", "ParticipantUserId", "Role", "NickName", "Level", "Ext", "AvatarUrl",
    "Operator", "CreateTime", "BlockTime", "Status",
}  # fmt: skip
# ScanConversationParticipantList's items also carry Marks (and the …Str twins where they apply).
SCANNED_FIELDS = PARTICIPANT_FIELDS | {"Marks"}
INT32_MAX = 2**31 - 1
# README section 5's table, every code with its HTTP status and CodeN.
ERRORS = CONTRACT_ERRORS


def infos(*users: int, **fields: Any) -> list[dict[str, Any]]:
    """ParticipantInfos naming `users`, each with the same extra `fields`."""
    return [{"ParticipantUserId": user, **fields} for user in users]


def add(
    service: Service,
    short_id: int,
    participant_infos: list[dict[str, Any]],
    *,
    app_id: int = APP_ID,
    operator: int = OWNER,
) -> Response:
    body = {
        "AppId": app_id,
        "ConversationShortId": short_id,
        "Operator": operator,
        "ParticipantInfos": participant_infos,
    }
    return call(service, "BatchAddConversationParticipant", body)


def delete(service: Service, short_id: int, users: list[int], *, app_id: int = APP_ID) -> Response:
    body = {
        "AppId": app_id,
        "ConversationShortId": short_id,
        "Operator": OWNER,
        "ParticipantUserIds": users,
    }
    return call(service, "BatchDeleteConversationParticipant", body)


def modify(
    service: Service,
    short_id: int,
    participant_infos: list[dict[str, Any]],
    *,
    app_id: int = APP_ID,
) -> Response:
    body = {
        "AppId": app_id,
        "ConversationShortId": short_id,
        "Operator": OWNER,
        "ParticipantInfos": participant_infos,
    }
    return call(service, "BatchModifyConversationParticipant", body)


def participants(
    service: Service, short_id: int, users: list[int], *, app_id: int = APP_ID
) -> list[dict[str, Any]]:
    """BatchGetConversationParticipant's Participants."""
    body = {"AppId": app_id, "ConversationShortId": short_id, "ParticipantUserIds": users}
    return list(ok(service, "BatchGetConversationParticipant", body)["Participants"])


def member(service: Service, short_id: int, user: int) -> dict[str, Any] | None:
    """One member as BatchGetConversationParticipant shows it, or None for a non-member."""
    found = participants(service, short_id, [user])
    assert len(found) <= 1
    return found[0] if found else None


def count(service: Service, short_id: int, *, app_id: int = APP_ID) -> int:
    body = {"AppId": app_id, "ConversationShortId": short_id}
    return int(ok(service, "GetConversationUserCount", body)["Count"])


def is_in(service: Service, short_id: int, user: int, *, app_id: int = APP_ID) -> bool:
    body = {"AppId": app_id, "ConversationShortId": short_id, "ParticipantUserId": user}
    answer = ok(service, "IsUserInConversation", body)["IsUserInConversation"]
    assert isinstance(answer, bool)
    return answer


def conversation(service: Service, short_id: int, *, app_id: int = APP_ID) -> dict[str, Any]:
    """The conversation as BatchGetConversations shows it now (it must exist)."""
    body = {"AppId": app_id, "ConversationShortId": [short_id]}
    found = ok(service, "BatchGetConversations", body)["ConversationCoreInfos"]
    assert len(found) == 1, found
    return dict(found[0])


def scan(service: Service, short_id: int, *, app_id: int = APP_ID, **options: Any) -> Response:
    body = {"AppId": app_id, "ConversationShortId": short_id, "Limit": 20, **options}
    return call(service, "ScanConversationParticipantList", body)


def scan_pages(service: Service, short_id: int, **options: Any) -> list[dict[str, Any]]:
    """Every page of a scan from the start, following NextCursor; each page's Result."""
    pages: list[dict[str, Any]] = []
    cursor = options.pop("Cursor", 0)
    while True:
        response = scan(service, short_id, Cursor=cursor, **options)
        assert response.status == 200, response.payload
        pages.append(response.result)
        if not response.result["HasMore"]:
            return pages
        assert len(pages) < 1000, "the scan does not end"
        cursor = response.result["NextCursor"]


def scanned_users(service: Service, short_id: int, **options: Any) -> list[int | str]:
    """Every member a scan lists, in its order: ParticipantUserIdStr for string users."""
    return [
        item.get("ParticipantUserIdStr") or item["ParticipantUserId"]
        for page in scan_pages(service, short_id, **options)
        for item in page["Participants"]
    ]


def user_conversation_ids(
    service: Service, user: int, *, data_type: int = 0, app_id: int = APP_ID
) -> list[int]:
    """Every conversation GetUserConversations lists for `user`, following NextCursor."""
    ids: list[int] = []
    cursor = 0
    while True:
        body = {
            "AppId": app_id,
            "ParticipantUserId": user,
            "Limit": 20,
            "Cursor": cursor,
            "DataType": data_type,
        }
        result = ok(service, "GetUserConversations", body)
        ids += [info["ConversationShortId"] for info in result["ConversationInfos"]]
        if not result["HasMore"]:
            return ids
        cursor = result["NextCursor"]


def stored_members(service: Service) -> dict[str, dict[str, Any]]:
    """The table's member items, by sort key (`M#<userkey>`), as DynamoDB holds them."""
    return {
        item["PK"]["S"] + "|" + item["SK"]["S"]: item
        for item in service.items()
        if item["SK"]["S"].startswith("M#")
    }


def table_snapshot(service: Service) -> list[dict[str, Any]]:
    """Every item of the table, in a fixed order: equal snapshots mean nothing was written."""
    return sorted(service.items(), key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


def ext_of_size(size: int) -> dict[str, str]:
    """An Ext map whose compact UTF-8 JSON is exactly `size` bytes (each value ≤ 1024)."""
    ext: dict[str, str] = {}
    index = 0
    while _json_size(ext) < size:
        key = f"k{index:02d}"
        index += 1
        base = _json_size({**ext, key: ""})
        ext[key] = "v" * min(1024, max(size - base, 0))
    assert _json_size(ext) == size, (size, _json_size(ext))
    return ext


def _json_size(value: Any) -> int:
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


@dataclass
class Clock:
    """The handler's clock, moved by the test: `advance(10)` makes every later write 10 s newer."""

    now_ms: int

    def read(self) -> int:
        self.now_ms += 1  # every read a millisecond on, so ids drawn in a row differ
        return self.now_ms

    def advance(self, seconds: int) -> None:
        self.now_ms += seconds * 1000


def use_clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Replace the handler's entropy with one whose clock the test moves (OS randomness kept)."""
    clock = Clock(now_ms=time.time_ns() // 1_000_000)
    monkeypatch.setattr(app, "entropy", Entropy(now_ms=clock.read, random_bits=secrets.randbits))
    return clock


def limit_members(monkeypatch: pytest.MonkeyPatch, *, group: int, live_group: int) -> None:
    """Lower the member limits the handler applies (settings GROUP_/LIVE_GROUP_MEMBER_LIMIT)."""
    monkeypatch.setattr(app, "member_limits", MemberLimits(group=group, live_group=live_group))
