"""What a scan of the table must show after any run: conversations and their records, nothing else.

A conversation and its uniqueness records are written together or not at all, so after any run,
whatever failed: every record names a stored conversation and carries its exact copy, every
single chat has its member-pair record, every conversation created with an IdempotentId has its
IdempotentId record, and no conversation is claimed by two records of one kind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

SINGLE_CHAT = "1"
# Attributes only the stored items carry; the rest is the conversation itself.
_STORAGE_ATTRIBUTES = {"PK", "Kind", "WriteToken"}


@dataclass
class TableAudit:
    conversations: dict[int, dict[str, Any]] = field(default_factory=dict)
    single_chat_records: dict[str, int] = field(default_factory=dict)
    idempotency_records: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def conversations_of_app(self, app_id: int) -> list[int]:
        return [
            short_id
            for short_id, item in self.conversations.items()
            if item["AppId"]["N"] == str(app_id)
        ]


def audit(items: Iterable[dict[str, Any]], *, idempotent_app_ids: Iterable[int] = ()) -> TableAudit:
    """Check the invariants above; `idempotent_app_ids` name apps whose every create carries an
    IdempotentId, so that there a conversation without its IdempotentId record is an orphan."""
    result = TableAudit()
    records = _sort_items(items, result)
    _check_records(records, result)
    _check_claims(result)
    _check_conversations(result, {str(app_id) for app_id in idempotent_app_ids})
    return result


def _sort_items(items: Iterable[dict[str, Any]], result: TableAudit) -> list[dict[str, Any]]:
    records = []
    for item in items:
        key = item["PK"]["S"]
        prefix = key.split("#", 1)[0]
        if prefix == "CONV":
            short_id = int(item["ConversationShortId"]["N"])
            if key != f"CONV#{short_id}" or item.get("Kind", {}).get("S") != "Conversation":
                result.problems.append(f"{key}: key or kind does not match the conversation")
            result.conversations[short_id] = item
        elif prefix in {"SINGLE", "IDEM"}:
            records.append(item)
        else:
            result.problems.append(f"{key}: not an item this service writes")
    return records


def _check_records(records: list[dict[str, Any]], result: TableAudit) -> None:
    for item in records:
        key = item["PK"]["S"]
        short_id = int(item["ConversationShortId"]["N"])
        is_single = key.startswith("SINGLE#")
        target = result.single_chat_records if is_single else result.idempotency_records
        target[key] = short_id
        conversation = result.conversations.get(short_id)
        if conversation is None:
            result.problems.append(f"{key}: orphan record, conversation {short_id} is missing")
        elif _payload(conversation) != _payload(item):
            result.problems.append(f"{key}: copy differs from conversation {short_id}")
        elif is_single and key != single_chat_key(conversation):
            result.problems.append(f"{key}: names another member pair than {short_id}")


def _check_claims(result: TableAudit) -> None:
    for kind, claims in (
        ("single-chat", Counter(result.single_chat_records.values())),
        ("IdempotentId", Counter(result.idempotency_records.values())),
    ):
        result.problems.extend(
            f"conversation {short_id} is claimed by {count} {kind} records"
            for short_id, count in claims.items()
            if count > 1
        )


def _check_conversations(result: TableAudit, idempotent_apps: set[str]) -> None:
    single_chats_recorded = set(result.single_chat_records.values())
    idempotent_recorded = set(result.idempotency_records.values())
    for short_id, conversation in result.conversations.items():
        is_single = conversation["ConversationType"]["N"] == SINGLE_CHAT
        if is_single and short_id not in single_chats_recorded:
            result.problems.append(f"conversation {short_id}: single chat without its record")
        if not is_single and short_id in single_chats_recorded:
            result.problems.append(f"conversation {short_id}: group with a single-chat record")
        if conversation["AppId"]["N"] in idempotent_apps and short_id not in idempotent_recorded:
            result.problems.append(f"conversation {short_id}: without its IdempotentId record")


def single_chat_key(conversation: dict[str, Any]) -> str:
    low, high = sorted(int(conversation[name]["N"]) for name in ("OwnerUserId", "OtherUserId"))
    app_id, inbox_type = conversation["AppId"]["N"], conversation["InboxType"]["N"]
    return f"SINGLE#{app_id}#{inbox_type}#{low}#{high}"


def _payload(item: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if name not in _STORAGE_ATTRIBUTES}
