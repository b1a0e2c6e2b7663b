"""The table's layout: keys, indexes and item codecs. No DynamoDB calls here (store.py has them).

One table, composite key (`PK`, `SK`, both strings):

    item                 PK                                   SK
    conversation         C#<AppId>#<ConversationShortId>      C
    member               C#<AppId>#<ConversationShortId>      M#<user key>
    single-chat record   S#<AppId>#<InboxType>#<n>:<user key><user key>   S
    IdempotentId record  I#<AppId>#<InboxType>#<IdempotentId> I
    id claim             ID#<ConversationShortId>             ID
    rate counter         R#<epoch second>#<Action>#<caller>   R

A user key is `i<decimal>` for an integer user and `s<text>` for a string user. Every key ends
with the one part that is free text, or length-prefixes it (the single-chat pair: `n` is the first
user key's length in code points), so no `#` inside an id can make two keys equal.

Indexes:

    JoinIndex       LSI (PK, JoinNumber)      members in joining order, consistent reads
    StaffIndex      LSI (PK, StaffNumber)     owner and managers only (sparse)
    UserIndex       GSI (UserPK, UserSK)      U#<AppId>#<InboxType>#<user key> -> conversations
    OwnedLiveIndex  GSI (OwnedLivePK, UserSK) the live groups a user owns (sparse)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from handler.domain.model import LIVE_GROUP, ROLE_MEMBER, ROLE_OWNER, Conversation, Member
from handler.domain.ports import IdempotencyKey, SingleChatPair
from handler.domain.users import UserRef

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    Attribute = AttributeValueTypeDef
else:
    Attribute = dict

Item = Mapping[str, "AttributeValueTypeDef"]
Key = dict[str, "AttributeValueTypeDef"]

CONVERSATION_SK = "C"
MEMBER_SK_PREFIX = "M#"
JOIN_INDEX = "JoinIndex"
STAFF_INDEX = "StaffIndex"
USER_INDEX = "UserIndex"
OWNED_LIVE_INDEX = "OwnedLiveIndex"
# The table's TTL attribute (the template enables TTL on it): rate counters and dissolved
# conversations carry it.
TTL_ATTRIBUTE = "ExpiresAt"


def conversation_pk(app_id: int, short_id: int) -> str:
    return f"C#{app_id}#{short_id}"


def conversation_key(app_id: int, short_id: int) -> Key:
    return {"PK": {"S": conversation_pk(app_id, short_id)}, "SK": {"S": CONVERSATION_SK}}


def member_key(app_id: int, short_id: int, user: UserRef) -> Key:
    return {
        "PK": {"S": conversation_pk(app_id, short_id)},
        "SK": {"S": MEMBER_SK_PREFIX + user.key},
    }


def single_chat_key(pair: SingleChatPair) -> Key:
    first = pair.first.key
    pk = f"S#{pair.app_id}#{pair.inbox_type}#{len(first)}:{first}{pair.second.key}"
    return {"PK": {"S": pk}, "SK": {"S": "S"}}


def idempotency_key(key: IdempotencyKey) -> Key:
    pk = f"I#{key.app_id}#{key.inbox_type}#{key.idempotent_id}"
    return {"PK": {"S": pk}, "SK": {"S": "I"}}


def short_id_claim_key(short_id: int) -> Key:
    """The one item per ConversationShortId, whatever the AppId: ids are unique table-wide."""
    return {"PK": {"S": f"ID#{short_id}"}, "SK": {"S": "ID"}}


def rate_counter_key(caller: str, action: str, window: int) -> Key:
    return {"PK": {"S": f"R#{window}#{action}#{caller}"}, "SK": {"S": "R"}}


def user_partition(app_id: int, inbox_type: int, user: UserRef) -> str:
    return f"U#{app_id}#{inbox_type}#{user.key}"


def table_definition(table_name: str) -> dict[str, Any]:
    """CreateTable arguments for the layout above; template.yaml declares the same table."""

    def attribute(name: str, kind: str) -> dict[str, str]:
        return {"AttributeName": name, "AttributeType": kind}

    def key(partition: str, sort: str) -> list[dict[str, str]]:
        return [
            {"AttributeName": partition, "KeyType": "HASH"},
            {"AttributeName": sort, "KeyType": "RANGE"},
        ]

    return {
        "TableName": table_name,
        "AttributeDefinitions": [
            attribute("PK", "S"),
            attribute("SK", "S"),
            attribute("JoinNumber", "N"),
            attribute("StaffNumber", "N"),
            attribute("UserPK", "S"),
            attribute("UserSK", "N"),
            attribute("OwnedLivePK", "S"),
        ],
        "KeySchema": key("PK", "SK"),
        "LocalSecondaryIndexes": [
            {
                "IndexName": JOIN_INDEX,
                "KeySchema": key("PK", "JoinNumber"),
                "Projection": {"ProjectionType": "ALL"},
            },
            {
                "IndexName": STAFF_INDEX,
                "KeySchema": key("PK", "StaffNumber"),
                "Projection": {"ProjectionType": "ALL"},
            },
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": USER_INDEX,
                "KeySchema": key("UserPK", "UserSK"),
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
            {
                "IndexName": OWNED_LIVE_INDEX,
                "KeySchema": key("OwnedLivePK", "UserSK"),
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            },
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }


def _user(item: Item, name: str) -> UserRef:
    return UserRef.from_key(item[name]["S"])


def _ext(value: Mapping[str, str]) -> Attribute:
    return {"M": {key: {"S": text} for key, text in value.items()}}


def _decode_ext(item: Item) -> dict[str, str]:
    return {key: value["S"] for key, value in item["Ext"]["M"].items()}


def encode_conversation(conversation: Conversation) -> dict[str, Attribute]:
    item: dict[str, Attribute] = {
        **conversation_key(conversation.app_id, conversation.short_id),
        "Kind": {"S": "Conversation"},
        "ConversationShortId": {"N": str(conversation.short_id)},
        "AppId": {"N": str(conversation.app_id)},
        "InboxType": {"N": str(conversation.inbox_type)},
        "ConversationType": {"N": str(conversation.conversation_type)},
        "Owner": {"S": conversation.owner.key},
        "Creator": {"S": conversation.creator.key},
        "Name": {"S": conversation.name},
        "AvatarUrl": {"S": conversation.avatar_url},
        "Description": {"S": conversation.description},
        "Notice": {"S": conversation.notice},
        "Ext": _ext(conversation.ext),
        "Status": {"N": str(conversation.status)},
        "CreateTime": {"N": str(conversation.create_time)},
        "ModifyTime": {"N": str(conversation.modify_time)},
        "MemberCount": {"N": str(conversation.member_count)},
        "NextJoinNumber": {"N": str(conversation.next_join_number)},
        "OwnerJoinNumber": {"N": str(conversation.owner_join_number)},
    }
    if conversation.other is not None:
        item["Other"] = {"S": conversation.other.key}
    if conversation.idempotent_id is not None:
        item["IdempotentId"] = {"S": conversation.idempotent_id}
    return item


def decode_conversation(item: Item) -> Conversation:
    def number(name: str) -> int:
        return int(item[name]["N"])

    def text(name: str) -> str:
        return item[name]["S"]

    return Conversation(
        short_id=number("ConversationShortId"),
        app_id=number("AppId"),
        inbox_type=number("InboxType"),
        conversation_type=number("ConversationType"),
        owner=_user(item, "Owner"),
        creator=_user(item, "Creator"),
        other=_user(item, "Other") if "Other" in item else None,
        name=text("Name"),
        avatar_url=text("AvatarUrl"),
        description=text("Description"),
        notice=text("Notice"),
        ext=_decode_ext(item),
        status=number("Status"),
        create_time=number("CreateTime"),
        modify_time=number("ModifyTime"),
        member_count=number("MemberCount"),
        next_join_number=number("NextJoinNumber"),
        owner_join_number=number("OwnerJoinNumber"),
        idempotent_id=text("IdempotentId") if "IdempotentId" in item else None,
        dissolved_by=_user(item, "DissolvedBy") if "DissolvedBy" in item else None,
    )


def is_staff(role: int) -> bool:
    """Owner and managers: the members StaffIndex holds."""
    return role != ROLE_MEMBER


def owns_live_group(conversation: Conversation, role: int) -> bool:
    """The member OwnedLiveIndex holds: a live group's owner."""
    return role == ROLE_OWNER and conversation.conversation_type == LIVE_GROUP


