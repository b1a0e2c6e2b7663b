"""What a scan of the table must show after any run: conversations, their members and records.

A create writes a conversation, its members and its uniqueness records together or not at all;
a member change moves the conversation's MemberCount with its member items in one transaction;
a dissolve releases the IdempotentId record with the status change. So after any run, whatever
failed:

- every item is one the service writes (conversation, member, single-chat or IdempotentId
  record, rate counter), under the key its contents say;
- every live conversation's MemberCount equals its member items, and no member item lies under
  a conversation that does not exist (a dissolved one's members wait for the reaper);
- every record references a live conversation of its app by ConversationShortId and carries
  that create's WriteToken; a single-chat record names the conversation's own pair, an
  IdempotentId record its own IdempotentId;
- every live single chat has its pair's record, every live conversation created with an
  IdempotentId its IdempotentId record, and no conversation is claimed by two records of a kind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from handler.domain.ports import IdempotencyKey, SingleChatPair
from handler.domain.users import UserRef
from handler.table import conversation_pk, idempotency_key, single_chat_key

SINGLE_CHAT = "1"
STATUS_NORMAL = "0"


@dataclass
class TableAudit:
    # short_id -> the conversation item (live or dissolved)
    conversations: dict[int, dict[str, Any]] = field(default_factory=dict)
    # short_id -> the user keys of its member items
    members: dict[int, list[str]] = field(default_factory=dict)
    single_chat_records: dict[str, int] = field(default_factory=dict)
    idempotency_records: dict[str, int] = field(default_factory=dict)
    # short_id -> the WriteToken of its id claim (ID#<short_id>)
    id_claims: dict[int, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def conversations_of_app(self, app_id: int) -> list[int]:
        return [
            short_id
            for short_id, item in self.conversations.items()
            if item["AppId"]["N"] == str(app_id)
        ]

    def live(self) -> list[int]:
        return [
            short_id
            for short_id, item in self.conversations.items()
            if item["Status"]["N"] == STATUS_NORMAL
        ]


def audit(items: Iterable[dict[str, Any]], *, idempotent_app_ids: Iterable[int] = ()) -> TableAudit:
    """Check the invariants above; `idempotent_app_ids` name apps whose every create carries an
    IdempotentId, so that there a conversation without one is a create that lost it."""
    result = TableAudit()
    records, member_items = _sort_items(items, result)
    _check_members(member_items, result)
    _check_records(records, result)
    _check_claims(result)
    _check_conversations(result, {str(app_id) for app_id in idempotent_app_ids})
    return result


def _sort_items(
    items: Iterable[dict[str, Any]], result: TableAudit
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    records, members = [], []
    for item in items:
        pk, sk = item["PK"]["S"], item["SK"]["S"]
        kind = item.get("Kind", {}).get("S")
        if sk == "C" and kind == "Conversation" and "ConversationShortId" in item:
            short_id = int(item["ConversationShortId"]["N"])
            app_id = int(item["AppId"]["N"])
            if pk != conversation_pk(app_id, short_id):
                result.problems.append(f"{pk}: key or kind does not match the conversation")
            if short_id in result.conversations:
                result.problems.append(f"{pk}: ConversationShortId {short_id} is used twice")
            result.conversations[short_id] = item
        elif sk.startswith("M#") and pk.startswith("C#"):
            if kind != "Member" or item["User"]["S"] != sk[2:]:
                result.problems.append(f"{pk} {sk}: key or kind does not match the member")
            members.append(item)
        elif (sk, pk[:2]) in {("S", "S#"), ("I", "I#")} and kind == "Record":
            records.append(item)
        elif (sk, pk[:3]) == ("ID", "ID#") and kind == "IdClaim":
            result.id_claims[int(pk[3:])] = item.get("WriteToken", {}).get("S", "")
        elif (sk, pk[:2]) == ("R", "R#"):
            continue  # a rate counter: not the conversations' business
        else:
            result.problems.append(f"{pk} {sk}: not an item this service writes")
    return records, members


def _check_members(members: list[dict[str, Any]], result: TableAudit) -> None:
    by_pk = {
        conversation_pk(int(item["AppId"]["N"]), short_id): short_id
        for short_id, item in result.conversations.items()
    }
    for item in members:
        pk = item["PK"]["S"]
        short_id = by_pk.get(pk)
        if short_id is None:
            result.problems.append(f"{pk} {item['SK']['S']}: orphan member, no conversation")
            continue
        if int(item["UserSK"]["N"]) != short_id:
            result.problems.append(f"{pk} {item['SK']['S']}: indexed under another conversation")
        result.members.setdefault(short_id, []).append(item["User"]["S"])
    for short_id in result.live():
        counted = int(result.conversations[short_id]["MemberCount"]["N"])
        stored = len(result.members.get(short_id, []))
        if counted != stored:
            result.problems.append(
                f"conversation {short_id}: MemberCount {counted} but {stored} member items"
            )


def _check_records(records: list[dict[str, Any]], result: TableAudit) -> None:
    for item in records:
        key = item["PK"]["S"]
        short_id = int(item["ConversationShortId"]["N"])
        is_single = key.startswith("S#")
        target = result.single_chat_records if is_single else result.idempotency_records
        target[key] = short_id
        conversation = result.conversations.get(short_id)
        if conversation is None:
            result.problems.append(f"{key}: orphan record, conversation {short_id} is missing")
            continue
        if conversation["Status"]["N"] != STATUS_NORMAL:
            result.problems.append(f"{key}: names conversation {short_id}, which is dissolved")
        if item.get("WriteToken") != conversation.get("WriteToken"):
            result.problems.append(f"{key}: written by another create than {short_id}")
        expected = (
            single_chat_record_key(conversation) if is_single else idempotency_of(conversation)
        )
        if key != expected:
            what = "member pair" if is_single else "IdempotentId"
            result.problems.append(f"{key}: names another {what} than {short_id}")


def _check_claims(result: TableAudit) -> None:
    # Every conversation holds the claim of its id, written by the same create; no claim is
    # left without its conversation (a half-written create would leave one).
    for short_id, conversation in result.conversations.items():
        token = conversation.get("WriteToken", {}).get("S")
        if result.id_claims.get(short_id) != token:
            result.problems.append(f"conversation {short_id}: its id claim is missing or foreign")
    result.problems.extend(
        f"ID#{short_id}: an id claim without its conversation"
        for short_id in result.id_claims.keys() - result.conversations.keys()
    )
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
    for short_id in result.live():
        conversation = result.conversations[short_id]
        is_single = conversation["ConversationType"]["N"] == SINGLE_CHAT
        if is_single and short_id not in single_chats_recorded:
            result.problems.append(f"conversation {short_id}: single chat without its record")
        if not is_single and short_id in single_chats_recorded:
            result.problems.append(f"conversation {short_id}: group with a single-chat record")
        has_id = "IdempotentId" in conversation
        if has_id and short_id not in idempotent_recorded:
            result.problems.append(f"conversation {short_id}: without its IdempotentId record")
        if conversation["AppId"]["N"] in idempotent_apps and not has_id:
            result.problems.append(f"conversation {short_id}: created without its IdempotentId")


def single_chat_record_key(conversation: dict[str, Any]) -> str | None:
    """The PK of the single-chat record a conversation item's pair has, if it is a single chat."""
    if "Other" not in conversation:
        return None
    pair = SingleChatPair.of(
        int(conversation["AppId"]["N"]),
        int(conversation["InboxType"]["N"]),
        UserRef.from_key(conversation["Creator"]["S"]),
        UserRef.from_key(conversation["Other"]["S"]),
    )
    return single_chat_key(pair)["PK"]["S"]


def idempotency_of(conversation: dict[str, Any]) -> str | None:
    """The PK of the IdempotentId record of a conversation item created with one."""
    if "IdempotentId" not in conversation:
        return None
    key = IdempotencyKey(
        int(conversation["AppId"]["N"]),
        int(conversation["InboxType"]["N"]),
        conversation["IdempotentId"]["S"],
    )
    return idempotency_key(key)["PK"]["S"]