def encode_member(conversation: Conversation, member: Member) -> dict[str, Attribute]:
    user_pk = user_partition(conversation.app_id, conversation.inbox_type, member.user)
    item: dict[str, Attribute] = {
        **member_key(conversation.app_id, conversation.short_id, member.user),
        "Kind": {"S": "Member"},
        "User": {"S": member.user.key},
        "Role": {"N": str(member.role)},
        "NickName": {"S": member.nick_name},
        "Level": {"N": str(member.level)},
        "Ext": _ext(member.ext),
        "Operator": {"S": member.operator.key},
        "CreateTime": {"N": str(member.create_time)},
        "BlockTime": {"N": str(member.block_time)},
        "ReadIndex": {"N": str(member.read_index)},
        "JoinNumber": {"N": str(member.join_number)},
        "UserPK": {"S": user_pk},
        "UserSK": {"N": str(conversation.short_id)},
    }
    if is_staff(member.role):
        item["StaffNumber"] = {"N": str(member.join_number)}
    if owns_live_group(conversation, member.role):
        item["OwnedLivePK"] = {"S": user_pk}
    return item


def decode_member(item: Item) -> Member:
    def number(name: str) -> int:
        return int(item[name]["N"])

    return Member(
        short_id=int(item["UserSK"]["N"]),
        user=_user(item, "User"),
        role=number("Role"),
        nick_name=item["NickName"]["S"],
        level=number("Level"),
        ext=_decode_ext(item),
        operator=_user(item, "Operator"),
        create_time=number("CreateTime"),
        block_time=number("BlockTime"),
        read_index=number("ReadIndex"),
        join_number=number("JoinNumber"),
    )


def short_id_of(pk: str) -> int:
    """The ConversationShortId in a conversation or member item's PK."""
    return int(pk.rsplit("#", 1)[1])


def encode_ext(value: Mapping[str, str]) -> Attribute:
    return _ext(value)
